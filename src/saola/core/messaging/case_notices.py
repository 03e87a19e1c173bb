"""Notices to citizens of the PUBLIC status changes of their cases (1022 reports and dossiers).

A listener on the session's ``before_commit`` reads the ``case.transitioned`` events the case
engine queued in this transaction and writes the outbox rows in the SAME transaction: a move
that rolls back notifies no one, a committed one is never lost. Each workflow maps its statuses
to public ones (:data:`PUBLIC_STATUS`); a move whose public status does not change (triage,
assignment inside an agency, hold...) is internal and sends nothing. The reporters of 1022 reports
merged into the one that moved are told too, naming their own report and the one kept; the mail
announcing a resolved report carries its public answer. The reporter's or
applicant's e-mail gets a mail, their phone an SMS (and a reporter who wrote through a chat
gateway a chat message back through that provider), in Vietnamese unless their language is
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
# To the reporter of a report merged into the one that moved (``merged_code`` is their own report's code).
MERGED_SUBJECT = "Your report {merged_code}, merged into {code}: {status}"
MERGED_BODY = ("Your report {merged_code} was merged into report {code}, which is now: {status}.\n"
               "Follow it with its tracking code at {link}")
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
    merged = data.get("merged_code")
    subject = (gettext(lang, MERGED_SUBJECT, merged_code=merged, code=code, status=status) if merged
               else gettext(lang, SUBJECTS[case_type], code=code, status=status))
    if channel in ("sms", "gateway"):  # a text message: the subject and the link
        return "", f"{subject}. {link}"
    body = (gettext(lang, MERGED_BODY, merged_code=merged, code=code, status=status, link=link) if merged
            else gettext(lang, BODIES[case_type], code=code, status=status, link=link))
    if data.get("answer"):  # a resolved 1022 report: its public answer, in the mail only
        body += "\n\n" + gettext(lang, "The answer: {answer}", answer=data["answer"])
    return subject, body


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


def _chat_recipient(session: Session, case_type: str, case_id: int) -> tuple[str, str] | None:
    """(provider, chat user id) of a report that came by a chat gateway (``account_id`` is ``provider:user``)."""
    if case_type != "feedback_report":
        return None
    from saola.feedback.models import FeedbackReport, FeedbackReporter

    account = session.scalar(select(FeedbackReporter.account_id)
                             .join(FeedbackReport, FeedbackReport.id == FeedbackReporter.report_id)
                             .where(FeedbackReport.case_id == case_id, FeedbackReport.channel == "chat"))
    provider, _, user_id = (account or "").partition(":")
    return (provider, user_id) if provider and user_id else None


def _merged_contacts(session: Session, case_type: str, case_id: int) -> list[tuple[str, str, str]]:
    """E-mail, phone and own tracking code of the reporters of reports merged into case ``case_id``."""
    if case_type != "feedback_report":
        return []
    from saola.cases.models import Case
    from saola.feedback.models import FeedbackReport, FeedbackReporter

    rows = session.execute(select(FeedbackReporter.email, FeedbackReporter.phone, Case.code)
                           .join(FeedbackReport, FeedbackReport.id == FeedbackReporter.report_id)
                           .join(Case, Case.id == FeedbackReport.case_id)
                           .where(FeedbackReport.merged_into_case_id == case_id).order_by(FeedbackReport.id))
    return [((email or "").strip(), (phone or "").strip(), code) for email, phone, code in rows]


def _answer(session: Session, case_type: str, case_id: int, public: str | None) -> str:
    """The public answer of a resolved 1022 report (phone numbers and e-mail addresses masked), else ``""``."""
    if case_type != "feedback_report" or public != "resolved":
        return ""
    from saola.cases.models import Case
    from saola.feedback.reports import redact

    return redact((session.scalar(select(Case.resolution).where(Case.id == case_id)) or "").strip())[:2000]


def queue_case_notices(session: Session, payload: dict[str, Any]) -> int:
    """Write the outbox rows for one ``case.transitioned`` payload; how many were written."""
    case_type = str(payload.get("case_type", ""))
    from_status, to_status = str(payload.get("from_status", "")), str(payload.get("to_status", ""))
    if not is_public_change(case_type, from_status, to_status):
        return 0
    email, phone, lang = _contacts(session, case_type, int(payload["case_id"]))
    data = {"template": TEMPLATE, "case_type": case_type, "code": payload["code"],
            "public_status": public_status(case_type, to_status), "case_id": payload["case_id"]}
    answer = _answer(session, case_type, int(payload["case_id"]), data["public_status"])
    if answer:
        data["answer"] = answer
    source = f"case:{payload['case_id']}"
    written = 0
    for channel, recipient in (("email", email), ("sms", phone)):
        if recipient:
            subject, body = render(data, lang, channel, "")
            enqueue(session, channel=channel, recipient=recipient, subject=subject, body=body, lang=lang,
                    source=source, data=data)
            written += 1
    told = {email, phone} - {""}
    for merged_email, merged_phone, merged_code in _merged_contacts(session, case_type, int(payload["case_id"])):
        merged = {**data, "merged_code": merged_code}
        for channel, recipient in (("email", merged_email), ("sms", merged_phone)):
            if recipient and recipient not in told:  # one notice per person, even if they reported twice
                told.add(recipient)
                subject, body = render(merged, lang, channel, "")
                enqueue(session, channel=channel, recipient=recipient, subject=subject, body=body, lang=lang,
                        source=source, data=merged)
                written += 1
    chat = _chat_recipient(session, case_type, int(payload["case_id"]))
    if chat is not None:  # back through the chat provider the report came by
        subject, body = render(data, lang, "gateway", "")
        enqueue(session, channel="gateway", recipient=chat[1], subject=subject, body=body, lang=lang, source=source,
                data={**data, "provider": chat[0]})
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
