"""The database layer: SQLite runs in WAL mode with foreign keys enforced; times are UTC-aware."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from saola.core.db import WriterLock, make_engine, make_session_factory, unit_of_work, write_intent, writer_lock
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


def _counter_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    return engine


def _read_then_write(engine, started: threading.Event, go_on: threading.Event) -> None:
    """Read, wait until told to go on, then write what was read plus one."""
    with write_intent(), Session(engine) as session:
        n = session.execute(text("SELECT n FROM counter")).scalar_one()
        started.set()
        go_on.wait(5)
        session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        session.commit()


def test_sqlite_writers_that_read_first_wait_their_turn_instead_of_failing(tmp_path) -> None:
    engine = _counter_engine(tmp_path)
    started, go_on, errors = threading.Event(), threading.Event(), []

    def first() -> None:
        try:
            _read_then_write(engine, started, go_on)
        except Exception as exc:
            errors.append(exc)

    worker = threading.Thread(target=first)
    worker.start()
    started.wait(5)

    def second() -> None:
        try:
            with write_intent(), Session(engine) as session:  # waits for the first writer's lock
                session.execute(text("UPDATE counter SET n = n + 10"))
                session.commit()
        except Exception as exc:
            errors.append(exc)

    other = threading.Thread(target=second)
    other.start()
    go_on.set()
    worker.join(10)
    other.join(10)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 11  # neither update was lost
    engine.dispose()


def test_a_lock_wait_that_runs_out_is_recognised_as_busy_not_as_a_fault(tmp_path) -> None:
    from sqlalchemy import create_engine

    from saola.core.http import is_bad_value, is_busy

    engine = _counter_engine(tmp_path)
    impatient = create_engine(f"sqlite:///{tmp_path / 'busy.db'}", connect_args={"timeout": 0.1})
    with write_intent(), Session(engine) as holder:
        holder.execute(text("SELECT n FROM counter"))  # holds the write lock (BEGIN IMMEDIATE)
        with pytest.raises(OperationalError) as caught, impatient.begin() as conn:
            conn.execute(text("UPDATE counter SET n = 5"))
    assert "database is locked" in str(caught.value)
    assert is_busy(caught.value) and not is_bad_value(caught.value)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 0  # nothing was changed
    impatient.dispose()
    engine.dispose()



def _kill_other_backends(database_url: str) -> int:
    """Terminate every other session on the test database, as a server restart would."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        return len(conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                                "AND pid <> pg_backend_pid()", (name,)).fetchall())


def test_postgresql_idle_connections_killed_by_the_server_are_replaced_without_an_error(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from saola.core import db

    engine = make_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert _kill_other_backends(pg_url) >= 1
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # the pooled connection counts as idle: pinged, replaced
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar() == 2
    engine.dispose()


def test_postgresql_connection_lost_mid_use_answers_503_and_the_next_request_reconnects(
        pg_url: str, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from saola.app import create_app
    from saola.core.settings import load_settings

    settings = load_settings(database_url=pg_url, data_dir=tmp_path, env="test",
                             secret_key="test-secret-key-0123456789abcdef0123456789")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/open311/v2/services.json").status_code == 200
        assert _kill_other_backends(pg_url) >= 1
        lost = client.get("/open311/v2/services.json")  # its connection was used a moment ago: not pinged
        assert lost.status_code == 503, lost.text
        assert lost.headers["Retry-After"] == "1"
        assert client.get("/open311/v2/services.json").status_code == 200


def _hold_writer_lock(url: str, held: Any, release: Any) -> None:
    """(In another process) hold the database's writer lock until told to let go."""
    lock = writer_lock(make_engine(url))
    assert lock.acquire(timeout=10)
    held.set()
    release.wait(30)
    lock.release()


def test_request_writers_of_other_processes_queue_on_the_writer_lock_and_wake_when_it_is_released(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'saola.db'}"
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_hold_writer_lock, args=(url, held, release))
    other.start()
    try:
        assert held.wait(30)
        assert (tmp_path / "saola.db-writer.lock").exists()
        lock = writer_lock(make_engine(url))
        got = threading.Event()

        def take() -> None:
            if lock.acquire(timeout=10):
                got.set()

        taker = threading.Thread(target=take)
        taker.start()
        assert not got.wait(0.5)  # still queued behind the other process
        release.set()
        assert got.wait(30)  # woken by the release, not by SQLite's busy handler
        taker.join()
        lock.release()
        assert not lock.locked()
    finally:
        release.set()
        other.join(30)
    assert other.exitcode == 0


def test_an_in_memory_database_has_only_the_thread_lock() -> None:
    lock = WriterLock(":memory:")
    assert lock.acquire(timeout=1)
    assert lock.locked() and not lock.acquire(timeout=0.01)
    lock.release()
    assert not lock.locked()
