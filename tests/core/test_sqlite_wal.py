"""The SQLite write-ahead log is checkpointed and truncated once past its limit, also while a reader is open."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from saola.app import create_app
from saola.core.db import make_engine
from saola.core.migrate import upgrade
from saola.core.settings import load_settings
from saola.core.sqlite_wal import WalCheckpointer


def _fill(engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body TEXT)"))
        conn.execute(text("INSERT INTO filler (body) VALUES (:b)"), [{"b": "x" * 500} for _ in range(rows)])


def test_a_log_past_its_limit_is_emptied_and_nothing_written_is_lost(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    job = WalCheckpointer(engine, limit_bytes=64 * 1024)
    _fill(engine, 500)
    assert job.wal_bytes() > 64 * 1024
    assert job.run_once() is True
    assert job.wal_bytes() == 0 and job.checkpoints == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM filler")).scalar() == 500


def test_a_small_log_is_left_alone(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    _fill(engine, 1)
    job = WalCheckpointer(engine, limit_bytes=64 * 2**20)
    assert job.run_once() is False and job.checkpoints == 0


def test_the_checkpoint_waits_for_a_reader_in_the_middle_of_a_read(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    engine = make_engine(f"sqlite:///{path}")
    _fill(engine, 500)
    reader = sqlite3.connect(path, check_same_thread=False)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM filler").fetchone() == (500,)  # a read snapshot on the log
    threading.Timer(0.5, reader.rollback).start()  # the reader finishes half a second later
    began = time.monotonic()
    assert WalCheckpointer(engine, limit_bytes=1024).run_once() is True
    assert time.monotonic() - began >= 0.4
    reader.close()


def test_the_app_runs_the_checkpoint_job_on_sqlite_only_when_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    for limit, running in ((64, True), (0, False)):
        settings = load_settings(database_url=url, data_dir=tmp_path, env="test", sqlite_wal_checkpoint_mb=limit,
                                 secret_key="test-secret-key-0123456789abcdef0123456789")
        app = create_app(settings)
        with TestClient(app):
            assert hasattr(app.state, "wal_checkpointer") is running
