"""NGSI-LD broker at city scale: throughput and p95 latency over real HTTP, with a raw-insert baseline.

For each backend this starts ``saola serve --workers N`` (``--server-workers``, 2 by default: our 2
cores) on 127.0.0.1 against a fresh database, then drives it with ``--clients`` client processes
(``http.client``, one keep-alive connection each):

1. batch upsert of ``--entities`` streetlights, 1000 per ``entityOperations/upsert`` request;
2. single attribute updates (``PATCH /entities/{id}/attrs``, with observedAt, so history grows);
3. retrieve by id; 4. query by type + q; 5. geo ``near`` query (300 m around a random point).

In the same run it measures the baseline: the same stored documents inserted into the same database
by plain ``executemany`` (SQLite) / ``COPY`` (PostgreSQL), 1000 rows a transaction; and it compares
the spatial pre-filters (bounding-box btree, SQLite R*Tree, PostgreSQL GiST on ``box``) on the
loaded geo boxes. Results are printed with ratios and appended to bench/RESULTS.md.

    .venv/bin/python bench/context_bench.py --entities 100000 --backend both
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from harness import LoopbackClient, fresh_database, saola_server, tree_cpu_seconds
from sqlalchemy import create_engine, text

from saola.context.geogrid import cells_meeting

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
BATCH = 1000
WEST, SOUTH, EAST, NORTH = 105.90, 21.00, 106.30, 21.40  # around Bac Ninh: ~42 x 44 km
NEAR_METRES = 300
ORION_LD = {"update": 1800.0, "retrieve": 4200.0, "query": 2500.0, "geo": 2500.0}  # published, 1 CPU
LUMA = "https://uri.etsi.org/ngsi-ld/default-context/luminosity"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def entity(i: int) -> dict:
    rng = random.Random(i)
    return {"id": f"urn:ngsi-ld:Streetlight:bench-{i:07d}", "type": "Streetlight",
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [
                round(rng.uniform(WEST, EAST), 6), round(rng.uniform(SOUTH, NORTH), 6)]}},
            "luminosity": {"type": "Property", "value": rng.randrange(1000), "unitCode": "CD"},
            "powerState": {"type": "Property", "value": rng.choice(["on", "off"])},
            "district": {"type": "Property", "value": f"D{rng.randrange(8):02d}"}}


def near_box(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    dlat = metres / 111_320
    dlon = metres / (111_320 * 0.933)  # cos(21 degrees)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


# --- client side: one process per client, one connection each ---------------------------------------


@dataclass
class Task:
    phase: str
    base: str
    start: int
    stop: int
    entities: int
    seed: int


def _request(task: Task, k: int, rng: random.Random) -> tuple[str, str, object | None]:
    ent = f"urn:ngsi-ld:Streetlight:bench-{rng.randrange(task.entities):07d}"
    if task.phase == "upsert":
        body = [entity(i) for i in range(k * BATCH, min((k + 1) * BATCH, task.entities))]
        return "POST", "/entityOperations/upsert", body
    if task.phase == "update":
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return "PATCH", f"/entities/{ent}/attrs", {"luminosity": {"type": "Property", "value": rng.randrange(1000),
                                                                  "observedAt": now}}
    if task.phase == "retrieve":
        return "GET", f"/entities/{ent}", None
    if task.phase == "query":
        q = quote(f'luminosity=={rng.randrange(1000)};powerState=="on"')
        return "GET", f"/entities?type=Streetlight&q={q}&limit=20", None
    lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
    georel = quote(f"near;maxDistance=={NEAR_METRES}")
    coords = quote(json.dumps([round(lon, 6), round(lat, 6)], separators=(",", ":")))
    return "GET", f"/entities?type=Streetlight&georel={georel}&geometry=Point&coordinates={coords}&limit=100", None


def run_task(task: Task) -> tuple[list[float], list[int], str]:
    """Latencies, the failed request numbers and a sample failure of one client's share of a phase."""
    rng = random.Random(task.seed)
    latencies: list[float] = []
    failed: list[int] = []
    sample = ""
    client = LoopbackClient(task.base + "/ngsi-ld/v1")
    try:
        for k in range(task.start, task.stop):
            method, path, body = _request(task, k, rng)
            began = time.perf_counter()
            status, answer = client.request(method, path, body)
            latencies.append(time.perf_counter() - began)
            if status >= 300:
                failed.append(k)
                sample = sample or f"{status} {answer[:200].decode(errors='replace')}"
    finally:
        client.close()
    return latencies, failed, sample


