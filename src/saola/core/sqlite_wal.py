"""Keeping SQLite's write-ahead log small: a background checkpoint that restarts and truncates it.

SQLite checkpoints the log by itself after commits, but it can only start the log over when no
reader is using it. A server with requests always in flight never gives it that moment, and the log
grows without bound: 19.6 GB of WAL beside a 3.1 GB database while `bench/context_bench.py` loaded a
million entities, every read slower for it. Every 10 s, when the log has passed
``SAOLA_SQLITE_WAL_CHECKPOINT_MB``, this job runs ``PRAGMA wal_checkpoint(TRUNCATE)``, which waits
up to a second for the readers of the moment to finish, copies the log into the database and
empties it; under reads that never pause it may not get there, and tries again 10 s later. This
process's request writers queue behind it on the writer lock (:func:`saola.core.db.writer_lock`)
meanwhile. PostgreSQL needs none of this.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from saola.core.db import WRITER_WAIT_SECONDS, writer_lock
from saola.core.periodic import PeriodicJob

log = logging.getLogger(__name__)
CHECK_SECONDS = 10.0
WAIT_SECONDS = 1.0  # how long a checkpoint may wait for readers (holding the write lock meanwhile)


class WalCheckpointer(PeriodicJob):
    name = "SQLite WAL checkpoint"

    def __init__(self, engine: Engine, *, limit_bytes: int, interval_seconds: float = CHECK_SECONDS,
                 wait_seconds: float = WAIT_SECONDS) -> None:
        super().__init__(interval_seconds=interval_seconds, first_delay_seconds=interval_seconds)
        self.engine = engine
        self.wait_seconds = wait_seconds
        self.limit_bytes = limit_bytes
        self.wal = Path(f"{engine.url.database}-wal")
        self.checkpoints = 0

    def wal_bytes(self) -> int:
        try:
            return self.wal.stat().st_size
        except FileNotFoundError:
            return 0

    def run_once(self) -> bool:
        """Checkpoint and truncate the log if it has passed the limit; whether it was emptied."""
        size = self.wal_bytes()
        if size <= self.limit_bytes:
            return False
        lock = writer_lock(self.engine)
        had_lock = lock.acquire(timeout=WRITER_WAIT_SECONDS)
        # Its own connection, with a short busy timeout: while it waits for the readers of the moment it
        # holds the write lock, and writers (of other processes too) must not wait on it for long. Not
        # emptied this time, it tries again at the next check.
        conn = sqlite3.connect(str(self.engine.url.database), timeout=self.wait_seconds, isolation_level=None)
        try:
            busy, frames, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
            if had_lock:
                lock.release()
        emptied = not busy
        self.checkpoints += emptied
        log.info("SQLite write-ahead log checkpointed", extra={"wal_mb": round(size / 2**20, 1), "frames": frames,
                                                                 "copied": done, "emptied": emptied})
        return emptied


def include_routers(app: FastAPI) -> None:
    """Nothing to route."""


async def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start the checkpoint job for an SQLite database (file-backed, limit above 0); the coroutine that stops it."""
    engine: Engine = app.state.engine
    limit_mb = app.state.settings.sqlite_wal_checkpoint_mb
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:" \
            or limit_mb <= 0:
        async def nothing() -> None:
            return None

        return nothing
    job = WalCheckpointer(engine, limit_bytes=limit_mb * 2**20)
    app.state.wal_checkpointer = job
    await job.start()
    return job.stop
