"""Tables of the device registry: service groups, devices (with their health) and measure rollups.

A :class:`ServiceGroup` is the IoT Agent "config group": an API key shared by devices of one kind,
the tenant (``fiware-service``) and service path they write to, the default entity type, attribute
mappings, static attributes, commands and whether unknown devices are provisioned on first contact.
A :class:`Device` names the NGSI-LD entity it feeds, its own mappings (which win over its group's),
an optional per-device token (stored as a SHA-256 hash) and its health: last seen, counters, message
rate, battery, signal, online/offline. :class:`DeviceRollup` keeps 1-minute and 1-hour
count/sum/min/max of each numeric entity attribute fed by devices, for charts.

Mappings are JSON lists in the IoT Agent shape: ``attributes`` ``[{object_id, name, type, unit?,
health?}]``, ``static_attributes`` ``[{name, type, value}]``, ``commands`` ``[{name, type}]``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow

IRI = 1024


class ServiceGroup(Base):
    __tablename__ = "device_service_groups"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    apikey: Mapped[str] = mapped_column(String(128), unique=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")  # fiware-service → NGSILD-Tenant
    service_path: Mapped[str] = mapped_column(String(255), default="/")
    resource: Mapped[str] = mapped_column(String(255), default="/iot/d")
    entity_type: Mapped[str] = mapped_column(String(255), default="Device")
    transport: Mapped[str] = mapped_column(String(16), default="MQTT")
    protocol: Mapped[str] = mapped_column(String(32), default="IoTA-JSON")
    attributes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    static_attributes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    commands: Mapped[list[Any]] = mapped_column(JSON, default=list)
    autoprovision: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_interval: Mapped[int | None] = mapped_column(Integer, default=None)  # seconds, for its devices
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Device(Base):
    __tablename__ = "devices"
    __audited__ = True
    __audit_exclude__ = frozenset({"token_hash"})
    __audit_ignore__ = frozenset({"last_seen", "message_count", "measure_count", "rejected_count", "message_rate",
                                  "rate_mark_count", "rate_mark_at", "battery", "signal", "online"})
    __table_args__ = (
        UniqueConstraint("tenant", "device_id"),
        Index("ix_devices_api_key_device_id", "api_key", "device_id"),
        Index("ix_devices_tenant_entity", "tenant", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("device_service_groups.id", ondelete="SET NULL"),
                                                 default=None, index=True)
    api_key: Mapped[str] = mapped_column(String(128))
    tenant: Mapped[str] = mapped_column(String(255), default="")
    service_path: Mapped[str] = mapped_column(String(255), default="/")
    device_id: Mapped[str] = mapped_column(String(255))
    entity_id: Mapped[str] = mapped_column(String(IRI))
    entity_type: Mapped[str] = mapped_column(String(255))
    protocol: Mapped[str] = mapped_column(String(32), default="IoTA-JSON")
    transport: Mapped[str] = mapped_column(String(16), default="MQTT")
    attributes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    static_attributes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    commands: Mapped[list[Any]] = mapped_column(JSON, default=list)
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    expected_interval: Mapped[int | None] = mapped_column(Integer, default=None)  # seconds
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    auto_provisioned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # health, written by the ingest core (counters) and the health check (rate, online)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    message_count: Mapped[int] = mapped_column(BigInteger, default=0)
    measure_count: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected_count: Mapped[int] = mapped_column(BigInteger, default=0)
    message_rate: Mapped[float] = mapped_column(Float, default=0.0)  # messages per minute
    rate_mark_count: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_mark_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    battery: Mapped[float | None] = mapped_column(Float, default=None)
    signal: Mapped[float | None] = mapped_column(Float, default=None)
    online: Mapped[bool | None] = mapped_column(Boolean, default=None)  # None: never seen


class DeviceRollup(Base):
    """count/sum/min/max of one numeric attribute of one entity over one bucket (60 s or 3600 s)."""

    __tablename__ = "device_rollups"
    __table_args__ = (
        UniqueConstraint("tenant", "entity_id", "attr_iri", "period", "bucket"),
        Index("ix_device_rollups_bucket", "bucket"),
        # rows are updated in place batch after batch: room on each page lets PostgreSQL do it as
        # heap-only (HOT) updates, without new index entries
        {"postgresql_with": {"fillfactor": 70}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    entity_id: Mapped[str] = mapped_column(String(IRI))
    attr_iri: Mapped[str] = mapped_column(String(IRI))
    period: Mapped[int] = mapped_column(Integer)  # seconds: 60 or 3600
    bucket: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    sum: Mapped[float] = mapped_column(Float, default=0.0)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
