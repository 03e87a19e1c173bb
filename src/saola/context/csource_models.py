"""Tables of the NGSI-LD context source registry (clauses 5.9-5.11).

``ngsi_csource_registrations`` holds each context source registration (the body as sent, its
@context and an expanded copy used for discovery). ``ngsi_csource_subscriptions`` holds the
subscriptions to registrations with their delivery status, and ``ngsi_csource_notifications`` is
their outbox: a notification is written in the transaction of the change that causes it and
stays until the endpoint accepts it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saola.context.models import IRI, JSON_DOCUMENT
from saola.core.db import Base, UTCDateTime, utcnow


class NgsiCSourceRegistration(Base):
    __tablename__ = "ngsi_csource_registrations"
    __table_args__ = (UniqueConstraint("tenant", "reg_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    reg_id: Mapped[str] = mapped_column(String(IRI))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NgsiCSourceSubscription(Base):
    __tablename__ = "ngsi_csource_subscriptions"
    __table_args__ = (UniqueConstraint("tenant", "sub_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    sub_id: Mapped[str] = mapped_column(String(IRI))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    times_sent: Mapped[int] = mapped_column(Integer, default=0)
    times_failed: Mapped[int] = mapped_column(Integer, default=0)
    last_notification: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_failure: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_matched: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # periodic (timeInterval)
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)


class NgsiCSourceNotification(Base):
    __tablename__ = "ngsi_csource_notifications"
    __table_args__ = (Index("ix_ngsi_csource_notifications_pending", "delivered", "sub_pk", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sub_pk: Mapped[int] = mapped_column(
        ForeignKey("ngsi_csource_subscriptions.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
