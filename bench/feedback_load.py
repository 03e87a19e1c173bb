"""The 1022 hotline under load over real HTTP: 5,000 citizen reports submitted by concurrent app clients while
staff triage and handle them, with a raw-insert baseline measured in the same run; nothing may be lost.

For the chosen backend this starts ``saola serve`` (one uvicorn process) on 127.0.0.1 against a fresh migrated
database holding the demo's 27 categories and their agencies, the triage centre (IOC), one handling account
per agency and the demo's classifier (trained on the demo labelled reports, auto-routing at the default
confidence), then runs at the same time:

* ``--clients`` app threads submitting ``--reports`` reports (``POST /api/v1/reports`` with a token holding
  only ``feedback:submit``): texts from the demo labelled reports, three in four with the category chosen,
  the others left to the classifier (routed automatically when it is sure enough, else the triage queue);
* ``--staff`` operator threads emptying the triage queue (``POST /api/v1/reports/{id}/category``) and taking
  the newest routed reports through ``assigned → in_progress → resolved`` (``POST .../transition``) until
  ``--transitions`` staff moves are made; each thread handles the reports whose case id falls to it.

Each thread has its own HTTP/1.1 connection. It reports reports/s (wall clock of the submitting clients),
p50/p95 latency of submitting, of staff moves and of the staff's queue reads, and the baseline: the same
number of report-shaped rows inserted into a scratch table of the same database with ``executemany``, 1,000
rows a transaction, and one row per transaction. It then checks that every accepted report is stored (count
in = count stored, every tracking code found) and exits non-zero on any loss, any 5xx or any other unexpected
answer. Bounded: it stops with an error after ``--max-seconds``. Results are printed and appended to
bench/RESULTS.md.

    .venv/bin/python bench/feedback_load.py                       # PostgreSQL, 5,000 reports, 8 clients
    .venv/bin/python bench/feedback_load.py --backend sqlite --reports 500 --no-record
"""

from __future__ import annotations

import argparse
import json
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
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import fresh_database, percentile, saola_server

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
PASSWORD = "Bench-Feedback-2026"
POINTS = [(21.199973, 106.050204), (21.288014, 106.220658)]  # inside wards Kinh Bắc and Bắc Giang
ANSWERS = {"street-lighting": {"lamp_state": "off"}, "traffic-signal": {"signal_state": "off"}}
WITH_CATEGORY = 0.75


