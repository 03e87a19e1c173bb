"""Figures and facts shown by the web shell: the console overview tiles and the province's name.

Small read-only functions over core tables; page handlers call them and render.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.core.audit import service as audit
from saola.core.auth.models import User
from saola.core.directory import service as directory
from saola.core.directory.models import Agency


@dataclass(frozen=True, slots=True)
class Overview:
    """The figures on the console overview."""

    active_users: int
    agencies: int
    wards: int
    audit_today: int


def start_of_day(now: datetime, tz: str) -> datetime:
    """Local midnight of ``now``'s day in time zone ``tz``, as an aware datetime."""
    zone = ZoneInfo(tz)
    return datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)


def count_active_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.active.is_(True))) or 0


def count_active_agencies(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Agency).where(Agency.active.is_(True))) or 0


def count_wards(session: Session, *, province_code: str) -> int:
    """Current wards and communes of the province (in the directory)."""
    _rows, total = directory.list_units(session, province_code=province_code, level="ward", limit=0)
    return total


def count_audit_since(session: Session, *, since: datetime) -> int:
    _rows, total = audit.search(session, flt=audit.AuditFilter(since=since), limit=0)
    return total


def overview(session: Session, *, now: datetime, tz: str, province_code: str) -> Overview:
    return Overview(
        active_users=count_active_users(session),
        agencies=count_active_agencies(session),
        wards=count_wards(session, province_code=province_code),
        audit_today=count_audit_since(session, since=start_of_day(now, tz)),
    )


@cache
def province_info() -> dict[str, Any]:
    """Names, code, area and number of wards of the province on the shipped basemap (``data/geo``)."""
    folder = resources.files("saola") / "data" / "geo"
    feature = json.loads((folder / "bac_ninh_province.geojson").read_text("utf-8"))["features"][0]
    wards = json.loads((folder / "bac_ninh_wards.geojson").read_text("utf-8"))["features"]
    return {**feature["properties"], "wards": len(wards)}
