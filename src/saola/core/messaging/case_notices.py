"""Notices to citizens of the PUBLIC status changes of their cases (1022 reports and dossiers).

A listener on the session's ``before_commit`` reads the ``case.transitioned`` events the case
engine queued in this transaction and writes the outbox rows in the SAME transaction: a move
that rolls back notifies no one, a committed one is never lost. Each workflow maps its statuses
to public ones (:data:`PUBLIC_STATUS`); a move whose public status does not change (triage,
assignment inside an agency, hold...) is internal and sends nothing. The reporter's or
applicant's e-mail gets a mail, their phone an SMS, in Vietnamese unless their language is
known, with the tracking code and the public lookup link (the link's address is
``public_url``, added when the message is rendered for delivery).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from saola.core.i18n import LANGUAGES, gettext
from saola.core.messaging.outbox import enqueue

CASE_TRANSITIONED = "case.transitioned"  # saola.cases.events.CASE_TRANSITIONED (not imported: core stays below cases)
TEMPLATE = "case_status"

PUBLIC_STATUS: dict[str, dict[str, str]] = {
    "feedback_report": {
        "received": "received", "triaged": "received", "forwarded": "received",
        "assigned": "in_progress", "in_progress": "in_progress", "on_hold": "in_progress",
        "reopened": "in_progress", "resolved": "resolved", "closed": "resolved", "rejected": "rejected",
    },
    "admin_dossier": {
        "received": "received", "supplement_requested": "supplement_requested", "in_processing": "in_processing",
        "extended": "extended", "result_ready": "result_ready", "returned": "returned", "refused": "refused",
        "stopped": "stopped",
    },
}

LABELS: dict[str, dict[str, str]] = {
    "vi": {"received": "Đã tiếp nhận", "in_progress": "Đang xử lý", "resolved": "Đã xử lý xong",
           "rejected": "Từ chối", "supplement_requested": "Yêu cầu bổ sung", "in_processing": "Đang giải quyết",
           "extended": "Gia hạn (hẹn lại ngày trả kết quả)", "result_ready": "Đã có kết quả",
           "returned": "Đã trả kết quả", "refused": "Từ chối giải quyết", "stopped": "Dừng xử lý"},
    "en": {"received": "Received", "in_progress": "Being handled", "resolved": "Resolved", "rejected": "Rejected",
           "supplement_requested": "Supplement requested", "in_processing": "Being processed",
           "extended": "Extended (new appointment date)", "result_ready": "Result ready",
           "returned": "Result returned", "refused": "Refused", "stopped": "Processing stopped"},
}

SUBJECTS = {"feedback_report": "Your report {code}: {status}", "admin_dossier": "Your dossier {code}: {status}"}
BODIES = {
    "feedback_report": "Your report {code} is now: {status}.\nFollow it with its tracking code at {link}",
    "admin_dossier": "Your dossier {code} is now: {status}.\nFollow it with its code at {link}",
}


def public_status(case_type: str, status: str) -> str | None:
    return PUBLIC_STATUS.get(case_type, {}).get(status)


def is_public_change(case_type: str, from_status: str, to_status: str) -> bool:
    """True when the citizen sees a different status after the move."""
    before, after = public_status(case_type, from_status), public_status(case_type, to_status)
    return after is not None and before != after


def lookup_path(case_type: str, code: str) -> str:
    if case_type == "admin_dossier":
        return f"/portal/dossiers/lookup?code={quote(code)}"
    return f"/feedback/track?code={quote(code)}"


def render(data: dict[str, Any], lang: str, channel: str, public_url: str) -> tuple[str, str]:
    """Subject and body of a case notice from its stored ``data``, in ``lang``, links under ``public_url``."""
    lang = lang if lang in LANGUAGES else "vi"
    case_type, code = data["case_type"], data["code"]
    status = LABELS[lang].get(data["public_status"], data["public_status"])
    link = public_url.rstrip("/") + lookup_path(case_type, code)
    subject = gettext(lang, SUBJECTS[case_type], code=code, status=status)
    if channel == "sms":
        return "", f"{subject}. {link}"
    return subject, gettext(lang, BODIES[case_type], code=code, status=status, link=link)


def _contacts(session: Session, case_type: str, case_id: int) -> tuple[str, str, str]:
    """E-mail, phone and language of the citizen behind case ``case_id`` (empty when unknown)."""
    if case_type == "feedback_report":
        from saola.feedback.models import FeedbackReport, FeedbackReporter

        row = session.execute(select(FeedbackReporter.email, FeedbackReporter.phone)
                              .join(FeedbackReport, FeedbackReport.id == FeedbackReporter.report_id)
                              .where(FeedbackReport.case_id == case_id)).first()
    elif case_type == "admin_dossier":
        from saola.egov.models import Dossier

        row = session.execute(select(Dossier.applicant_email, Dossier.applicant_phone)
                              .where(Dossier.case_id == case_id)).first()
    else:
        row = None
    if row is None:
        return "", "", "vi"
    return (row[0] or "").strip(), (row[1] or "").strip(), "vi"


def queue_case_notices(session: Session, payload: dict[str, Any]) -> int:
    """Write the outbox rows for one ``case.transitioned`` payload; how many were written."""
    case_type = str(payload.get("case_type", ""))
    from_status, to_status = str(payload.get("from_status", "")), str(payload.get("to_status", ""))
    if not is_public_change(case_type, from_status, to_status):
        return 0
    email, phone, lang = _contacts(session, case_type, int(payload["case_id"]))
    data = {"template": TEMPLATE, "case_type": case_type, "code": payload["code"],
            "public_status": public_status(case_type, to_status), "case_id": payload["case_id"]}
    source = f"case:{payload['case_id']}"
    written = 0
    for channel, recipient in (("email", email), ("sms", phone)):
        if recipient:
            subject, body = render(data, lang, channel, "")
            enqueue(session, channel=channel, recipient=recipient, subject=subject, body=body, lang=lang,
                    source=source, data=data)
            written += 1
    return written


@event.listens_for(Session, "before_commit")
def _notify_before_commit(session: Session) -> None:
    done: set[int] = session.info.setdefault("messaging_seen", set())
    for topic, payload in session.info.get("pending_events", []):
        if topic == CASE_TRANSITIONED and id(payload) not in done:
            done.add(id(payload))
            queue_case_notices(session, payload)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_seen(session: Session) -> None:
    session.info.pop("messaging_seen", None)