@dataclass
class Setup:
    app_token: str
    staff_token: str
    assignees: dict[str, int]  # agency code -> id of a user of that agency
    texts: dict[str, list[str]]  # service_code -> demo texts


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # tracking codes
    statuses: dict[str, int] = field(default_factory=dict)  # status at submission -> count
    uncategorised: int = 0  # sent without a category
    auto_routed: int = 0  # of those, routed by the classifier at once
    moves: int = 0

    def time(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.samples.setdefault(kind, []).append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def prepare(url: str, workdir: Path) -> Setup:
    """Migrate; load the categories with their agencies, the accounts and the demo classifier."""
    sys.path.insert(0, str(ROOT / "src"))
    from saola.core.auth import service as auth
    from saola.core.db import make_engine, make_session_factory, unit_of_work, utcnow
    from saola.core.directory.models import Agency
    from saola.core.migrate import upgrade
    from saola.core.settings import load_settings
    from saola.feedback import training
    from saola.feedback.demo import catalogue, load_categories
    from saola.feedback.training_data import demo_document

    upgrade(url)
    codes = sorted({c["agency"] for f in catalogue()["fields"] for c in f["categories"]} | {"IOC"})
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        agencies = {code: Agency(code=code, name=code, name_en=code, kind="department") for code in codes}
        session.add_all(agencies.values())
        session.flush()
        loaded = load_categories(session)
        assert loaded.categories == 27, loaded
        app_user = auth.create_user(session, username="bench.app", password=PASSWORD, role="operator",
                                    agency_id=agencies["IOC"].id, full_name="Bench citizen app")
        operator = auth.create_user(session, username="bench.operator", password=PASSWORD, role="operator",
                                    agency_id=agencies["IOC"].id, full_name="Bench hotline operator")
        assignees = {}
        for code, agency in agencies.items():
            user = auth.create_user(session, username=f"bench.{code.lower()}", password=PASSWORD,
                                    role="agency_staff", agency_id=agency.id, full_name=f"Bench staff {code}")
            assignees[code] = user.id
        app_token = auth.create_token(session, user=app_user, scopes=["feedback:submit"], name="bench app")[1]
        staff_token = auth.create_token(session, user=operator, scopes=None, name="bench staff")[1]
        settings = load_settings(database_url=url, data_dir=workdir)
        card = training.install_demo_model(session, settings=settings, now=utcnow())
        assert card is not None
    engine.dispose()
    return Setup(app_token, staff_token, assignees, demo_document()["reports"])


def raw_insert_rates(url: str, rows: int) -> tuple[float, float]:
    """Rows/s of report-shaped rows into a scratch table: executemany 1,000 a transaction; one a transaction."""
    from saola.core.db import make_engine

    engine = make_engine(url)
    key = "serial" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE bench_raw_reports (id {key} PRIMARY KEY, code varchar(32) UNIQUE NOT NULL, "
                          "token varchar(40), channel varchar(20), service_code varchar(60), description text, "
                          "lat float, lon float, ward_code varchar(10), status varchar(40), at timestamp)"))
    insert = text("INSERT INTO bench_raw_reports (code, token, channel, service_code, description, lat, lon, "
                  "ward_code, status, at) VALUES (:c, :k, 'app', 'street-lighting', :d, 21.2, 106.05, '09187', "
                  "'triaged', :t)")

    def row() -> dict[str, object]:
        return {"c": uuid.uuid4().hex, "k": uuid.uuid4().hex, "d": "Đèn đường trước nhà số 12 không sáng",
                "t": datetime.now(UTC)}

    rates = []
    with engine.connect() as conn:
        began = time.perf_counter()
        for start in range(0, rows, 1000):
            conn.execute(insert, [row() for _ in range(min(1000, rows - start))])
            conn.commit()
        rates.append(rows / (time.perf_counter() - began))
        began = time.perf_counter()
        for _ in range(rows):
            conn.execute(insert, row())
            conn.commit()
        rates.append(rows / (time.perf_counter() - began))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_raw_reports"))
    engine.dispose()
    return rates[0], rates[1]


def submitters(base: str, setup: Setup, args: argparse.Namespace, tally: Tally, deadline: float) -> float:
    codes = sorted(setup.texts)

    def client(k: int) -> None:
        rng = random.Random(1022 + k)
        share = args.reports // args.clients + (1 if k < args.reports % args.clients else 0)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {setup.app_token}"}, timeout=60) as http:
            for n in range(share):
                if time.monotonic() > deadline:
                    tally.error("submitting stopped at --max-seconds")
                    return
                code = rng.choice(codes)
                lat, lon = rng.choice(POINTS)
                body: dict[str, object] = {"description": f"{rng.choice(setup.texts[code])} (#{k}-{n})",
                                           "lat": round(lat + rng.uniform(-0.002, 0.002), 6),
                                           "long": round(lon + rng.uniform(-0.002, 0.002), 6)}
                if rng.random() < WITH_CATEGORY:
                    body.update(service_code=code, attributes=ANSWERS.get(code, {}))
                began = time.perf_counter()
                try:
                    answer = http.post("/api/v1/reports", json=body)
                except httpx.TransportError as exc:
                    tally.error(f"submit: {exc!r}")
                    continue
                tally.time("submit", time.perf_counter() - began)
                if answer.status_code != 201:
                    tally.error(f"submit {answer.status_code} {answer.text[:160]}")
                    continue
                receipt = answer.json()
                with tally.lock:
                    tally.accepted.append(receipt["tracking_code"])
                    tally.statuses[receipt["status"]] = tally.statuses.get(receipt["status"], 0) + 1
                    if "service_code" not in body:
                        tally.uncategorised += 1
                        tally.auto_routed += receipt["service_code"] is not None

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


