"""Tables of NGSI-LD subscriptions (clause 5.8) and their notification outbox.

``ngsi_subscriptions`` holds each subscription's definition (terms already expanded, with the
@context it was created with) and its delivery status. ``ngsi_notifications`` is the outbox:
a notification is written in the same transaction that decides it is due, and stays until it is
delivered, so nothing is lost when an endpoint is down or the process restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saola.context.models import IRI, JSON_DOCUMENT
from saola.core.db import Base, UTCDateTime, utcnow


class NgsiSubscription(Base):
    __tablename__ = "ngsi_subscriptions"
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
    last_matched: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # throttling, periodic
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)


class NgsiNotification(Base):
    __tablename__ = "ngsi_notifications"
    __table_args__ = (Index("ix_ngsi_notifications_pending", "delivered", "subscription_pk", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("ngsi_subscriptions.id", ondelete="CASCADE"),
                                                 index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
