"""The demo city simulator's own cost: building the city, computing readings, scheduling and encoding messages.

Measures, on the whole demo city (99 wards, ~3,200 devices), the pure parts the simulator and the
benchmarks share (no broker, no database): the time to build the city (:func:`saola.sim.city.build_city`),
readings per second of :func:`saola.sim.telemetry.payload` over every device with a scenario active,
and messages per second of the scheduler (:meth:`saola.sim.runner.Simulator.round`: due-time heap, hot
entities, readings) encoded as the MQTT payloads. Baseline in the same run: ``json.dumps`` of one
fixed 4-attribute payload per message (what any publisher pays). Appends to bench/RESULTS.md.

    .venv/bin/python bench/sim_bench.py                 # 200,000 readings, seed 20250701
    .venv/bin/python bench/sim_bench.py --readings 50000 --no-record
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from saola.sim import telemetry
from saola.sim.city import build_city
from saola.sim.runner import Simulator
from saola.sim.scenario import Scenario

T0 = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # 18:00 in Bắc Ninh: rush hour, lamps switching on


class Discard:
    description = "discard"
    tick = 0.1

    async def send(self, batch: list[tuple[str, dict[str, Any]]]) -> int:
        return len(batch)

    async def close(self) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20250701)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    city = build_city(seed=args.seed)
    build_s = time.perf_counter() - start
    devices = [e for e in city.entities if e.has_device]
    subjects = [e.subject() for e in devices]
    scenario = Scenario(city, args.seed)
    conditions = scenario.conditions(60.0)  # the first wave's events all active

    fixed = {"ps": "on", "st": "ok", "il": 1.0, "pw": 118.4}
    start = time.perf_counter()
    for _ in range(args.readings):
        json.dumps(fixed).encode()
    baseline_rate = args.readings / (time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(args.readings):
        s = subjects[i % len(subjects)]
        json.dumps(telemetry.payload(args.seed, s, T0 + timedelta(seconds=i // len(subjects)), conditions)).encode()
    readings_rate = args.readings / (time.perf_counter() - start)

    sim = Simulator(city, Discard(), rate=1e9, acceleration=600, seed=args.seed, scenario=scenario, model_start=T0)
    sent = 0
    elapsed = 0.0
    start = time.perf_counter()
    while sent < args.readings:
        batch = sim.round(elapsed, 100_000)
        for _device, payload in batch:
            json.dumps(payload).encode()
        sent += len(batch)
        elapsed += 1.0
    schedule_rate = sent / (time.perf_counter() - start)

    lines = [
        f"## Demo city simulator (pure) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`.venv/bin/python bench/sim_bench.py --readings {args.readings} --seed {args.seed}`, "
        f"{platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}.",
        "",
        "| what | figure | vs baseline |",
        "|---|---|---|",
        f"| build the city ({len(city.entities)} entities, {len(devices)} devices) | {build_s:.2f} s | |",
        f"| baseline: json.dumps of a fixed payload | {baseline_rate:,.0f} msg/s | 1.00 |",
        f"| readings (telemetry.payload + JSON), events active | {readings_rate:,.0f} msg/s | "
        f"{readings_rate / baseline_rate:.2f} |",
        f"| scheduler rounds (Simulator.round + JSON), ×600 time | {schedule_rate:,.0f} msg/s | "
        f"{schedule_rate / baseline_rate:.2f} |",
        "",
    ]
    print("\n".join(lines))
    if not args.no_record:
        with (Path(__file__).parent / "RESULTS.md").open("a", encoding="utf-8") as fh:
            fh.write("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
