"""The ledger of messages the hotline's SMS, chat and e-mail channels took in: one row per provider message.

It makes each channel idempotent: a provider that retries a webhook, or a mail server that delivers
a mail twice, finds its ``(provider, message_id)`` here and gets the first answer again instead of a
second report. It holds no personal data (the sender lives in ``feedback_reporters``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow

ACTIONS = ("report", "follow_up")  # a new report, or a note added to the sender's earlier report


class FeedbackChannelMessage(Base):
    """One message taken in by a channel, and the report it made or was added to."""

    __tablename__ = "feedback_channel_messages"
    __table_args__ = (UniqueConstraint("provider", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
