"""The 1022 citizen feedback hotline: the category tree, the intake every channel shares, Open311 GeoReport v2.

A report is a case of the shared engine (workflow ``feedback_report``). Modules: ``models``
(tables), ``schemas``, ``categories`` (the tree, deadlines, extra questions), ``intake`` (the
checks every channel applies), ``reports`` (submitting and reading), ``triage`` (categorising
reports filed without a category), ``suggest`` (the classifier's suggestion), ``geo`` (the ward
of a point), ``open311`` and ``open311_format`` (GeoReport v2), ``categories_api`` and
``reports_api`` (``/api/v1``), ``demo`` (the demo tree), ``routing`` with ``routing_schemas``,
``routing_api`` and ``routing_pages`` (the ordered routing rules), ``reassign`` (giving a report
to another agency with a reason), ``retention`` and ``retention_cli`` (anonymising reporters
after the retention period), ``channels`` (SMS, chat and e-mail messages → reports or follow-ups,
answered through the outbox) with ``channel_models``, ``channel_text``, ``channel_errors``,
``gateway_api`` (the signed webhook of SMS and chat providers), ``mail_parse``, ``mail_listener``
and ``mail_cli`` (the SMTP listener).
"""
