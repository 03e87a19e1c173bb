"""The outbox: write messages in the caller's transaction, deliver them after commit, retry with backoff.

:func:`enqueue` only adds a row to the session, so the message exists exactly when the change
that caused it commits. :func:`deliver_due` sends every due message: it is first claimed by a
conditional ``UPDATE`` in its own short transaction (so two workers never both send it and no
database lock is held while the gateway answers), then sent, then marked ``sent``. A failure
keeps it ``pending`` with the next attempt after ``retry_seconds * 2**(attempts-1)`` (at most a
day), and ``failed`` after ``max_attempts``. Delivery is at least once: a worker that dies
between sending and recording leaves the message to be sent again after :data:`LEASE`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from saola.core.db import unit_of_work, utcnow
from saola.core.messaging.backends import DeliveryError, MailSender, SmsSender
from saola.core.messaging.gateways import GatewaySender
from saola.core.messaging.models import CHANNELS, OutboxMessage
from saola.core.messaging.webhooks import WebhookSender

log = logging.getLogger(__name__)

MAX_DELAY = timedelta(days=1)
LEASE = timedelta(minutes=5)  # how long a claimed message is left to its worker before another may retry it

# Gives a templated message its final subject and body just before sending (None: send as stored).
Renderer = Callable[[OutboxMessage], tuple[str, str] | None]


@dataclass(frozen=True)
class Policy:
    """How often a message is tried and how long to wait between tries."""

    max_attempts: int = 8
    retry_seconds: float = 30.0

    def delay(self, attempts: int) -> timedelta:
        return min(timedelta(seconds=self.retry_seconds * 2 ** max(attempts - 1, 0)), MAX_DELAY)


@dataclass(frozen=True)
class DeliveryRun:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def enqueue(session: Session, *, channel: str, recipient: str, body: str, subject: str = "", lang: str = "vi",
            source: str = "", data: dict[str, Any] | None = None, now: datetime | None = None) -> OutboxMessage:
    """Add a message to the outbox in ``session``'s transaction (sent only if it commits)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel: {channel}")
    message = OutboxMessage(channel=channel, recipient=recipient.strip(), subject=subject[:300], body=body,
                            lang=lang, source=source[:80], data=dict(data or {}), status="pending", attempts=0,
                            next_attempt_at=now or utcnow(), created_at=now or utcnow(), last_error="")
    session.add(message)
    return message


def _due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    stmt = (select(OutboxMessage.id).where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    return list(session.scalars(stmt))


def _send(message: OutboxMessage, subject: str, body: str, mail: MailSender, sms: SmsSender,
          gateway: GatewaySender | None, webhook: WebhookSender | None = None) -> None:
    if message.channel == "webhook":
        if webhook is None:
            raise DeliveryError("no webhook sender is configured")
        webhook.send_webhook(url=message.recipient, body=body, event=str((message.data or {}).get("event", "")))
    elif message.channel == "email":
        mail.send_mail(to=message.recipient, subject=subject, body=body)
    elif message.channel == "gateway":
        if gateway is None:
            raise DeliveryError("no gateway sender is configured")
        gateway.send_reply(provider=str((message.data or {}).get("provider", "")), to=message.recipient, text=body)
    else:
        sms.send_sms(to=message.recipient, text=body)


def _claim(factory: sessionmaker[Session], pk: int, now: datetime) -> OutboxMessage | None:
    """Take message ``pk`` for one attempt, or ``None`` if another worker has it or it is not due.

    A single conditional ``UPDATE`` (a write from the first statement, so SQLite never has to upgrade
    a read lock) moves ``next_attempt_at`` past a lease: a worker that dies while sending leaves the
    message to be tried again once the lease is over.
    """
    with unit_of_work(factory) as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == pk, OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        message = session.get(OutboxMessage, pk, populate_existing=True)
        assert message is not None
        session.expunge(message)
        return message


def _deliver_one(factory: sessionmaker[Session], pk: int, *, mail: MailSender, sms: SmsSender, policy: Policy,
                 now: datetime, render: Renderer | None, gateway: GatewaySender | None = None,
                 webhook: WebhookSender | None = None) -> str | None:
    message = _claim(factory, pk, now)
    if message is None:
        return None
    rendered = render(message) if render else None
    subject, body = (rendered[0][:300], rendered[1]) if rendered else (message.subject, message.body)
    values: dict[str, Any] = {"subject": subject, "body": body}
    try:
        _send(message, subject, body, mail, sms, gateway, webhook)
    except DeliveryError as exc:
        values["last_error"] = str(exc)[:500]
        if message.attempts >= policy.max_attempts:
            values["status"] = outcome = "failed"
            log.warning("message failed for good", extra={"message_id": pk, "error": values["last_error"]})
        else:
            values["next_attempt_at"] = now + policy.delay(message.attempts)
            outcome = "retried"
            log.info("message delivery failed; will retry",
                     extra={"message_id": pk, "attempts": message.attempts, "error": values["last_error"]})
    else:
        values.update(status="sent", sent_at=now, last_error="")
        outcome = "sent"
    with unit_of_work(factory) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == pk).values(**values)
                        .execution_options(synchronize_session=False))
    return outcome


def deliver_due(factory: sessionmaker[Session], *, mail: MailSender, sms: SmsSender, policy: Policy,
                now: datetime | None = None, limit: int = 100, render: Renderer | None = None,
                gateway: GatewaySender | None = None, webhook: WebhookSender | None = None) -> DeliveryRun:
    """Try every message due at ``now`` (at most ``limit``); blocking (run it in a thread from async code)."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        ids = _due_ids(session, now, limit)
    counts = {"sent": 0, "retried": 0, "failed": 0}
    for pk in ids:
        outcome = _deliver_one(factory, pk, mail=mail, sms=sms, policy=policy, now=now, render=render,
                               gateway=gateway, webhook=webhook)
        if outcome:
            counts[outcome] += 1
    return DeliveryRun(**counts)


def list_messages(session: Session, *, status: str | None = None, source: str | None = None, limit: int = 100,
                  offset: int = 0) -> tuple[list[OutboxMessage], int]:
    """Messages newest first, optionally of one status or source, with the total count."""
    stmt = select(OutboxMessage)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if source:
        stmt = stmt.where(OutboxMessage.source == source)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def mask(recipient: str) -> str:
    """``nguyen.van.a@example.vn`` → ``ng***@example.vn``; ``0912345678`` → ``091****678``."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:2]}***@{domain}"
    if len(recipient) <= 6:
        return "*" * len(recipient)
    return recipient[:3] + "*" * (len(recipient) - 6) + recipient[-3:]
