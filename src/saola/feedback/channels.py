"""Taking in a citizen's message from the SMS, chat and e-mail channels: a report, or a follow-up, and the answer.

Every channel parses its own wire format into an :class:`Inbound` and calls :func:`take_in`, which

* is idempotent on the provider's message id: a message seen before returns its first outcome and
  creates nothing (the ledger :class:`~saola.feedback.channel_models.FeedbackChannelMessage`);
* treats a message quoting the tracking code of a report the SAME sender filed (same phone, chat
  user or e-mail address) as a follow-up: an internal note on that case for the staff handling it
  (not a public reply, which is the agency's answer on the public page);
* otherwise files a new report through :func:`saola.feedback.reports.submit` with the channel
  recorded and the same checks as every channel (:class:`~saola.feedback.errors.InvalidReport`,
  nothing saved); the sender is the reporter's contact (writing to the hotline is consent to be
  answered there);
* queues the answer with the tracking code in the outbox, in the same transaction: by e-mail for
  mail, through the provider's HTTP API for SMS and chat (outbox channel ``gateway``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.actors import SYSTEM
from saola.cases.storage import filesystem_store
from saola.core.i18n import gettext
from saola.core.messaging.case_notices import lookup_path
from saola.core.messaging.outbox import enqueue
from saola.core.settings import Settings
from saola.feedback import reports
from saola.feedback.channel_errors import ChannelMessageInProgress
from saola.feedback.channel_models import FeedbackChannelMessage
from saola.feedback.channel_text import address_line, phone_digits, quoted_tracking_code
from saola.feedback.errors import InvalidReport, ReportNotFound
from saola.feedback.intake import Submission, Upload, normalise
from saola.feedback.models import FeedbackReporter

EMAIL_PROVIDER = "email"  # the ledger's provider name for mail (gateways have their configured names)
LANG = "vi"  # a texting citizen's language is unknown: answers are in Vietnamese, like the notices

RECEIVED_SUBJECT = "Your report {code} was received"
RECEIVED_TEXT = "The 1022 hotline received your report {code}. Follow it at {link}"
FOLLOW_UP_SUBJECT = "Your message was added to report {code}"
FOLLOW_UP_TEXT = "Your message was added to report {code} for the staff handling it. Follow it at {link}"
FOLLOW_UP_NOTE = "Follow-up from the reporter ({channel}): {text}"


@dataclass
class Inbound:
    """One message as a channel received it: who sent it, through which provider, what it says."""

    channel: str  # sms, chat or email
    provider: str  # the gateway's configured name, or EMAIL_PROVIDER
    message_id: str
    sender: str  # a phone number, a chat user id or an e-mail address
    text: str
    sender_name: str = ""
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    service_code: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What became of a message: a new ``report`` or a ``follow_up`` note; ``duplicate`` if seen before."""

    action: str
    tracking_code: str
    case_id: int
    duplicate: bool = False


def _seen(session: Session, inbound: Inbound) -> Outcome | None:
    row = session.execute(
        select(FeedbackChannelMessage.action, FeedbackChannelMessage.case_id)
        .where(FeedbackChannelMessage.provider == inbound.provider,
               FeedbackChannelMessage.message_id == inbound.message_id)).first()
    if row is None:
        return None
    report = reports.get_by_case(session, case_id=row[1])
    return Outcome(action=row[0], tracking_code=report.case.code, case_id=row[1], duplicate=True)


def _is_reporter(reporter: FeedbackReporter | None, inbound: Inbound) -> bool:
    if reporter is None:
        return False
    if inbound.channel == "email":
        return bool(reporter.email) and reporter.email.lower() == inbound.sender.strip().lower()
    if inbound.channel == "chat":
        return reporter.account_id == f"{inbound.provider}:{inbound.sender}"
    return bool(reporter.phone) and phone_digits(reporter.phone) == phone_digits(inbound.sender)


def _followed_report(session: Session, inbound: Inbound) -> reports.Report | None:
    """The sender's own report whose tracking code the message quotes, or ``None``."""
    code = quoted_tracking_code(inbound.text)
    if code is None:
        return None
    try:
        item = reports.get_public(session, tracking_code=code)
    except ReportNotFound:
        return None
    reporter = session.scalar(select(FeedbackReporter).where(FeedbackReporter.report_id == item.report.id))
    return item if _is_reporter(reporter, inbound) else None


