"""Tables of the IOC's incidents: the incident, its timeline, its links, its dispatched units and its checklist.

Other packages' objects are referenced, never copied: an alert by its id, a citizen report by its
tracking code, a context entity by its NGSI-LD id (:class:`IncidentLink`); the link keeps a short label
for display. ``source_alert_id`` is the alert an incident was opened from automatically; it is unique,
so one alert opens at most one incident even when two workers hear it at once.
:class:`IncidentEvent` rows are append-only (created, transition, note, unit, link, checklist).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow

JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")
LINK_KINDS = ("alert", "report", "entity")


class Incident(Base):
    """One event the IOC handles (a flooded street, an outage in a ward, an accident), owned by an agency."""

    __tablename__ = "incidents"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    incident_type: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True, default=None)
    ward_code: Mapped[str | None] = mapped_column(String(10), index=True, default=None)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT, default=None)
    address: Mapped[str] = mapped_column(String(300), default="")
    source_alert_id: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_by_name: Mapped[str] = mapped_column(String(120), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncidentEvent(Base):
    """One entry of an incident's timeline."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str | None] = mapped_column(String(20), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT, default=dict)


class IncidentLink(Base):
    """An alert (``ref`` = its id), a citizen report (its tracking code) or an NGSI-LD entity (its id)."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "ref"),)
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(500), index=True)
    label: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_name: Mapped[str] = mapped_column(String(120), default="")


class IncidentUnit(Base):
    """A unit sent to the incident (a fire engine, a power crew): when it was dispatched, arrived, released."""

    __tablename__ = "incident_units"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class IncidentChecklistItem(Base):
    """One step of the incident type's SOP checklist, copied when the incident was opened; ticked when done."""

    __tablename__ = "incident_checklist_items"
    __table_args__ = (UniqueConstraint("incident_id", "key"),)
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(60))
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    done_by_name: Mapped[str] = mapped_column(String(120), default="")
