"""End-to-end MQTT ingestion: simulated devices → Mosquitto → ``saola ingest`` → the database.

For each backend (a fresh SQLite file or PostgreSQL database, migrated, ``--devices`` devices
provisioned in one service group) one ``saola ingest`` process runs, and publisher processes (lean,
``saola.devices.mqtt_wire``, QoS 1, devices taken round-robin) send 3-measure IoT Agent JSON messages
whose ``TimeInstant`` is the moment of publishing, at each rate of ``--rates`` for ``--step-seconds``.
Per step it reports the messages/s and measures/s stored while publishing, the backlog left and how long it took
to drain, the end-to-end lag p50/p99 (history row ``modified_at``, the moment the worker's batch is written,
minus ``observedAt``, the moment of publishing) and the CPU used by the worker, the broker, the
database backends of this run (PostgreSQL; SQLite works inside the worker) and the publishers, in
percent of one core. A step that leaves a backlog it cannot drain ends the run for that backend.

Baselines in the same run: raw Mosquitto publish→subscribe with gmqtt (``bench/mqtt_clients.py``) and
the raw insert of the same rows (3 history-shaped rows a message; ``COPY`` on PostgreSQL, ``executemany``
on SQLite, 1,000 messages a transaction). ThingsBoard's published figures (2 vCPU, PostgreSQL): about
1,000 msg/s at 27 % CPU, 5,000–6,000 msg/s at most, at 95 % CPU. Target: 10,000 msg/s with p99 lag < 2 s.

    .venv/bin/python bench/ingest_bench.py --backend both --rates 1000,2000,5000,10000,15000 --step-seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness import fresh_database, percentile
from mqtt_clients import measure as raw_mqtt_rate
from sqlalchemy import create_engine, text

HOST, PORT = "127.0.0.1", 1883
TICK = os.sysconf("SC_CLK_TCK")


# --- publishers ---------------------------------------------------------------------------------


def publish_step(key: str, devices: list[str], rate: float, seconds: float, result: mp.Queue) -> None:  # type: ignore[type-arg]
    """Publish at ``rate`` msg/s for ``seconds`` (QoS 1, within the broker's Receive Maximum).

    A lean load generator (saola.devices.mqtt_wire's packets, the messages due every millisecond or so
    written in one go): real devices do not share the ingest machine's cores, so the publishers here
    should take as little of them as possible (gmqtt, used before 2026-11-25: ~29 % of a core for
    10,000 msg/s; this one's CPU is in the table)."""

    async def run() -> None:
        from saola.devices import mqtt_wire

        conn = await mqtt_wire.connect(HOST, PORT, client_id=f"bench-dev-{uuid.uuid4().hex[:8]}",
                                       on_publish=lambda _c, _r: None, clean_start=True)
        window = max(1, min(conn.server_receive_maximum, 65535) - 1)
        topics = [f"/{key}/{device}/attrs" for device in devices]
        began = time.perf_counter()
        total = int(rate * seconds)
        cpu0 = time.process_time()
        sent = 0
        while sent < total:
            due = min(total, int((time.perf_counter() - began) * rate) + 1)
            room = window - (sent - conn.published_acked)
            count = min(due - sent, room)
            if count <= 0:
                await asyncio.sleep(0.001 if room > 0 else 0.0005)
                continue
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            conn.publish_many([(topics[i % len(topics)], (f'{{"t": {20 + i % 15}, "h": {40 + i % 30}, '
                                                          f'"p": {1000 + i % 20}, "TimeInstant": "{stamp}"}}').encode())
                               for i in range(sent, sent + count)])
            sent += count
            await asyncio.sleep(0)
        elapsed = time.perf_counter() - began
        deadline = time.perf_counter() + 30
        while conn.published_acked < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        result.put((total, elapsed, time.process_time() - cpu0))
        await conn.disconnect()

    asyncio.run(run())


# --- CPU of the processes involved -----------------------------------------------------------------


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _pids(match: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if match in cmd:
                found.append(int(entry.name))
    return found


@dataclass
class CpuWatch:
    """CPU of groups of processes; each group's pids are found again at the end (database backends and
    publishers start during a step: their ticks count from zero)."""

    groups: dict[str, Callable[[], list[int]]]
    start: dict[str, dict[int, int]] = field(default_factory=dict)
    began: float = 0.0

    def begin(self) -> None:
        self.began = time.perf_counter()
        self.start = {name: {p: _ticks(p) for p in find()} for name, find in self.groups.items()}

    def percent(self) -> dict[str, float]:
        seconds = time.perf_counter() - self.began
        used = {}
        for name, find in self.groups.items():
            pids = set(find()) | set(self.start[name])
            used[name] = 100 * sum(_ticks(p) - self.start[name].get(p, 0) for p in pids) / TICK / seconds
        return used


# --- one backend ---------------------------------------------------------------------------------


@dataclass
class Step:
    rate: int
    published: int
    publish_seconds: float
    stored_rate: float  # messages/s stored while publishing
    backlog: int  # messages not stored when publishing ended
    drain_seconds: float | None  # None: not drained within the limit
    lag_p50: float
    lag_p99: float
    cpu: dict[str, float]
    load: float  # the machine's 1-minute load average at the end of the step (other work included)
    unstored: int = 0  # messages still not stored when the drain limit passed (dropped by the broker, or slow)


def provision(url: str, devices: int) -> tuple[str, list[str]]:
    from saola.core.db import make_engine, make_session_factory, unit_of_work
    from saola.core.migrate import upgrade
    from saola.devices import service
    from saola.devices.schemas import DeviceIn, ServiceIn

    upgrade(url)
    key, ids = f"bench{uuid.uuid4().hex[:8]}", [f"aq-{n:05d}" for n in range(devices)]
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        service.create_groups(session, tenant="", service_path="/", services=[ServiceIn(
            apikey=key, entity_type="AirQualityObserved", attributes=[
                {"object_id": "t", "name": "temperature", "type": "Number"},
                {"object_id": "h", "name": "relativeHumidity", "type": "Number"},
                {"object_id": "p", "name": "atmosphericPressure", "type": "Number"}])])
        service.create_devices(session, tenant="", service_path="/", devices=[DeviceIn(device_id=d) for d in ids])
    engine.dispose()
    return key, ids


def stored_messages(engine, key: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        measures = conn.execute(text("SELECT coalesce(sum(measure_count), 0) FROM devices WHERE api_key = :k"),
                                {"k": key}).scalar_one()
    return int(measures) // 3


def lags(engine, since: datetime) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from publishing (observedAt) to storing (modified_at) of the rows observed since ``since``."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT observed_at, modified_at FROM ngsi_attribute_history "
                                 "WHERE observed_at >= :s"), {"s": since}).all()
    out = []
    for observed, modified in rows:
        if isinstance(observed, str):
            observed, modified = datetime.fromisoformat(observed), datetime.fromisoformat(modified)
        observed = observed if observed.tzinfo else observed.replace(tzinfo=UTC)
        modified = modified if modified.tzinfo else modified.replace(tzinfo=UTC)
        out.append((modified - observed).total_seconds())
    return out


def run_step(engine, key: str, devices: list[str], rate: int, seconds: float, cpu: CpuWatch,  # type: ignore[no-untyped-def]
             drain_limit: float) -> Step:
    publishers = 1 if rate <= 4000 else 2
    ctx = mp.get_context("spawn")
    result = ctx.Queue()
    procs = [ctx.Process(target=publish_step, args=(key, devices[n::publishers], rate / publishers, seconds, result))
             for n in range(publishers)]
    before = stored_messages(engine, key)
    since = datetime.now(UTC)
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # interpreters starting; CPU counted from the first message
    cpu.groups["publishers"] = lambda: [p.pid for p in procs if p.pid]
    cpu.begin()
    outcomes = [result.get(timeout=seconds + 120) for _ in procs]
    usage = cpu.percent()
    at_end = stored_messages(engine, key)
    for proc in procs:
        proc.join(30)
    published = sum(o[0] for o in outcomes)
    elapsed = max(o[1] for o in outcomes)
    started = time.perf_counter()
    drained: float | None = None
    while time.perf_counter() - started < drain_limit:
        if stored_messages(engine, key) - before >= published:
            drained = time.perf_counter() - started
            break
        time.sleep(0.2)
    unstored = 0 if drained is not None else before + published - stored_messages(engine, key)
    values = lags(engine, since) or [float("nan")]
    return Step(rate, published, elapsed, (at_end - before) / elapsed, before + published - at_end, drained,
                percentile(values, 0.5), percentile(values, 0.99), usage, os.getloadavg()[0], unstored)


def raw_insert_rate(url: str, messages: int = 30_000) -> float:
    """Rows/s of inserting history-shaped rows plainly (3 a message), 1,000 messages a transaction."""
    engine = create_engine(url)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_raw (id {} PRIMARY KEY, tenant varchar(255), entity_id varchar(1024), "
                          "attr_iri varchar(1024), instance_id varchar(255), observed_at timestamp, "
                          "modified_at timestamp, time_index timestamp, instance {}, deleted boolean)"
                          .format("serial" if pg else "INTEGER", "jsonb" if pg else "JSON")))
    now = datetime.now(UTC).replace(tzinfo=None)
    iri = "https://uri.etsi.org/ngsi-ld/default-context/"
    rows = [("", f"urn:ngsi-ld:AirQualityObserved:aq-{i % 1000:05d}", iri + a,
             f"urn:saola:{i}:{a}", now, now, now, json.dumps({"type": "Property", "value": i % 40, "observedAt": "x"}),
             False) for i in range(messages) for a in ("temperature", "relativeHumidity", "atmosphericPressure")]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        began = time.perf_counter()
        for start in range(0, len(rows), 3000):
            chunk = rows[start:start + 3000]
            if pg:
                with cursor.copy("COPY bench_raw (tenant, entity_id, attr_iri, instance_id, observed_at, modified_at, "
                                 "time_index, instance, deleted) FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row(row)
            else:
                cursor.executemany("INSERT INTO bench_raw (tenant, entity_id, attr_iri, instance_id, observed_at, "
                                   "modified_at, time_index, instance, deleted) VALUES (?,?,?,?,?,?,?,?,?)", chunk)
            raw.commit()
        seconds = time.perf_counter() - began
        cursor.execute("DROP TABLE bench_raw")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return len(rows) / seconds


@dataclass
class Run:
    backend: str
    devices: int
    steps: list[Step]
    raw_rows: float
    worker_log: str


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> Run:
    with fresh_database(backend, args.pg_url, workdir, prefix="saola_ingest_bench") as url:
        key, devices = provision(url, args.devices)
        engine = create_engine(url)
        env = {**os.environ, "SAOLA_DATABASE_URL": url, "SAOLA_DATA_DIR": str(workdir), "SAOLA_LOG_LEVEL": "WARNING",
               "SAOLA_MQTT_URL": f"mqtt://{HOST}:{PORT}", "SAOLA_MQTT_SHARED_GROUP": f"bench{uuid.uuid4().hex[:6]}",
               "SAOLA_MQTT_SESSION_EXPIRY_SECONDS": "0", "SAOLA_MQTT_BATCH_SIZE": str(args.batch_size)}
        log_path = workdir / f"ingest-{backend}.log"
        saola = str(Path(sys.executable).with_name("saola"))
        with open(log_path, "w") as log:
            concurrency = ["--store-concurrency", str(args.store_concurrency)] if args.store_concurrency else []
            workers = [subprocess.Popen([saola, "ingest", "--report-every", "0", "--client-id",
                                         f"bench-ingest-{n}-{uuid.uuid4().hex[:6]}", *concurrency], env=env,
                                        stdout=log, stderr=log)
                       for n in range(args.workers)]
        try:
            time.sleep(4)  # start-up and subscriptions
            database = url.rsplit("/", 1)[-1]
            cpu = CpuWatch({"worker": lambda: [w.pid for w in workers], "broker": lambda: _pids("mosquitto"),
                            "database": lambda: _pids(f" {database} ") if backend == "postgresql" else []})
            steps: list[Step] = []
            for rate in args.rates:
                step = run_step(engine, key, devices, rate, args.step_seconds, cpu, args.drain_seconds)
                steps.append(step)
                print(f"  {backend} {rate:>6} msg/s: stored {step.stored_rate:,.0f} msg/s, backlog {step.backlog}, "
                      f"lag p50 {step.lag_p50:.3f} s p99 {step.lag_p99:.3f} s, load {step.load:.1f}, cpu "
                      + ", ".join(f"{k} {v:.0f}%" for k, v in step.cpu.items()), flush=True)
                if step.drain_seconds is None:
                    break
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(30)
            engine.dispose()
        raw = raw_insert_rate(url)
        return Run(backend, args.devices, steps, raw, log_path.read_text()[-2000:])


def report(runs: list[Run], mqtt_rate: float, args: argparse.Namespace) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = (f"bench/ingest_bench.py --rates {','.join(map(str, args.rates))} --step-seconds {args.step_seconds:g} "
               f"--workers {args.workers} --batch-size {args.batch_size}"
               + (f" --store-concurrency {args.store_concurrency}" if args.store_concurrency else ""))
    stored_at_once = args.store_concurrency or "by default 2 (PostgreSQL) or 1 (SQLite)"
    lines = [f"## MQTT ingestion: devices → Mosquitto → `saola ingest` → database — {when}", "",
             f"`{command}` "
             f"on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}) "
             f"(shared with other work); everything on this machine: Mosquitto 2, {args.workers} `saola ingest` "
             "process(es) (saola.devices.mqtt_wire, "
             f"MQTT v5, QoS 1, {stored_at_once} batch(es) stored at once, batches of ≤{args.batch_size} "
             "messages / 50 ms, acknowledged after storing), "
             "publisher processes "
             f"(lean, saola.devices.mqtt_wire, QoS 1) for {runs[0].devices if runs else 0} devices, 3 measures a "
             "message. CPU in % of one core "
             "(200 % = the whole machine); load = the machine's 1-minute load average at the end of the step, "
             "other engineers' work included; lag = stored (history `modified_at`, when the batch is written) − "
             "published (`TimeInstant`).", "",
             f"Raw Mosquitto publish→subscribe, gmqtt, QoS 1, same machine: **{mqtt_rate:,.0f} msg/s**.", ""]
    for run in runs:
        how = "COPY" if run.backend == "postgresql" else "executemany"
        lines += [f"**{run.backend}** — raw insert of the same rows ({how}, "
                  f"1,000 messages a transaction): {run.raw_rows:,.0f} rows/s = **{run.raw_rows / 3:,.0f} msg/s**.", "",
                  "| offered msg/s | stored msg/s | measures/s | backlog | drained in s | lag p50 s | lag p99 s | "
                  "worker CPU | broker CPU | database CPU | publishers CPU | load | vs raw MQTT | vs raw insert |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in run.steps:
            drained = f"{s.drain_seconds:.1f}" if s.drain_seconds is not None else \
                f"not drained ({s.unstored:,} not stored after {args.drain_seconds:g} s)"
            db_cpu = f"{s.cpu['database']:.0f} %" if run.backend == "postgresql" else "(in worker)"
            lines.append(f"| {s.rate:,} | {s.stored_rate:,.0f} | {3 * s.stored_rate:,.0f} | {s.backlog:,} | "
                         f"{drained} | "
                         f"{s.lag_p50:.3f} | {s.lag_p99:.3f} | {s.cpu['worker']:.0f} % | {s.cpu['broker']:.0f} % | "
                         f"{db_cpu} | {s.cpu['publishers']:.0f} % | {s.load:.1f} | {s.stored_rate / mqtt_rate:.2f}× | "
                         f"{s.stored_rate / (run.raw_rows / 3):.2f}× |")
        best = max((s for s in run.steps if s.drain_seconds is not None and s.lag_p99 < 2),
                   key=lambda s: s.stored_rate, default=None)
        if best is not None:
            lines += ["", f"Best sustained step with p99 lag < 2 s: **{best.stored_rate:,.0f} msg/s** "
                      f"({3 * best.stored_rate:,.0f} measures/s) = {best.stored_rate / 1000:.1f}× ThingsBoard's ~1,000 "
                      f"msg/s at 27 % CPU and {best.stored_rate / 5500:.2f}× its 5,000–6,000 msg/s maximum; target "
                      f"10,000 msg/s {'reached' if best.stored_rate >= 9500 else 'NOT reached'}."]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 2000, 5000, 10000,
                                                                                            15000])
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--drain-seconds", type=float, default=15.0)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=5000, help="SAOLA_MQTT_BATCH_SIZE of the workers")
    parser.add_argument("--workers", type=int, default=1, help="`saola ingest` processes sharing the subscription")
    parser.add_argument("--store-concurrency", type=int, default=None,
                        help="`saola ingest --store-concurrency` (default: the worker's, 2 on PostgreSQL)")
    parser.add_argument("--pg-url", default=os.environ.get("SAOLA_BENCH_DATABASE_URL")
                        or os.environ.get("SAOLA_TEST_DATABASE_URL")
                        or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    mqtt_rate = raw_mqtt_rate("gmqtt", 30_000)["end_to_end_rate"]
    print(f"raw Mosquitto publish→subscribe (gmqtt, QoS 1): {mqtt_rate:,.0f} msg/s", flush=True)
    runs = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="saola-ingest-bench-") as tmp:
            runs.append(run_backend(backend, args, Path(tmp)))
            print(f"  {backend} raw insert: {runs[-1].raw_rows:,.0f} rows/s", flush=True)
    text_report = report(runs, mqtt_rate, args)
    print(text_report)
    if not args.no_record:
        with open(Path(__file__).with_name("RESULTS.md"), "a") as results:
            results.write("\n" + text_report)


if __name__ == "__main__":
    main()