def reload_failed_batches(base: str, batches: list[int], entities: int) -> None:
    """Send failed upsert batches again, one at a time and untimed, so later phases see every entity."""
    task = Task("upsert", base, 0, 0, entities, 0)
    client = LoopbackClient(base + "/ngsi-ld/v1", timeout=300)
    try:
        for k in batches:
            method, path, body = _request(task, k, random.Random(0))
            status, answer = client.request(method, path, body)
            if status not in (201, 204):
                raise RuntimeError(f"batch {k} failed twice: {status} {answer[:200]!r}")
    finally:
        client.close()


@dataclass
class Figure:
    name: str
    ops: int
    items: int
    seconds: float
    p95_ms: float
    failures: int
    failed: list[int]
    server_cpu: float = 0.0  # seconds of CPU the server's processes used during the phase

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def drive(pool: multiprocessing.pool.Pool, base: str, phase: str, requests: int, entities: int, clients: int,
          items_per_request: Callable[[int], int] = lambda _k: 1) -> Figure:
    bounds = [requests * c // clients for c in range(clients + 1)]
    tasks = [Task(phase, base, bounds[c], bounds[c + 1], entities, seed=1000 * c + sum(map(ord, phase)))
             for c in range(clients)]
    server = int(os.environ["SAOLA_BENCH_SERVER_PID"])
    cpu_before = tree_cpu_seconds(server)
    began = time.perf_counter()
    results = pool.map(run_task, tasks)
    seconds = time.perf_counter() - began
    server_cpu = tree_cpu_seconds(server) - cpu_before
    latencies = sorted(x for lat, _f, _s in results for x in lat)
    failed = sorted(k for _l, f, _s in results for k in f)
    samples = [s for _l, _f, s in results if s]
    if samples:
        print(f"  {phase}: {len(failed)} failed requests, e.g. {samples[0]}", file=sys.stderr)
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000 if len(latencies) >= 2 else 0.0
    items = sum(items_per_request(k) for k in range(requests) if k not in set(failed))
    return Figure(phase, requests, items, seconds, p95, len(failed), failed, server_cpu)


# --- server and database ----------------------------------------------------------------------------


# --- baselines measured in the database itself ---------------------------------------------------------


def raw_insert_rate(url: str) -> tuple[float, int]:
    """Rows/s of inserting the stored entity documents again, plainly, 1000 rows a transaction."""
    engine = create_engine(url)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT tenant, entity_id, data, created_at, modified_at FROM ngsi_entities")).all()
        kind = "jsonb" if pg else "JSON"
        key = "serial" if pg else "INTEGER"
        conn.execute(text(f"CREATE TABLE bench_raw (id {key} PRIMARY KEY, tenant varchar(255) NOT NULL, "
                          f"entity_id varchar(1024) NOT NULL, data {kind} NOT NULL, created_at timestamp, "
                          "modified_at timestamp, UNIQUE (tenant, entity_id))"))
    documents = [(r[0], r[1], r[2] if isinstance(r[2], str) else json.dumps(r[2]), r[3], r[4]) for r in rows]
    raw = engine.raw_connection()
    try:
        began = time.perf_counter()
        cursor = raw.cursor()
        for start in range(0, len(documents), BATCH):
            chunk = documents[start:start + BATCH]
            if pg:
                with cursor.copy("COPY bench_raw (tenant, entity_id, data, created_at, modified_at) "
                                 "FROM STDIN") as copy:
                    for item in chunk:
                        copy.write_row(item)
            else:
                cursor.executemany("INSERT INTO bench_raw (tenant, entity_id, data, created_at, modified_at) "
                                   "VALUES (?, ?, ?, ?, ?)", chunk)
            raw.commit()
        seconds = time.perf_counter() - began
        cursor.execute("DROP TABLE bench_raw")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return len(rows) / seconds, len(rows)


def spatial_comparison(url: str, probes: int = 300) -> list[tuple[str, float, float, int]]:
    """(index, setup seconds, box queries/s, total hits) for each spatial pre-filter on the loaded boxes."""
    engine = create_engine(url)
    pg = engine.dialect.name == "postgresql"
    rng = random.Random(7)
    boxes = [near_box(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH), NEAR_METRES) for _ in range(probes)]
    where_btree = "min_lon <= :e AND max_lon >= :w AND min_lat <= :n AND max_lat >= :s"
    forms = {"bounding-box btree (min_lon, max_lon, min_lat, max_lat)":
             f"SELECT count(*) FROM ngsi_geo_boxes WHERE attr_iri = :a AND {where_btree}",
             "grid cells (attr_iri, cell), saola.context.geogrid":
             f"SELECT count(*) FROM ngsi_geo_boxes WHERE attr_iri = :a AND cell IN ({{cells}}) AND {where_btree}"}
    setup: dict[str, float] = {}
    with engine.begin() as conn:
        if pg:
            forms["GiST on box(point, point)"] = (
                "SELECT count(*) FROM ngsi_geo_boxes WHERE attr_iri = :a AND box(point(min_lon, min_lat), "
                "point(max_lon, max_lat)) && box(point(:w, :s), point(:e, :n))")
            conn.execute(text("ANALYZE ngsi_geo_boxes"))
        else:
            began = time.perf_counter()
            conn.execute(text("CREATE VIRTUAL TABLE bench_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat)"))
            conn.execute(text("INSERT INTO bench_rtree SELECT id, min_lon, max_lon, min_lat, max_lat "
                              "FROM ngsi_geo_boxes"))
            setup["SQLite R*Tree virtual table"] = time.perf_counter() - began
            forms["SQLite R*Tree virtual table"] = (
                "SELECT count(*) FROM bench_rtree r JOIN ngsi_geo_boxes g ON g.id = r.id WHERE g.attr_iri = :a "
                "AND r.min_lon <= :e AND r.max_lon >= :w AND r.min_lat <= :n AND r.max_lat >= :s")
    out = []
    with engine.connect() as conn:
        for name, sql in forms.items():
            hits = 0
            began = time.perf_counter()
            for w, s, e, n in boxes:
                statement = text(sql.replace("{cells}", ", ".join(map(str, cells_meeting(w, s, e, n) or [-1]))))
                hits += conn.execute(statement, {"a": LOCATION, "w": w, "s": s, "e": e, "n": n}).scalar() or 0
            out.append((name, setup.get(name, 0.0), probes / (time.perf_counter() - began), hits))
    with engine.begin() as conn:
        if not pg:
            conn.execute(text("DROP TABLE bench_rtree"))
    engine.dispose()
    return out


