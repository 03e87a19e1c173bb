"""What the benchmarks share: a free loopback port, a fresh database per run, a Saola server
on 127.0.0.1 as a subprocess, and percentiles.

The scripts in bench/ run as files (``python bench/x.py``), so they import this module by
its bare name from their own folder.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

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
def saola_server(url: str, workdir: Path, *, migrate: bool = False, env: Mapping[str, str] | None = None,
                 workers: int = 1) -> Iterator[str]:
    """``saola serve`` (``workers`` processes) on a free loopback port against ``url``; yields its base URL.

    The server's process id is in ``os.environ["SAOLA_BENCH_SERVER_PID"]`` meanwhile (see :func:`tree_cpu_seconds`).
    """
    port = free_port()
    full_env = {**os.environ, "SAOLA_DATABASE_URL": url, "SAOLA_DATA_DIR": str(workdir), "SAOLA_ENV": "development",
                "SAOLA_LOG_LEVEL": "WARNING", **(env or {})}
    saola = Path(sys.executable).with_name("saola")
    if migrate:
        subprocess.run([str(saola), "migrate"], env=full_env, check=True, capture_output=True)
    log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed below, after the server stops
    server = subprocess.Popen([str(saola), "serve", "--port", str(port), "--workers", str(workers)], env=full_env,
                              stdout=log, stderr=log)
    os.environ["SAOLA_BENCH_SERVER_PID"] = str(server.pid)
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


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its living descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += (int(stats[current][11]) + int(stats[current][12])) / tick
        todo += children.get(current, [])
    return total


class LoopbackClient:
    """A plain HTTP/1.1 keep-alive client (``http.client``): a tenth of httpx's CPU per request, which
    matters when the clients share the machine with the server they measure."""

    def __init__(self, base: str, timeout: float = 120) -> None:
        parts = urlsplit(base)
        self.prefix = parts.path.rstrip("/")
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)

    def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, self.prefix + path, body=data, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
