"""Micro-benchmark of the ingest core: ``Ingestor.store()`` called directly (no broker, no HTTP).

For each backend: a fresh database, one service group and ``--devices`` devices, then ``--batches``
batches of ``--batch`` IoT Agent JSON messages with 3 measures each (every message new, devices in
round robin, as a busy MQTT stream delivers them). Reports messages/s and measures/s stored, the CPU
time of this process (the ingest core's Python, the database's excluded) per 1,000 messages — steadier
than the rates on a shared machine — and in the same run the baseline: the raw insert of the same
history rows (PostgreSQL ``COPY``, SQLite ``executemany``) into ``ngsi_attribute_history`` — what
storing the measures costs at the least.

    .venv/bin/python bench/devices_store_bench.py --backend both --devices 1000 --batch 500 --batches 40

The end-to-end figures (broker included) are bench/ingest_bench.py's; this one does not write
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import fresh_database
from sqlalchemy import text

from saola.core.db import make_engine, make_session_factory, unit_of_work
from saola.core.migrate import upgrade
from saola.core.settings import load_settings
from saola.devices import service
from saola.devices.ingest import Ingestor, Message
from saola.devices.schemas import DeviceIn, ServiceIn

APIKEY = "bench-key"
MAPPINGS = [{"object_id": "t", "name": "temperature", "type": "Number", "unit": "CEL"},
            {"object_id": "h", "name": "relativeHumidity", "type": "Number", "unit": "P1"},
            {"object_id": "b", "name": "batteryLevel", "type": "Number"}]
START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def _provision(factory, devices: int) -> None:
    with unit_of_work(factory) as session:
        service.create_groups(session, tenant="", service_path="/", services=[
            ServiceIn(apikey=APIKEY, entity_type="AirQualityObserved", attributes=MAPPINGS)])
        service.create_devices(session, tenant="", service_path="/", devices=[
            DeviceIn(device_id=f"dev-{n:05d}") for n in range(devices)])


def _batches(devices: int, size: int, count: int, offset: int) -> list[list[Message]]:
    out = []
    n = offset
    for _ in range(count):
        batch = []
        for _ in range(size):
            at = START + timedelta(milliseconds=n)
            payload = json.dumps({"t": 20 + n % 10, "h": 50 + n % 7, "b": 90 - n % 5}).encode()
            batch.append(Message(APIKEY, f"dev-{n % devices:05d}", payload, "json", "mqtt", at))
            n += 1
        out.append(batch)
    return out


def _raw_rows(batches: list[list[Message]]) -> list[tuple]:
    rows = []
    now = datetime.now(UTC)
    for batch in batches:
        for m in batch:
            for attr, value in json.loads(m.payload).items():
                instance = json.dumps({"type": "Property", "value": value, "observedAt": m.received_at.isoformat()})
                rows.append(("", f"urn:ngsi-ld:AirQualityObserved:{m.device_id}", f"attr-{attr}", None,
                             f"urn:ngsi-ld:{uuid.uuid4()}", m.received_at, now, m.received_at, instance, False))
    return rows


COLUMNS = ("tenant, entity_id, attr_iri, dataset_id, instance_id, observed_at, modified_at, time_index, instance, "
           "deleted")


def _baseline(engine, rows: list[tuple], size: int) -> float:
    """Seconds to insert ``rows`` raw, in transactions of ``size`` rows."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for start in range(0, len(rows), size):
                with cursor.copy(f"COPY ngsi_attribute_history ({COLUMNS}) FROM STDIN") as copy:
                    for row in rows[start:start + size]:
                        copy.write_row(row)
                raw.commit()
        finally:
            raw.close()
    else:
        with engine.connect() as conn:
            sql = text(f"INSERT INTO ngsi_attribute_history ({COLUMNS}) "
                       "VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i, :j)")
            keys = "abcdefghij"
            for start in range(0, len(rows), size):
                conn.execute(sql, [dict(zip(keys, (*r[:5], r[5].isoformat(), r[6].isoformat(), r[7].isoformat(),
                                                   r[8], r[9]), strict=True)) for r in rows[start:start + size]])
                conn.commit()
    return time.perf_counter() - started


def run(backend: str, pg_url: str, devices: int, size: int, count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, pg_url, Path(tmp)) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        settings = load_settings(database_url=url, data_dir=Path(tmp), env="test")
        _provision(factory, devices)
        ingestor = Ingestor(factory, settings)
        for batch in _batches(devices, size, 2, offset=-2 * size):  # warm-up (older measures): caches, first writes
            ingestor.store(batch)
        batches = _batches(devices, size, count, offset=0)
        started, cpu = time.perf_counter(), time.process_time()
        stored = 0
        for batch in batches:
            outcome = ingestor.store(batch)
            assert not outcome.rejected, outcome.rejected[:3]
            stored += outcome.stored
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        messages = size * count
        assert stored == messages * 3, (stored, messages)
        base = _baseline(engine, _raw_rows(batches), size * 3)
        engine.dispose()
    return {"messages_per_s": messages / elapsed, "measures_per_s": stored / elapsed,
            "raw_rows_per_s": stored / base, "seconds": elapsed, "cpu_ms_per_1k": cpu * 1e6 / messages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("SAOLA_TEST_DATABASE_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"Ingestor.store(): {args.devices} devices, batches of {args.batch} messages x 3 measures, "
          f"{args.batches} batches; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
    print(f"{'backend':<11} {'msg/s':>9} {'measures/s':>11} {'raw rows/s':>11} {'ratio':>6} {'CPU ms/1k msg':>13}")
    for backend in backends:
        r = run(backend, args.pg_url, args.devices, args.batch, args.batches)
        print(f"{backend:<11} {r['messages_per_s']:>9,.0f} {r['measures_per_s']:>11,.0f} "
              f"{r['raw_rows_per_s']:>11,.0f} {r['measures_per_s'] / r['raw_rows_per_s']:>6.2f} "
              f"{r['cpu_ms_per_1k']:>13,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
