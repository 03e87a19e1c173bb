"""What the benchmarks share: a free loopback port, a fresh database per run, a Saola server
on 127.0.0.1 as a subprocess, and percentiles.

The scripts in bench/ run as files (``python bench/x.py``), so they import this module by
its bare name from their own folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_database(backend: str, pg_url: str, workdir: Path, prefix: str = "saola_bench") -> Iterator[str]:
    """A new SQLite file in ``workdir``, or a new PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def saola_server(url: str, workdir: Path, *, migrate: bool = False,
                 env: Mapping[str, str] | None = None) -> Iterator[str]:
    """``saola serve`` on a free loopback port against ``url``; yields its base URL."""
    port = free_port()
    full_env = {**os.environ, "SAOLA_DATABASE_URL": url, "SAOLA_DATA_DIR": str(workdir), "SAOLA_ENV": "development",
                "SAOLA_LOG_LEVEL": "WARNING", **(env or {})}
    saola = Path(sys.executable).with_name("saola")
    if migrate:
        subprocess.run([str(saola), "migrate"], env=full_env, check=True, capture_output=True)
    log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed below, after the server stops
    server = subprocess.Popen([str(saola), "serve", "--port", str(port)], env=full_env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"Saola did not start; see {workdir / 'server.log'}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