def history_layout(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM ngsi_attribute_history")).scalar()
        if engine.dialect.name != "postgresql":
            return f"{total} history rows (one table)"
        parts = conn.execute(text("SELECT tableoid::regclass::text, count(*) FROM ngsi_attribute_history "
                                  "GROUP BY 1 ORDER BY 1")).all()
    engine.dispose()
    return f"{total} history rows: " + ", ".join(f"{name.split('.')[-1]} {n}" for name, n in parts)


# --- one backend ------------------------------------------------------------------------------------------


@dataclass
class Run:
    backend: str
    entities: int
    figures: list[Figure]
    raw_rate: float
    spatial: list[tuple[str, float, float, int]]
    history: str


def run_backend(backend: str, args: argparse.Namespace) -> Run:
    n = args.entities
    with tempfile.TemporaryDirectory(prefix="saola-bench-") as tmp, \
            fresh_database(backend, args.pg_url, Path(tmp)) as url, \
                saola_server(url, Path(tmp), migrate=True, workers=args.server_workers,
                         env={"SAOLA_NGSI_LD_ANONYMOUS": "write", "SAOLA_MQTT_INGEST": "off"}) as base, \
            multiprocessing.get_context("spawn").Pool(args.clients) as pool:
        print(f"[{backend}] {n} entities, server {base}, {args.clients} client processes", flush=True)
        batches = (n + BATCH - 1) // BATCH
        figures = [drive(pool, base, "upsert", batches, n, args.clients,
                         lambda k: min(BATCH, n - k * BATCH))]
        print(f"[{backend}] loaded in {figures[0].seconds:.1f} s", flush=True)
        reload_failed_batches(base, figures[0].failed, n)  # counted as failed, not as loaded
        if backend == "postgresql":  # what autovacuum does within a minute of a bulk load
            analyze = create_engine(url, isolation_level="AUTOCOMMIT")
            with analyze.connect() as conn:
                conn.execute(text("ANALYZE"))
            analyze.dispose()
        for phase, ops in (("update", args.ops), ("retrieve", args.ops), ("query", args.ops), ("geo", args.ops)):
            figures.append(drive(pool, base, phase, ops, n, args.clients))
            print(f"[{backend}] {phase}: {figures[-1].rate:.0f}/s", flush=True)
        history = history_layout(url)
        raw_rate, _rows = raw_insert_rate(url)
        spatial = spatial_comparison(url)
    return Run(backend, n, figures, raw_rate, spatial, history)


LABELS = {"upsert": "batch upsert (entities/s, 1000 a request)", "update": "PATCH /entities/{id}/attrs (/s)",
          "retrieve": "GET /entities/{id} (/s)", "query": "GET /entities?type&q (/s)",
          "geo": f"GET /entities?type&georel=near;maxDistance=={NEAR_METRES} (/s)"}


def report(run: Run) -> str:
    lines = [f"**{run.backend}, {run.entities:,} entities** — raw insert baseline "
             f"(same documents, {'COPY' if run.backend == 'postgresql' else 'executemany'}, 1000 rows a "
             f"transaction): **{run.raw_rate:,.0f} rows/s**", "",
             "| figure | requests | rate | p95 ms | server CPU ms/op | vs raw insert | Orion-LD (1 CPU) | vs Orion-LD "
             "| failed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for f in run.figures:
        orion = ORION_LD.get(f.name)
        cpu = 1000 * f.server_cpu / max(1, f.items)
        lines.append(f"| {LABELS[f.name]} | {f.ops} | {f.rate:,.0f} | {f.p95_ms:.1f} | {cpu:.2f} | "
                     f"{f.rate / run.raw_rate:.3f} | "
                     f"{f'{orion:,.0f}' if orion else '—'} | {f'{f.rate / orion:.2f}' if orion else '—'} | "
                     f"{f.failures} |")
    lines += ["", f"History after the run: {run.history}.", "",
              "| spatial pre-filter (SQL, 300 boxes of ±300 m) | build s | boxes/s | hits |", "|---|---|---|---|"]
    lines += [f"| {name} | {setup:.2f} | {rate:,.0f} | {hits} |" for name, setup, rate, hits in run.spatial]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000, help="entities to load (e.g. 100000, 1000000)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--ops", type=int, default=3000, help="requests per single-operation figure")
    parser.add_argument("--clients", type=int, default=4, help="client processes (one connection each)")
    parser.add_argument("--server-workers", type=int, default=2, help="`saola serve --workers` (processes)")
    parser.add_argument("--pg-url", default=os.environ.get("SAOLA_BENCH_PG_URL",
                                                           "postgresql+psycopg://root@127.0.0.1:5432/postgres"))
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if args.entities < 1 or args.ops < 1 or args.clients < 1 or args.server_workers < 1:
        parser.error("--entities, --ops, --clients and --server-workers must be positive")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    began = datetime.now(UTC)
    sections = [report(run_backend(backend, args)) for backend in backends]
    command = "bench/context_bench.py " + " ".join(sys.argv[1:])
    machine = f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()})"
    text_out = (f"\n## NGSI-LD broker at scale — {began:%Y-%m-%d %H:%M} UTC\n\n`{command}` on {machine}; "
                f"server: `saola serve --workers {args.server_workers}` on 127.0.0.1; clients: {args.clients} "
                f"processes (`http.client`), one HTTP/1.1 connection each, on the same machine. Orion-LD's "
                f"published figures are for 1 CPU. `server CPU ms/op` is the CPU time of the server's processes "
                f"per request (per entity for the upsert), the database's own excluded: it holds on a busy "
                f"machine where the rates do not. `failed` counts answers other than 2xx; failed upsert batches "
                f"do not count as loaded and are sent again, untimed, before the next phase.\n\n"
                + "\n".join(sections))
    print(text_out)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text_out)


if __name__ == "__main__":
    main()
