"""Tables of the IOC's alerts: the alerts, their timeline, people's alert subscriptions and the on-duty roster.

* ``alerts``: one alert per rule and subject while it is not cleared. Deduplication is enforced by
  the database: ``open_key`` (the SHA-256 of ``rule_id`` and ``subject``) is unique and set only
  while the alert is open (``active`` or ``acknowledged``); clearing sets it to NULL, so a later
  firing of the same rule on the same subject opens a new alert. The service locks the open row
  (``SELECT … FOR UPDATE`` on PostgreSQL) before updating it and retries on a lost insert race.
* ``alert_events``: the timeline (raised, updated, acknowledged, cleared, escalated, notified...).
* ``alert_subscriptions``: what a person wants to hear about (minimum severity, channels, entity
  types and agencies) and their quiet hours (local time; critical alerts are still delivered).
* ``alert_duty_shifts``: the on-duty roster: which operator is on duty from when to when.

Rules are referenced by id only (they belong to :mod:`saola.rules.models`); an alert outlives its rule.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from saola.context.models import IRI, JSON_DOCUMENT
from saola.core.db import Base, UTCDateTime, utcnow

STATES: tuple[str, ...] = ("active", "acknowledged", "cleared")
OPEN_STATES: frozenset[str] = frozenset({"active", "acknowledged"})
EVENT_KINDS: tuple[str, ...] = ("raised", "updated", "acknowledged", "cleared", "escalated", "notified",
                                "suppressed")
CHANNELS: tuple[str, ...] = ("email", "sms", "webhook")


class Alert(Base):
    """An alert raised by a rule on a subject (an entity id, or ``area:<ward>`` for a composite rule)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_state_severity", "state", "severity"),
        Index("ix_alerts_rule_subject", "rule_id", "subject"),
    )
    __audited__ = True
    # Repeated firings of an open alert only move these: recorded in the timeline, not the audit log.
    __audit_ignore__ = frozenset({"last_seen_at", "occurrences", "value", "details", "notified_at"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(Integer, index=True)
    rule_version: Mapped[int] = mapped_column(Integer, default=1)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(String(IRI), index=True)
    entity_type: Mapped[str] = mapped_column(String(IRI), default="")
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(15), default="active")
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    title_vi: Mapped[str] = mapped_column(String(500), default="")
    title_en: Mapped[str] = mapped_column(String(500), default="")
    value: Mapped[Any] = mapped_column(JSON_DOCUMENT, nullable=True, default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT, default=dict)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT, nullable=True, default=None)
    owner_agency: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    incident_type: Mapped[str | None] = mapped_column(String(41), default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), default=None)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cleared_by: Mapped[str | None] = mapped_column(String(64), default=None)
    cleared_reason: Mapped[str] = mapped_column(String(500), default="")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)


class AlertEvent(Base):
    """One entry of an alert's timeline, with who acted (``system`` or ``rule <id>`` for machines)."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor_name: Mapped[str] = mapped_column(String(64), default="system")
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT, default=dict)


class AlertSubscription(Base):
    """What alerts one person is told about, on which channels, and when not to disturb them."""

    __tablename__ = "alert_subscriptions"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    min_severity: Mapped[str] = mapped_column(String(10), default="major")
    channels: Mapped[list[Any]] = mapped_column(JSON_DOCUMENT, default=list)
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    entity_types: Mapped[list[Any]] = mapped_column(JSON_DOCUMENT, default=list)  # empty: every type
    agencies: Mapped[list[Any]] = mapped_column(JSON_DOCUMENT, default=list)  # agency codes; empty: every agency
    quiet_start: Mapped[time | None] = mapped_column(Time, default=None)  # local time
    quiet_end: Mapped[time | None] = mapped_column(Time, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DutyShift(Base):
    """An operator on duty at the operations centre from ``starts_at`` until ``ends_at``."""

    __tablename__ = "alert_duty_shifts"
    __table_args__ = (Index("ix_alert_duty_shifts_period", "starts_at", "ends_at"),)
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
