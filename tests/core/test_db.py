"""The database layer: SQLite runs in WAL mode with foreign keys enforced; times are UTC-aware."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from saola.core.db import make_engine, make_session_factory, unit_of_work
from saola.core.directory.models import AgencyContact


def test_sqlite_uses_wal_and_enforces_foreign_keys(tmp_path) -> None:
    from saola.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(IntegrityError), unit_of_work(make_session_factory(engine)) as session:
        session.add(AgencyContact(agency_id=999, name="nobody's"))
        session.flush()
    engine.dispose()


def test_datetimes_come_back_timezone_aware_in_utc(database_url: str) -> None:
    from saola.core.audit.models import AuditEntry

    engine = make_engine(database_url)
    hanoi = timezone(timedelta(hours=7))
    written = datetime(2026, 11, 24, 21, 30, tzinfo=hanoi)
    with unit_of_work(make_session_factory(engine)) as session:
        session.add(AuditEntry(at=written, actor="t", action="probe", object_type="probe"))
    with unit_of_work(make_session_factory(engine)) as session:
        row = session.query(AuditEntry).filter_by(action="probe").one()
        assert row.at == written
        assert row.at.utcoffset() == timedelta(0)
    engine.dispose()


def test_naive_datetimes_are_refused_before_reaching_the_database(database_url: str) -> None:
    from sqlalchemy.exc import StatementError

    from saola.core.audit.models import AuditEntry

    engine = make_engine(database_url)
    with pytest.raises(StatementError), unit_of_work(make_session_factory(engine)) as session:
        session.add(AuditEntry(at=datetime(2026, 1, 1), actor="t", action="probe", object_type="probe"))
        session.flush()
    engine.dispose()