def _submission(inbound: Inbound) -> Submission:
    sub = Submission(channel=inbound.channel, description=inbound.text, service_code=inbound.service_code,
                     answers=dict(inbound.answers),
                     lat=inbound.lat, lon=inbound.lon,
                     address=inbound.address or ("" if inbound.lat is not None else address_line(inbound.text)),
                     name=inbound.sender_name, consent=True, uploads=list(inbound.uploads))
    if inbound.channel == "email":
        sub.email = inbound.sender
    elif inbound.channel == "chat":
        sub.account_id = f"{inbound.provider}:{inbound.sender}"
    else:
        sub.phone = inbound.sender
    return sub


def _follow_up(session: Session, item: reports.Report, inbound: Inbound, *, settings: Settings,
               now: datetime) -> None:
    # The same text and file checks as a report; the place is the report's own.
    checked, errors, types = normalise(
        Submission(channel=inbound.channel, description=inbound.text, address=item.report.address or "-",
                   uploads=list(inbound.uploads)), max_file_bytes=settings.feedback_max_photo_mb * 1024 * 1024)
    errors = [e for e in errors if e["field"] in ("description", "media")]
    if errors:
        raise InvalidReport(errors, "The report is not valid")
    cases.add_note(session, case_id=item.case.id, actor=SYSTEM, public=False, now=now,
                   text=FOLLOW_UP_NOTE.format(channel=inbound.channel, text=checked.description))
    store = filesystem_store(Path(settings.data_dir))
    for upload, content_type in zip(checked.uploads, types, strict=True):
        cases.add_attachment(session, case_id=item.case.id, actor=SYSTEM, file_name=upload.file_name or "photo",
                             content_type=content_type, data=upload.data, store=store, now=now)


def queue_answer(session: Session, inbound: Inbound, *, subject: str, text: str, source: str) -> None:
    """The answer to the sender, by e-mail or back through the provider it came by.

    ``source`` is ``case:<id>`` for answers about a report, like its notices, so that erasing the
    reporter's data after the retention period (:mod:`saola.feedback.retention`) erases these too.
    """
    if inbound.channel == "email":
        enqueue(session, channel="email", recipient=inbound.sender, subject=subject, body=text, lang=LANG,
                source=source)
    else:
        enqueue(session, channel="gateway", recipient=inbound.sender, body=text, lang=LANG, source=source,
                data={"provider": inbound.provider})


def take_in(session: Session, *, inbound: Inbound, settings: Settings, now: datetime) -> Outcome:
    """A new report or a follow-up from ``inbound``, answered through its channel; the first outcome if seen."""
    seen = _seen(session, inbound)
    if seen is not None:
        return seen
    followed = _followed_report(session, inbound)
    if followed is not None:
        _follow_up(session, followed, inbound, settings=settings, now=now)
        case_id, code, action = followed.case.id, followed.case.code, "follow_up"
        subject_id, text_id = FOLLOW_UP_SUBJECT, FOLLOW_UP_TEXT
    else:
        created = reports.submit(session, submission=_submission(inbound), actor=None, now=now, settings=settings)
        case_id, code, action = created.case.id, created.case.code, "report"
        subject_id, text_id = RECEIVED_SUBJECT, RECEIVED_TEXT
    session.add(FeedbackChannelMessage(channel=inbound.channel, provider=inbound.provider,
                                       message_id=inbound.message_id, case_id=case_id, action=action,
                                       received_at=now))
    try:
        session.flush()
    except IntegrityError as exc:  # the same message, taken in by a concurrent request that committed first
        raise ChannelMessageInProgress() from exc
    link = settings.public_url.rstrip("/") + lookup_path(reports.CASE_TYPE, code)
    queue_answer(session, inbound, subject=gettext(LANG, subject_id, code=code),
                 text=gettext(LANG, text_id, code=code, link=link), source=f"case:{case_id}")
    return Outcome(action=action, tracking_code=code, case_id=case_id)
