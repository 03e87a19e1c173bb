"""Fixtures of the case-engine tests: the seeded users as actors, agency ids, and a fixed clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.auth import service as auth
from saola.core.auth.service import Principal
from saola.core.directory.models import Agency

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant given in Vietnamese local time."""
    return datetime(year, month, day, hour, minute, tzinfo=VN)


NOW = vn(2026, 11, 24, 9, 0)  # a Tuesday


@pytest.fixture
def people(db: Session) -> dict[str, Principal]:
    """The seeded users (admin, operator, staff, staff2, clerk, viewer) as principals."""
    names = ["admin", "operator", "staff", "staff2", "clerk", "viewer"]
    return {name: auth.principal_for(auth.get_user(db, username=name)) for name in names}


@pytest.fixture
def agencies(db: Session) -> dict[str, int]:
    return {code: id_ for code, id_ in db.execute(select(Agency.code, Agency.id))}
