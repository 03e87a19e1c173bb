"""E-mail notices to STAFF about the deadlines of their cases: reminders and escalations.

The case engine (:mod:`saola.cases.reminders`) queues them in the outbox with ``data`` holding
the template name :data:`TEMPLATE`, the notice (``due_soon`` | ``overdue`` | ``escalation``),
the case's code, title, deadline (ISO 8601), how long it is overdue in office hours and the
console path of the case; :func:`render` turns that into the subject and body in the staff
member's language (Vietnamese unless they chose English), the link under ``public_url``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from saola.core.i18n import LANGUAGES, format_dt, format_number, gettext

TEMPLATE = "case_staff_notice"

SUBJECTS = {
    "due_soon": "Case {code} is due soon ({deadline})",
    "overdue": "Case {code} is overdue (deadline {deadline})",
    "escalation": "Escalation: case {code} is overdue by {hours} office hours",
}
BODIES = {
    "due_soon": "Case {code} \"{title}\" is due at {deadline}, less than one working day from now.\n"
                "Open it in the console: {link}",
    "overdue": "Case {code} \"{title}\" passed its deadline of {deadline} and is not finished.\n"
               "Open it in the console: {link}",
    "escalation": "Case {code} \"{title}\" of {agency} passed its deadline of {deadline} and is overdue by "
                  "{hours} office hours. It is escalated to you ({level}).\nOpen it in the console: {link}",
}
LEVELS = {"agency-head": "head of the owning agency", "leadership": "leadership"}


def render(data: dict[str, Any], lang: str, public_url: str, tz: str = "Asia/Ho_Chi_Minh") -> tuple[str, str]:
    """Subject and body of a staff notice from its stored ``data``, in ``lang``, links under ``public_url``."""
    lang = lang if lang in LANGUAGES else "vi"
    notice = str(data["notice"])
    deadline = format_dt(datetime.fromisoformat(str(data["deadline_at"])), lang, tz)
    hours = format_number(float(data.get("overdue_hours", 0.0)), lang, 1)
    level = str(data.get("level", ""))
    params = {"code": data["code"], "title": data.get("title", ""), "deadline": deadline, "hours": hours,
              "agency": data.get("agency", ""), "level": gettext(lang, LEVELS.get(level, level)) if level else "",
              "link": public_url.rstrip("/") + str(data["path"])}
    return gettext(lang, SUBJECTS[notice], **params), gettext(lang, BODIES[notice], **params)