def staff(base: str, setup: Setup, args: argparse.Namespace, tally: Tally, deadline: float,
          submitting: threading.Event) -> list[threading.Thread]:
    """Threads that empty the triage queue and handle the newest routed reports, ``--transitions`` moves in all."""
    budget = {"left": args.transitions}

    def take() -> bool:
        with tally.lock:
            if budget["left"] <= 0:
                return False
            budget["left"] -= 1
            return True

    def move(http: httpx.Client, kind: str, url: str, body: dict[str, object]) -> bool:
        began = time.perf_counter()
        try:
            answer = http.post(url, json=body)
        except httpx.TransportError as exc:
            tally.error(f"{kind}: {exc!r}")
            return False
        tally.time("staff move", time.perf_counter() - began)
        if answer.status_code != 200:
            tally.error(f"{kind} {answer.status_code} {answer.text[:160]}")
            return False
        with tally.lock:
            tally.moves += 1
        return True

    def listing(http: httpx.Client, status: str) -> list[dict[str, object]]:
        began = time.perf_counter()
        answer = http.get("/api/v1/reports", params={"status": status, "limit": 50})
        tally.time("staff queue read", time.perf_counter() - began)
        if answer.status_code != 200:
            tally.error(f"list {answer.status_code} {answer.text[:160]}")
            return []
        return answer.json()

    def worker(k: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {setup.staff_token}"}, timeout=60) as http:
            while time.monotonic() < deadline:
                busy = False
                for item in listing(http, "received"):  # the triage queue: a person gives the category
                    if item["case_id"] % args.staff != k:
                        continue
                    guess = item.get("suggested_service_code") or "other"
                    busy |= move(http, "categorise", f"/api/v1/reports/{item['case_id']}/category",
                                 {"service_code": guess})
                with tally.lock:
                    out_of_moves = budget["left"] <= 0
                for item in [] if out_of_moves else listing(http, "triaged"):
                    if item["case_id"] % args.staff != k or not take():
                        continue
                    busy = True
                    path = f"/api/v1/reports/{item['case_id']}/transition"
                    assignee = setup.assignees[str(item["agency"])]
                    if not move(http, "assign", path, {"to": "assigned", "assignee_id": assignee}):
                        continue
                    for body in ({"to": "in_progress"}, {"to": "resolved", "resolution": "Đã xử lý xong."}):
                        if not take() or not move(http, body["to"], path, body):
                            break
                if not busy and not submitting.is_set():
                    received = [i for i in listing(http, "received") if i["case_id"] % args.staff == k]
                    if not submitting.is_set() and not received:
                        return
                if not busy:
                    time.sleep(0.2)
            tally.error("staff stopped at --max-seconds")

    return [threading.Thread(target=worker, args=(k,)) for k in range(args.staff)]


def stored(url: str, codes: list[str]) -> tuple[int, int, int]:
    """(reports stored, cases of reports stored, accepted codes missing) after the run."""
    from saola.core.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        reports = conn.execute(text("SELECT count(*) FROM feedback_reports")).scalar_one()
        cases = conn.execute(text("SELECT count(*) FROM cases WHERE case_type = 'feedback_report'")).scalar_one()
        found = {row[0] for row in conn.execute(text("SELECT code FROM cases WHERE case_type = 'feedback_report'"))}
    engine.dispose()
    return int(reports), int(cases), len(set(codes) - found)


@dataclass
class Run:
    backend: str
    wall: float
    tally: Tally
    raw_batch: float
    raw_single: float
    reports_stored: int
    cases_stored: int
    missing: int


def run(args: argparse.Namespace) -> Run:
    with tempfile.TemporaryDirectory(prefix="saola-fbench-") as tmp:
        workdir = Path(tmp)
        with fresh_database(args.backend, args.pg_url, workdir) as url:
            setup = prepare(url, workdir)
            tally = Tally()
            deadline = time.monotonic() + args.max_seconds
            with saola_server(url, workdir) as base:
                submitting = threading.Event()
                submitting.set()
                workers = staff(base, setup, args, tally, deadline, submitting)
                for t in workers:
                    t.start()
                wall = submitters(base, setup, args, tally, deadline)
                submitting.clear()
                for t in workers:
                    t.join()
            reports, cases, missing = stored(url, tally.accepted)
            raw_batch, raw_single = raw_insert_rates(url, args.reports)
    if len(tally.accepted) != args.reports:
        tally.error(f"{len(tally.accepted)} of {args.reports} reports accepted")
    if not reports == cases == len(tally.accepted) or missing:
        tally.error(f"LOST: {len(tally.accepted)} accepted, {reports} reports and {cases} cases stored, "
                    f"{missing} tracking codes missing")
    return Run(args.backend, wall, tally, raw_batch, raw_single, reports, cases, missing)


def report(r: Run, args: argparse.Namespace) -> str:
    t = r.tally
    rate = len(t.accepted) / r.wall
    lines = [f"**{r.backend}** — {len(t.accepted)} reports accepted in {r.wall:.1f} s by {args.clients} clients: "
             f"**{rate:.1f} reports/s** while {args.staff} staff threads made {t.moves} moves. Stored: "
             f"{r.reports_stored} reports, {r.cases_stored} cases, {r.missing} tracking codes missing. Status at "
             f"submission: " + ", ".join(f"{k} {v}" for k, v in sorted(t.statuses.items()))
             + f"; of the {t.uncategorised} sent without a category, {t.auto_routed} were routed by the classifier "
             "at once.", "",
             f"Raw insert baseline (same number of report-shaped rows, same database): **{r.raw_batch:,.0f} rows/s** "
             f"with executemany, 1,000 rows a transaction (HTTP reports at {rate / r.raw_batch:.4f}× it); "
             f"**{r.raw_single:,.0f} rows/s** one row per transaction ({rate / r.raw_single:.3f}× it).", "",
             "| request | n | p50 ms | p95 ms | mean ms |", "|---|---|---|---|---|"]
    for kind in ("submit", "staff move", "staff queue read"):
        values = t.samples.get(kind, [])
        if values:
            lines.append(f"| {kind} | {len(values)} | {percentile(values, .5) * 1000:.1f} | "
                         f"{percentile(values, .95) * 1000:.1f} | {statistics.fmean(values) * 1000:.1f} |")
    lines += ["", "Errors: none." if not t.errors else "Errors: " + "; ".join(t.errors[:10])]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=5000, help="reports submitted through the API")
    parser.add_argument("--clients", type=int, default=8, help="concurrent submitting app threads")
    parser.add_argument("--staff", type=int, default=2, help="concurrent staff threads")
    parser.add_argument("--transitions", type=int, default=1500,
                        help="staff moves on routed reports (assign, start, resolve), besides triaging")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop (with an error) after this long")
    parser.add_argument("--pg-url", default=os.environ.get("SAOLA_BENCH_PG_URL",
                                                           "postgresql+psycopg://root@127.0.0.1:5432/postgres"))
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if (not 1 <= args.reports <= 100_000 or not 1 <= args.clients <= 64 or not 1 <= args.staff <= 16
            or not 0 <= args.transitions <= 300_000 or args.max_seconds <= 0):
        parser.error("--reports 1..100000, --clients 1..64, --staff 1..16, --transitions 0..300000, "
                     "--max-seconds > 0")
    began = datetime.now(UTC)
    result = run(args)
    command = "bench/feedback_load.py " + " ".join(sys.argv[1:])
    machine = f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()})"
    text_out = (f"\n## 1022 hotline: {args.reports:,} reports from {args.clients} clients while staff handle them — "
                f"{began:%Y-%m-%d %H:%M} UTC\n\n"
                f"`{command}` on {machine} (shared with other work); server: one `saola serve` process (uvicorn, "
                f"1 worker) on 127.0.0.1 with the demo classifier (auto-routing at 0.8); clients: {args.clients} app "
                f"threads (token with only `feedback:submit`) and {args.staff} operator threads, one HTTP/1.1 "
                f"connection each, on the same machine.\n\n" + report(result, args))
    print(text_out)
    print(json.dumps({"errors": len(result.tally.errors)}), file=sys.stderr)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text_out)
    if result.tally.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
