"""A day at the service centre's queue over real HTTP: 800 visits issued, called and finished, with a
raw-insert baseline measured in the same run.

For each backend this starts ``saola serve`` (one uvicorn process) on 127.0.0.1 against a fresh migrated
database holding the demo centre's nine services and ten counters, then runs at the same time:

* ``--kiosks`` kiosk threads issuing ``--visits`` tickets (``POST /api/v1/queue/tickets``, services drawn
  with the centre's usual mix, one in ten a priority ticket);
* one thread per counter (ten) calling the next ticket and finishing it
  (``POST /api/v1/queue/counters/{id}/call-next`` then ``/finish``) until every ticket has been served.

Each thread has its own HTTP/1.1 connection. It reports p50/p95 latency per request kind and tickets
served per second (wall clock), checks that every ticket number was issued once and served once, and
compares with the baseline: the same number of ticket-shaped rows inserted into a scratch table of the
same database, one row per transaction (what one ticket issue commits). Bounded: it stops with an error
after ``--max-seconds``. Results are printed and appended to bench/RESULTS.md.

    .venv/bin/python bench/queue_bench.py --backend both
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from harness import fresh_database, percentile, saola_server
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
# The usual mix of a provincial centre's visits by service prefix (land and business registration lead).
MIX = {"A": 26, "B": 16, "C": 8, "D": 14, "E": 10, "F": 6, "G": 4, "H": 8, "T": 8}


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.samples.setdefault(kind, []).append(seconds)


def prepare(url: str) -> tuple[str, dict[str, int], list[int]]:
    """Migrate, load the demo centre, add a kiosk/clerk account: (API token, service ids, counter ids)."""
    sys.path.insert(0, str(ROOT / "src"))
    from saola.core.auth import service as auth
    from saola.core.db import make_engine, make_session_factory, unit_of_work
    from saola.core.directory.models import Agency
    from saola.core.migrate import upgrade
    from saola.egov.queue import service as queue
    from saola.egov.queue import setup
    from saola.egov.queue.demo import load_queue_demo

    upgrade(url)
    engine = make_engine(url)

    class Report:
        def add(self, what: str, n: int) -> None:
            pass

    class Ctx:
        def __init__(self, session: object) -> None:
            self.session, self.report = session, Report()

    with unit_of_work(make_session_factory(engine)) as session:
        load_queue_demo(Ctx(session))
        centre = Agency(code="TTPVHCC", name="Trung tâm Phục vụ hành chính công",
                        name_en="Public Administration Service Centre", kind="centre")
        session.add(centre)
        session.flush()
        user = auth.create_user(session, username="bench.clerk", password="Bench-Queue-2026", role="clerk",
                                agency_id=centre.id, full_name="Bench clerk")
        _row, secret = auth.create_token(session, user=user, scopes=None)
        services = {s.prefix: s.id for s in setup.list_services(session)}
        counters = [c.id for c in setup.list_counters(session)]
        for counter_id in counters:
            queue.set_counter_open(session, counter_id=counter_id, is_open=True, actor=None)
    engine.dispose()
    return secret, services, counters


def raw_insert_rate(url: str, rows: int) -> float:
    """Rows/s of inserting ticket-shaped rows into a scratch table, one row per transaction."""
    from saola.core.db import make_engine  # the server's engine settings (SQLite WAL, synchronous=NORMAL)

    engine = make_engine(url)
    key = "serial" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE bench_raw_tickets (id {key} PRIMARY KEY, public_id varchar(32) NOT NULL, "
                          "day date NOT NULL, prefix varchar(2) NOT NULL, number integer NOT NULL, code varchar(8), "
                          "service_id integer, status varchar(10), issued_at timestamp, "
                          "UNIQUE (prefix, day, number))"))
    today = datetime.now(UTC).date()
    insert = text("INSERT INTO bench_raw_tickets (public_id, day, prefix, number, code, service_id, status, "
                  "issued_at) VALUES (:p, :d, 'A', :n, :c, 1, 'waiting', :t)")
    with engine.connect() as conn:
        began = time.perf_counter()
        for n in range(1, rows + 1):
            conn.execute(insert, {"p": uuid.uuid4().hex, "d": today, "n": n, "c": f"A{n:03d}", "t": datetime.now(UTC)})
            conn.commit()
        seconds = time.perf_counter() - began
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_raw_tickets"))
    engine.dispose()
    return rows / seconds


@dataclass
class Run:
    backend: str
    visits: int
    wall: float
    timings: Timings
    raw_rate: float
    errors: list[str]


def run_day(base: str, secret: str, services: dict[str, int], counters: list[int], args: argparse.Namespace,
            backend: str) -> tuple[float, Timings, list[str]]:
    headers = {"Authorization": f"Bearer {secret}"}
    timings = Timings()
    errors: list[str] = []
    issued: list[str] = []
    served: list[str] = []
    lock = threading.Lock()
    kiosks_done = threading.Event()
    deadline = time.monotonic() + args.max_seconds
    prefixes = [p for p in MIX if p in services]
    weights = [MIX[p] for p in prefixes]

    def kiosk(k: int) -> None:
        rng = random.Random(1000 + k)
        share = args.visits // args.kiosks + (1 if k < args.visits % args.kiosks else 0)
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            for _ in range(share):
                body = {"service_id": services[rng.choices(prefixes, weights)[0]],
                        "priority": "elderly" if rng.random() < 0.1 else ""}
                began = time.perf_counter()
                response = http.post("/api/v1/queue/tickets", json=body)
                timings.add("issue", time.perf_counter() - began)
                with lock:
                    (issued.append(response.json()["code"]) if response.status_code == 201
                     else errors.append(f"issue {response.status_code} {response.text[:120]}"))

    def counter(counter_id: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                response = http.post(f"/api/v1/queue/counters/{counter_id}/call-next")
                elapsed = time.perf_counter() - began
                if response.status_code == 409 and response.json().get("code") == "queue-empty":
                    timings.add("call-next (empty)", elapsed)
                    if kiosks_done.is_set():
                        return
                    time.sleep(0.1)
                    continue
                timings.add("call-next", elapsed)
                if response.status_code != 200:
                    with lock:
                        errors.append(f"call {response.status_code} {response.text[:120]}")
                    continue
                code = response.json()["code"]
                began = time.perf_counter()
                finished = http.post(f"/api/v1/queue/counters/{counter_id}/finish")
                timings.add("finish", time.perf_counter() - began)
                with lock:
                    (served.append(code) if finished.status_code == 200
                     else errors.append(f"finish {finished.status_code} {finished.text[:120]}"))
        with lock:
            errors.append(f"counter {counter_id} stopped at --max-seconds")

    began = time.perf_counter()
    kiosk_threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(args.kiosks)]
    counter_threads = [threading.Thread(target=counter, args=(c,)) for c in counters]
    for t in [*kiosk_threads, *counter_threads]:
        t.start()
    for t in kiosk_threads:
        t.join()
    kiosks_done.set()
    for t in counter_threads:
        t.join()
    wall = time.perf_counter() - began
    # Every ticket issued once (codes are unique per prefix and day) and served once.
    if len(set(issued)) != len(issued):
        errors.append(f"duplicate ticket codes: {len(issued) - len(set(issued))}")
    if sorted(served) != sorted(issued):
        errors.append(f"issued {len(issued)} tickets but served {len(served)}")
    print(f"{backend}: {len(issued)} issued, {len(served)} served in {wall:.1f} s", file=sys.stderr)
    return wall, timings, errors


def run_backend(backend: str, args: argparse.Namespace) -> Run:
    with tempfile.TemporaryDirectory(prefix="saola-qbench-") as tmp:
        workdir = Path(tmp)
        with fresh_database(backend, args.pg_url, workdir, "saola_qbench") as url:
            secret, services, counters = prepare(url)
            with saola_server(url, workdir) as base:
                wall, timings, errors = run_day(base, secret, services, counters, args, backend)
            raw = raw_insert_rate(url, args.visits)
    return Run(backend, args.visits, wall, timings, raw, errors)


def report(run: Run) -> str:
    rate = run.visits / run.wall
    lines = [f"### {run.backend}", "",
             f"{run.visits} visits issued, called and finished in {run.wall:.1f} s: **{rate:.1f} tickets/s** "
             f"end to end (3 requests each). Raw insert baseline: {run.raw_rate:.0f} rows/s (one row per "
             f"transaction); ticket issue throughput alone is estimated below.", "",
             "| request | n | p50 ms | p95 ms | mean ms |", "|---|---|---|---|---|"]
    for kind in ("issue", "call-next", "finish", "call-next (empty)"):
        values = run.timings.samples.get(kind, [])
        if values:
            lines.append(f"| {kind} | {len(values)} | {percentile(values, .5) * 1000:.1f} | "
                         f"{percentile(values, .95) * 1000:.1f} | {statistics.fmean(values) * 1000:.1f} |")
    issue = run.timings.samples.get("issue", [])
    if issue:
        per_issue = 1 / statistics.fmean(issue)
        lines += ["", f"One kiosk connection issues {per_issue:.0f} tickets/s (1 / mean issue latency) = "
                      f"{per_issue / run.raw_rate:.3f}× the raw single-row insert rate (an HTTP ticket issue costs "
                      f"{run.raw_rate / per_issue:.0f} raw inserts); end to end the day runs at "
                      f"{rate / run.raw_rate:.4f}× the raw rate, and its {run.visits} visits take {run.wall:.0f} s "
                      f"against a centre's 8 working hours."]
    lines.append("")
    lines.append("Errors: none." if not run.errors else "Errors: " + "; ".join(run.errors[:10]))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=800, help="tickets in the simulated day")
    parser.add_argument("--kiosks", type=int, default=4, help="concurrent kiosk threads")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop (with an error) after this long")
    parser.add_argument("--pg-url", default=os.environ.get("SAOLA_BENCH_PG_URL",
                                                           "postgresql+psycopg://root@127.0.0.1:5432/postgres"))
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if not 1 <= args.visits <= 100_000 or not 1 <= args.kiosks <= 64 or args.max_seconds <= 0:
        parser.error("--visits 1..100000, --kiosks 1..64, --max-seconds > 0")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    began = datetime.now(UTC)
    runs = [run_backend(backend, args) for backend in backends]
    command = "bench/queue_bench.py " + " ".join(sys.argv[1:])
    machine = f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()})"
    text_out = (f"\n## Queue at the service centre: a day of {args.visits} visits — {began:%Y-%m-%d %H:%M} UTC\n\n"
                f"`{command}` on {machine} (shared with other work); server: one `saola serve` process (uvicorn, "
                f"1 worker) on 127.0.0.1; clients: {args.kiosks} kiosk threads and 10 counter threads, one HTTP/1.1 "
                f"connection each, on the same machine.\n\n" + "\n".join(report(r) for r in runs))
    print(text_out)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text_out)
    if any(r.errors for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
