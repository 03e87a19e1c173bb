"""A day at the one-stop shop over real HTTP: 800 dossiers received at the counter and 2,000 dossier
transitions, with citizens looking their dossiers up and leaders reading the statistics, and a raw-insert
baseline measured in the same run.

For each backend this starts ``saola serve`` (one uvicorn process) on 127.0.0.1 against a fresh migrated
database holding the 30 demo procedures, the centre (TTPVHCC) and the six processing agencies, one clerk
and one staff account per agency, then runs at the same time:

* ``--clerks`` counter threads receiving ``--visits`` dossiers (``POST /api/v1/dossiers``, procedures
  drawn at random from the catalogue) and handing each over (``POST .../transitions`` to ``in_processing``);
* ``--agents`` agency threads taking handed-over dossiers, marking the result ready (staff of the
  processing agency) and, until the day's ``--transitions`` are used up, returning the result (clerk);
  after each dossier the citizen looks it up by code (``GET /api/v1/dossiers/lookup``);
* one leader thread reading ``GET /api/v1/dossiers/stats`` and ``/index`` every ``--stats-every`` seconds.

Each thread has its own HTTP/1.1 connection. It reports p50/p95 latency per request kind, requests and
transitions per second (wall clock), checks that every dossier reached the state it was moved to, and
compares with the baseline: the same number of dossier-shaped rows (visits + transitions) inserted into a
scratch table of the same database, one row per transaction. Bounded: it stops with an error after
``--max-seconds``. Results are printed and appended to bench/RESULTS.md.

    .venv/bin/python bench/egov_load.py --backend both
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import fresh_database, percentile, saola_server
from queue_bench import Timings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
PASSWORD = "Bench-Egov-2026"


@dataclass
class Setup:
    clerk: str
    staff: dict[str, str]  # procedure code -> token of a staff member of its processing agency
    procedures: list[str]


def prepare(url: str) -> Setup:
    """Migrate, load the demo catalogue, add the centre, the processing agencies and their accounts."""
    sys.path.insert(0, str(ROOT / "src"))
    from saola.core.auth import service as auth
    from saola.core.db import make_engine, make_session_factory, unit_of_work
    from saola.core.directory.models import Agency
    from saola.core.migrate import upgrade
    from saola.egov import procedures
    from saola.egov.models import Procedure

    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        procedures.load_demo_catalogue(session)
        catalogue = list(session.scalars(select(Procedure).where(Procedure.active.is_(True))))
        centre = Agency(code="TTPVHCC", name="Trung tâm Phục vụ hành chính công",
                        name_en="Public Administration Service Centre", kind="centre")
        session.add(centre)
        codes = sorted({p.steps[0]["agency"] for p in catalogue if p.steps})
        agencies = {code: Agency(code=code, name=code, name_en=code, kind="department") for code in codes}
        session.add_all(agencies.values())
        session.flush()
        clerk = auth.create_user(session, username="bench.clerk", password=PASSWORD, role="clerk",
                                 agency_id=centre.id, full_name="Bench clerk")
        tokens = {}
        for code, agency in agencies.items():
            user = auth.create_user(session, username=f"bench.{code.lower()}", password=PASSWORD, role="agency_staff",
                                    agency_id=agency.id, full_name=f"Bench staff {code}")
            tokens[code] = auth.create_token(session, user=user, scopes=None)[1]
        staff = {p.code: tokens[p.steps[0]["agency"]] for p in catalogue if p.steps}
        clerk_token = auth.create_token(session, user=clerk, scopes=None)[1]
    engine.dispose()
    return Setup(clerk_token, staff, sorted(staff))


def raw_insert_rate(url: str, rows: int) -> float:
    """Rows/s of inserting dossier-shaped rows into a scratch table, one row per transaction."""
    from saola.core.db import make_engine

    engine = make_engine(url)
    key = "serial" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE bench_raw_dossiers (id {key} PRIMARY KEY, code varchar(32) UNIQUE NOT NULL, "
                          "procedure varchar(30), status varchar(40), applicant varchar(200), at timestamp)"))
    insert = text("INSERT INTO bench_raw_dossiers (code, procedure, status, applicant, at) "
                  "VALUES (:c, '1.000001', 'received', 'Nguyễn Văn A', :t)")
    with engine.connect() as conn:
        began = time.perf_counter()
        for _ in range(rows):
            conn.execute(insert, {"c": uuid.uuid4().hex, "t": datetime.now(UTC)})
            conn.commit()
        seconds = time.perf_counter() - began
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_raw_dossiers"))
    engine.dispose()
    return rows / seconds


@dataclass
class Run:
    backend: str
    visits: int
    transitions: int
    requests: int
    wall: float
    timings: Timings
    raw_rate: float
    errors: list[str]


def run_day(base: str, setup: Setup, args: argparse.Namespace) -> tuple[float, Timings, list[str], int, int]:
    timings = Timings()
    errors: list[str] = []
    lock = threading.Lock()
    handed: queue.Queue[tuple[int, str, str] | None] = queue.Queue()
    deadline = time.monotonic() + args.max_seconds
    done = threading.Event()
    moves = {"count": 0, "returns_left": args.transitions - 2 * args.visits, "requests": 0}

    def call(http: httpx.Client, kind: str, method: str, url: str, **kw: object) -> httpx.Response | None:
        if time.monotonic() > deadline:
            with lock:
                errors.append(f"{kind} stopped at --max-seconds")
            return None
        began = time.perf_counter()
        response = http.request(method, url, **kw)
        timings.add(kind, time.perf_counter() - began)
        with lock:
            moves["requests"] += 1
        return response

    def failed(kind: str, response: httpx.Response | None, expected: int) -> bool:
        if response is not None and response.status_code == expected:
            return False
        with lock:
            errors.append(f"{kind} {getattr(response, 'status_code', '-')} {getattr(response, 'text', '')[:120]}")
        return True

    def clerk(k: int) -> None:
        rng = random.Random(2000 + k)
        share = args.visits // args.clerks + (1 if k < args.visits % args.clerks else 0)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {setup.clerk}"}, timeout=30) as http:
            for n in range(share):
                code = rng.choice(setup.procedures)
                body = {"procedure_code": code, "applicant_name": f"Nguyễn Văn {k}-{n}",
                        "applicant_phone": "0912345678"}
                received = call(http, "receive", "POST", "/api/v1/dossiers", json=body)
                if failed("receive", received, 201):
                    return
                dossier = received.json()
                moved = call(http, "transition", "POST", f"/api/v1/dossiers/{dossier['id']}/transitions",
                             json={"to": "in_processing"})
                if failed("hand over", moved, 200):
                    return
                with lock:
                    moves["count"] += 1
                handed.put((dossier["id"], dossier["code"], code))

    def agent(k: int) -> None:
        clients = {token: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
                   for token in {*setup.staff.values(), setup.clerk}}
        public = httpx.Client(base_url=base, timeout=30)
        try:
            while True:
                item = handed.get()
                if item is None:
                    return
                dossier_id, code, procedure = item
                http = clients[setup.staff[procedure]]
                ready = call(http, "transition", "POST", f"/api/v1/dossiers/{dossier_id}/transitions",
                             json={"to": "result_ready"})
                if failed("result ready", ready, 200):
                    continue
                with lock:
                    moves["count"] += 1
                    give_back = moves["returns_left"] > 0
                    moves["returns_left"] -= give_back
                if give_back:
                    returned = call(clients[setup.clerk], "transition", "POST",
                                    f"/api/v1/dossiers/{dossier_id}/transitions", json={"to": "returned"})
                    if not failed("return", returned, 200):
                        with lock:
                            moves["count"] += 1
                looked = call(public, "lookup", "GET", "/api/v1/dossiers/lookup", params={"code": code})
                if not failed("lookup", looked, 200):
                    expected = "returned" if give_back else "result_ready"
                    if looked.json()["status"] != expected:
                        with lock:
                            errors.append(f"{code} is {looked.json()['status']}, not {expected}")
        finally:
            for client in (*clients.values(), public):
                client.close()

    def leader() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {setup.clerk}"}, timeout=60) as http:
            while not done.wait(args.stats_every):
                failed("stats", call(http, "stats", "GET", "/api/v1/dossiers/stats", params={"by": "agency"}), 200)
                failed("index", call(http, "index", "GET", "/api/v1/dossiers/index"), 200)

    began = time.perf_counter()
    clerks = [threading.Thread(target=clerk, args=(k,)) for k in range(args.clerks)]
    agents = [threading.Thread(target=agent, args=(k,)) for k in range(args.agents)]
    boss = threading.Thread(target=leader)
    for t in [*clerks, *agents, boss]:
        t.start()
    for t in clerks:
        t.join()
    for _ in agents:
        handed.put(None)
    for t in agents:
        t.join()
    wall = time.perf_counter() - began
    done.set()
    boss.join()
    if moves["count"] != args.transitions:
        errors.append(f"made {moves['count']} transitions, not {args.transitions}")
    print(f"{moves['count']} transitions, {moves['requests']} requests in {wall:.1f} s", file=sys.stderr)
    return wall, timings, errors, moves["count"], moves["requests"]


def run_backend(backend: str, args: argparse.Namespace) -> Run:
    with tempfile.TemporaryDirectory(prefix="saola-ebench-") as tmp:
        workdir = Path(tmp)
        with fresh_database(backend, args.pg_url, workdir) as url:
            setup = prepare(url)
            with saola_server(url, workdir) as base:
                wall, timings, errors, transitions, requests = run_day(base, setup, args)
            raw = raw_insert_rate(url, args.visits + args.transitions)
    return Run(backend, args.visits, transitions, requests, wall, timings, raw, errors)


def report(run: Run) -> str:
    writes = run.visits + run.transitions
    lines = [f"### {run.backend}", "",
             f"{run.visits} dossiers received and {run.transitions} transitions made in {run.wall:.1f} s: "
             f"**{writes / run.wall:.1f} dossier writes/s** and {run.requests / run.wall:.1f} requests/s end to end "
             f"({run.requests} requests). Raw insert baseline: **{run.raw_rate:.0f} rows/s** (one row per "
             f"transaction) — the HTTP writes run at {writes / run.wall / run.raw_rate:.3f}× it.", "",
             "| request | n | p50 ms | p95 ms | mean ms |", "|---|---|---|---|---|"]
    for kind in ("receive", "transition", "lookup", "stats", "index"):
        values = run.timings.samples.get(kind, [])
        if values:
            lines.append(f"| {kind} | {len(values)} | {percentile(values, .5) * 1000:.1f} | "
                         f"{percentile(values, .95) * 1000:.1f} | {statistics.fmean(values) * 1000:.1f} |")
    lines += ["", f"The day's {run.visits} visits take {run.wall:.0f} s of server time against a centre's 8 working "
                  "hours.", ""]
    lines.append("Errors: none." if not run.errors else "Errors: " + "; ".join(run.errors[:10]))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=800, help="dossiers received in the simulated day")
    parser.add_argument("--transitions", type=int, default=2000,
                        help="dossier transitions (2 per visit, the rest are returns); 2×visits..3×visits")
    parser.add_argument("--clerks", type=int, default=4, help="concurrent counter threads")
    parser.add_argument("--agents", type=int, default=4, help="concurrent agency threads")
    parser.add_argument("--stats-every", type=float, default=2.0, help="seconds between the leader's reads")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop (with an error) after this long")
    parser.add_argument("--pg-url", default=os.environ.get("SAOLA_BENCH_PG_URL",
                                                           "postgresql+psycopg://root@127.0.0.1:5432/postgres"))
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if (not 1 <= args.visits <= 100_000 or not 2 * args.visits <= args.transitions <= 3 * args.visits
            or not 1 <= args.clerks <= 64 or not 1 <= args.agents <= 64 or args.max_seconds <= 0
            or args.stats_every <= 0):
        parser.error("--visits 1..100000, --transitions 2×visits..3×visits, --clerks/--agents 1..64, "
                     "--max-seconds and --stats-every > 0")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    began = datetime.now(UTC)
    runs = [run_backend(backend, args) for backend in backends]
    command = "bench/egov_load.py " + " ".join(sys.argv[1:])
    machine = f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()})"
    text_out = (f"\n## One-stop shop: a day of {args.visits} visits and {args.transitions} dossier transitions — "
                f"{began:%Y-%m-%d %H:%M} UTC\n\n"
                f"`{command}` on {machine} (shared with other work); server: one `saola serve` process (uvicorn, "
                f"1 worker) on 127.0.0.1; clients: {args.clerks} counter threads, {args.agents} agency threads and "
                f"a leader reading stats and the index every {args.stats_every:g} s, one HTTP/1.1 connection "
                f"each, on the same machine.\n\n" + "\n".join(report(r) for r in runs))
    print(text_out)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text_out)
    if any(r.errors for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
