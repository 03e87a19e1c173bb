"""The hotline's e-mail channel: an SMTP listener (aiosmtpd) that turns citizens' mails into reports and answers them.

Why a listener and not IMAP polling: a mail is taken in the moment it arrives (no poll delay), the
sender's mail server learns at once whether it was accepted, and Saola holds no mailbox password —
the province's MX or relay forwards mail for ``SAOLA_FEEDBACK_MAIL_ADDRESS`` to this port (bind it
to loopback or the relay's network; the relay does spam and DMARC checks first). IMAP polling
would need a mailbox login kept in Saola's settings and a poll interval before every answer.

* ``RCPT TO`` other than the configured address (or domain, ``@example.gov.vn``) is refused with 550;
* each accepted mail goes through :func:`saola.feedback.channels.take_in` (channel ``email``, the
  same checks as every channel) and is answered by e-mail through the outbox with its tracking
  code; a mail that is not a valid report (no text, no place) gets an error mail listing the
  problems and creates no report (at most one error mail an hour per sender, so an auto-responder
  that ignores ``Auto-Submitted`` cannot loop); automatic mail (bounces, auto-replies) is accepted
  unanswered, and mail with no valid sender address is refused (550, the sending server tells them);
* if the database cannot be reached the answer is ``451`` so the sending server tries again later.

It runs as ``saola feedback mail-listener`` or inside ``saola serve`` when ``SAOLA_FEEDBACK_SMTP_PORT``
is set; either way the app's outbox worker sends the answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from saola.core.db import unit_of_work, utcnow
from saola.core.i18n import gettext
from saola.core.messaging.models import OutboxMessage
from saola.core.settings import Settings
from saola.feedback.channels import EMAIL_PROVIDER, LANG, Inbound, Outcome, queue_answer, take_in
from saola.feedback.errors import InvalidReport
from saola.feedback.intake import MAX_FILES
from saola.feedback.mail_parse import Mail, parse_mail

log = logging.getLogger(__name__)

MB = 1024 * 1024
REFUSED_SOURCE = "feedback-email-refused"
REFUSED_EVERY = timedelta(hours=1)
REFUSED_SUBJECT = "Your e-mail to the 1022 hotline could not be taken as a report"
REFUSED_TEXT = ("Your e-mail to the 1022 hotline could not be taken as a report:\n{problems}\n\n"
                "Please write again: describe the problem in at least 10 characters and give the place on a line "
                "starting with 'Địa chỉ:'. Photos (JPEG, PNG, WebP) and PDF files may be attached, at most 5.")


def accepts(configured: str, address: str) -> bool:
    """True when ``address`` is the hotline's address, or of its domain when ``configured`` is ``@domain``."""
    configured, address = configured.strip().lower(), address.strip().strip("<>").lower()
    if not configured or "@" not in address:
        return False
    if configured.startswith("@"):
        return address.endswith(configured)
    return address == configured


Publish = Callable[[str, dict[str, Any]], None]


class HotlineMailHandler:
    """aiosmtpd handler: checks recipients, then takes each mail in (in a thread: database work blocks).

    ``publish`` hands the events of a committed report to the app's event bus (inside ``saola serve``).
    """

    def __init__(self, factory: sessionmaker[Session], settings: Settings, publish: Publish | None = None) -> None:
        self.factory, self.settings, self.publish = factory, settings, publish

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if not accepts(self.settings.feedback_mail_address, address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        return await asyncio.to_thread(self.take, bytes(raw), str(envelope.mail_from or ""))

    def take(self, raw: bytes, envelope_from: str) -> str:
        """Take one mail in; the SMTP answer."""
        try:
            mail = parse_mail(raw, envelope_from=envelope_from)
            if mail.automatic:
                log.info("automatic mail left unanswered", extra={"message_id": mail.message_id})
                return "250 OK"
            if not mail.sender:
                return "550 5.1.7 The sender's address is not valid"
            inbound = _inbound(mail)
            try:
                outcome = self._take_in(inbound)
            except InvalidReport as exc:
                self._refuse(inbound, exc.errors)
                return "250 OK: not a valid report, the sender is told why"
        except Exception:  # the database is down or busy: the sending server keeps the mail and retries
            log.exception("mail could not be taken in")
            return "451 4.3.0 Temporary failure, try again later"
        return f"250 OK {outcome.tracking_code}"

    def _refuse(self, inbound: Inbound, errors: list[dict[str, Any]]) -> None:
        """The error answer, at most one per sender and :data:`REFUSED_EVERY` (an auto-responder cannot loop)."""
        now = utcnow()
        with unit_of_work(self.factory) as session:
            recent = session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.source == REFUSED_SOURCE, OutboxMessage.recipient == inbound.sender,
                OutboxMessage.created_at > now - REFUSED_EVERY).limit(1))
            if recent is None:
                queue_answer(session, inbound, subject=gettext(LANG, REFUSED_SUBJECT), source=REFUSED_SOURCE,
                             text=gettext(LANG, REFUSED_TEXT, problems=_problems(errors)))

    def _take_in(self, inbound: Inbound) -> Outcome:
        events: list[tuple[str, dict[str, Any]]] = []
        with unit_of_work(self.factory, events=events) as session:
            outcome = take_in(session, inbound=inbound, settings=self.settings, now=utcnow())
        if self.publish is not None:
            for topic, payload in events:
                self.publish(topic, payload)
        return outcome


def _inbound(mail: Mail) -> Inbound:
    return Inbound(channel="email", provider=EMAIL_PROVIDER, message_id=mail.message_id, sender=mail.sender,
                   text=mail.text, sender_name=mail.sender_name, uploads=mail.uploads)


def _problems(errors: list[dict[str, Any]]) -> str:
    return "\n".join(f"- {gettext(LANG, str(e.get('message', '')))}" for e in errors)


def max_mail_bytes(settings: Settings) -> int:
    """Largest mail accepted: five files at the photo limit, base64-encoded, and the text."""
    return MAX_FILES * settings.feedback_max_photo_mb * MB * 4 // 3 + 2 * MB


def make_listener(factory: sessionmaker[Session], settings: Settings, *, host: str, port: int,
                  publish: Publish | None = None) -> Controller:
    """The SMTP server of the hotline (not started): ``start()`` and ``stop()`` it."""
    if not settings.feedback_mail_address:
        raise ValueError("SAOLA_FEEDBACK_MAIL_ADDRESS is not set: the mail listener would accept no mail")
    return Controller(HotlineMailHandler(factory, settings, publish), hostname=host, port=port,
                      data_size_limit=max_mail_bytes(settings), enable_SMTPUTF8=True,
                      ident="Saola 1022 hotline")


async def start_in_app(app: FastAPI) -> Controller | None:
    """The listener started inside the app when ``SAOLA_FEEDBACK_SMTP_PORT`` is set, else ``None``."""
    settings: Settings = app.state.settings
    if not settings.feedback_smtp_port:
        return None
    loop, bus = asyncio.get_running_loop(), app.state.event_bus

    def publish(topic: str, payload: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(bus.publish(topic, payload), loop)

    listener = make_listener(app.state.session_factory, settings, host=settings.feedback_smtp_host,
                             port=settings.feedback_smtp_port, publish=publish)
    await asyncio.to_thread(listener.start)
    log.info("1022 mail listener started", extra={"host": listener.hostname, "port": listener.port})
    return listener


async def stop_in_app(listener: Controller | None) -> None:
    if listener is not None:
        await asyncio.to_thread(listener.stop)
