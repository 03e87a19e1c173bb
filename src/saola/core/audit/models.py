"""The audit log table (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One write: the actor, the action on an object, and its fields before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    actor: Mapped[str] = mapped_column(String(80), default="system", index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)  # create | update | delete | login ...
    object_type: Mapped[str] = mapped_column(String(60), index=True)
    object_id: Mapped[str] = mapped_column(String(80), default="", index=True)
    agency_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    request_id: Mapped[str] = mapped_column(String(40), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
