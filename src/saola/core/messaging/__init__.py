"""Outbound messaging: e-mail and SMS to citizens through pluggable gateways, via a durable outbox.

``backends`` holds the senders (SMTP, HTTP SMS gateway, log) behind typed protocols chosen in
settings; ``outbox`` writes messages in the caller's transaction and delivers them after commit
with retries; ``case_notices`` turns public status changes of cases into messages; ``staff_notices``
renders the deadline reminders and escalations the case engine sends to staff; ``worker`` is
the background task of the app; ``api`` shows the outbox to administrators.
"""
