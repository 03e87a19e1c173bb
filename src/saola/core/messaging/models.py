"""The outbox table: every e-mail and SMS to a citizen, written with the change that caused it.

A row is written in the same transaction as the change (so a rolled-back change sends nothing and
a committed one is never lost), then delivered by the background worker, retried with backoff.
The recipient is personal data: not audited, and shown masked by the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow

CHANNELS = ("email", "sms", "gateway", "webhook")  # gateway: a reply through an SMS or chat provider
# (data["provider"]); webhook: a signed JSON POST to the recipient URL (saola.core.messaging.webhooks)
STATUSES = ("pending", "sent", "failed")


class OutboxMessage(Base):
    """One outgoing message and its delivery state (``pending`` → ``sent`` or ``failed``)."""

    __tablename__ = "messaging_outbox"
    __table_args__ = (Index("ix_messaging_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5), default="vi")
    source: Mapped[str] = mapped_column(String(80), default="", index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
