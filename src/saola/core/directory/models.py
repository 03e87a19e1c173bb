"""Tables of the organisation directory.

Administrative units come in two editions: ``2025`` (the two-level system in force since
1 July 2025: province → ward/commune) and ``legacy`` (province → district → ward, before
it). Codes repeat across editions, so a unit is identified by ``(edition, code)``;
:class:`UnitSuccession` maps each former ward to the current ward(s) that took it over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow

CURRENT_EDITION = "2025"
LEGACY_EDITION = "legacy"


class AdminUnit(Base):
    """A province, district (legacy only) or ward/commune with its official code."""

    __tablename__ = "admin_units"
    __table_args__ = (UniqueConstraint("edition", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition: Mapped[str] = mapped_column(String(10), index=True)
    code: Mapped[str] = mapped_column(String(10), index=True)
    level: Mapped[str] = mapped_column(String(10))  # province | district | ward
    name: Mapped[str] = mapped_column(String(120))
    full_name: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    unit_type: Mapped[str] = mapped_column(String(40), default="")  # Phường, Xã, Thành phố, Tỉnh...
    parent_code: Mapped[str | None] = mapped_column(String(10), index=True, default=None)
    province_code: Mapped[str] = mapped_column(String(10), index=True)
    search_key: Mapped[str] = mapped_column(String(200), index=True, default="")


class UnitSuccession(Base):
    """A former (legacy) ward and a current ward that took over all or part of it."""

    __tablename__ = "unit_successions"
    __table_args__ = (UniqueConstraint("former_code", "current_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    former_code: Mapped[str] = mapped_column(String(10), index=True)
    current_code: Mapped[str] = mapped_column(String(10), index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=True)


class Agency(Base):
    """A department, company or People's Committee that owns cases, devices and data."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(30))  # department | police | utility | commune | centre
    unit_code: Mapped[str | None] = mapped_column(String(10), default=None)  # its ward, for communes
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgencyContact(Base):
    """A person an agency can be reached through (duty roster). Private to the agency."""

    __tablename__ = "agency_contacts"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
