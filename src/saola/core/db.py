"""Database engine, declarative base and sessions.

SQLite runs in WAL mode with foreign keys on; PostgreSQL through psycopg 3. The unit of
work is the request (or CLI command): services flush, the caller commits. Events queued
with :func:`queue_event` are published only after the transaction commits.

SQLite transactions that mean to write (the session of a request with an unsafe method,
see :func:`write_intent` and ``saola.core.deps.db_session``) start with ``BEGIN IMMEDIATE``:
they take the write lock before their first read, so what they read cannot change before
they write (a read-then-write otherwise either sees stale data or fails with "database is
locked" when another writer commits in between), and writers queue for the lock for up to
the busy timeout. Other transactions keep the driver's lazy begin and stay concurrent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: the thread lock only
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("saola.core.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every Saola table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


_write_intent: ContextVar[bool] = ContextVar("saola_write_intent", default=False)


@contextmanager
def write_intent() -> Iterator[None]:
    """Transactions begun inside this block will write: on SQLite they take the write lock up front."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


WRITER_WAIT_SECONDS = 10.0  # as SQLite's own busy timeout (connect_args below)


class WriterLock:
    """The queue of the request writers of one SQLite database: this process's on a thread lock, then the
    processes' on an exclusive ``flock`` of a file beside the database (``<database>-writer.lock``).

    Queueing there rather than in SQLite's busy handler, which sleeps 1, 2, 5, 10 ms... between tries, keeps
    the write lock from sitting idle under load: the next writer, in this process or another ``saola serve``
    worker, wakes as soon as the last one ends (PATCH /ngsi-ld/v1/entities/{id}/attrs, bench/context_bench.py).
    Writers that do not queue here (background jobs) still meet the others in the busy handler, so the file
    lock is only ever held for a request's transaction. An in-memory database, or a file that cannot be
    opened, has only the thread lock.
    """

    def __init__(self, database: str | None) -> None:
        self._thread = threading.Lock()
        self._path = f"{database}-writer.lock" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._fd_pid = 0  # (a forked child must open its own: the parent's description would share its lock)
        self._file_locked = False

    def acquire(self, timeout: float = -1) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds for this process's other writers; whether it was had.

        The wait for other processes has no limit of its own: a holder keeps the file lock only for one
        transaction, and SQLite's busy timeout bounds how long that transaction can wait for anything else.
        """
        if not self._thread.acquire(timeout=timeout):
            return False
        fd = self._file()
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._file_locked = True
            except OSError:
                log.warning("could not lock %s; SQLite's busy handler orders the writers", self._path)
        return True

    def release(self) -> None:
        if self._file_locked and self._fd is not None:
            self._file_locked = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread.release()

    def locked(self) -> bool:
        return self._thread.locked()

    def _file(self) -> int | None:
        if self._path is None or fcntl is None:
            return None
        if self._fd is None or self._fd_pid != os.getpid():
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                log.warning("could not open %s; SQLite's busy handler orders the writers", self._path)
                self._path = None
                return None
            self._fd_pid = os.getpid()
        return self._fd


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()
_WRITER_LOCKS_GUARD = threading.Lock()


def writer_lock(engine: Engine) -> WriterLock:
    """The lock on which the request writers of a SQLite database queue (see :class:`WriterLock`, saola.core.deps)."""
    lock = _WRITER_LOCKS.get(engine)
    if lock is None:
        with _WRITER_LOCKS_GUARD:
            lock = _WRITER_LOCKS.get(engine)
            if lock is None:
                database = engine.url.database if engine.dialect.name == "sqlite" else None
                lock = _WRITER_LOCKS[engine] = WriterLock(database)
    return lock


def _sqlite_begin(connection: Any) -> None:
    # Otherwise the driver begins by itself, lazily, before the first write statement.
    if _write_intent.get():
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; for SQLite, create the directory and set the pragmas.

    Statement parameters are left out of error messages (``hide_parameters``): they hold personal
    data and password hashes, and errors end up in the logs.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, hide_parameters=True)
    event.listen(engine.pool, "checkin", _mark_checkin)
    event.listen(engine.pool, "checkout", _ping_if_idle(engine))
    return engine


IDLE_PING_SECONDS = 5.0


def _mark_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Callable[[Any, Any, Any], None]:
    """A pool ``checkout`` hook that pings a connection only when it sat idle for :data:`IDLE_PING_SECONDS`.

    ``pool_pre_ping`` pings on EVERY checkout: one more round trip per request, a fifth of a simple
    read's time on PostgreSQL (measured with py-spy on GET /ngsi-ld/v1/entities/{id}). A connection
    used a moment ago is almost surely alive; if the server went away in between, the statement
    fails, SQLAlchemy invalidates the pool and the request answers 503 (see ``saola.core.http``).
    A dead idle connection raises :class:`DisconnectionError`, which makes the pool retry with a new one.
    """

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in")
        if last is None or time.monotonic() - last < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("idle connection is dead") from exc
        if not alive:
            raise DisconnectionError("idle connection is dead")

    return checkout


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


# ``session.info`` key: writes (callables taking a new session) to make in their own transaction
# once this session's transaction has ended, committed or rolled back (see saola.core.deps).
AFTER_TRANSACTION = "saola_after_transaction"


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *,
                 events: list[tuple[str, dict[str, Any]]] | None = None) -> Iterator[Session]:
    """A session that commits when the block ends without error and rolls back otherwise.

    With ``events``, the events queued in the block (:func:`queue_event`) are added to that list once
    committed, for the caller to publish outside the transaction.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        if events is not None:
            events.extend(take_committed_events(session))
        session.close()


def queue_event(session: Session, topic: str, payload: dict[str, Any]) -> None:
    """Queue an event to publish once ``session`` commits (dropped on rollback)."""
    session.info.setdefault("pending_events", []).append((topic, payload))


def take_committed_events(session: Session) -> list[tuple[str, dict[str, Any]]]:
    return session.info.pop("committed_events", [])


@event.listens_for(Session, "after_commit")
def _move_events_to_committed(session: Session) -> None:
    pending = session.info.pop("pending_events", [])
    if pending:
        session.info.setdefault("committed_events", []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending_events(session: Session) -> None:
    session.info.pop("pending_events", None)
