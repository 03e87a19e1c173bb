"""The table of downlink commands: one row per command sent (or to send) to a device.

A row lives through ``PENDING → SENT → OK | ERROR | EXPIRED`` (see :mod:`saola.devices.commands`);
it is written before anything is published, so a command survives a restart of the worker or the app.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow


class DeviceCommand(Base):
    __tablename__ = "device_commands"
    __table_args__ = (
        Index("ix_device_commands_due", "status", "next_attempt_at"),
        Index("ix_device_commands_device", "device_pk", "name", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    tenant: Mapped[str] = mapped_column(String(255), default="")
    api_key: Mapped[str] = mapped_column(String(128))
    device_id: Mapped[str] = mapped_column(String(255))
    entity_id: Mapped[str] = mapped_column(String(1024))
    protocol: Mapped[str] = mapped_column(String(32), default="IoTA-JSON")
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[Any] = mapped_column(JSON, nullable=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    info: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
