"""Rule engine throughput: 1,000 rules over 100,000 entities, events generated deterministically.

Measures the pure engine (:class:`saola.rules.engine.Engine`, the code the worker runs on every
``ngsi.entity.updated`` event; it does no database work per event) on a stream of entity updates shaped
like the broker's events (stored form, expanded IRIs, ``refWard`` and ``location``), with the engine's
tick every 10 simulated seconds (events are stamped as if arriving at ``--rate`` per second).
In the same run, two baselines over the same events: a bare loop doing one dict lookup per event,
and JSON-decoding each event (what a bus consumer pays before any rule logic). Reports events/s,
evaluations per event, decisions, p50/p99 per-event time and the ratios; appends to bench/RESULTS.md.

    .venv/bin/python bench/rules_bench.py            # default: 200,000 events, seed 5
    .venv/bin/python bench/rules_bench.py --events 50000 --no-record
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from saola.context.representation import LOCATION
from saola.rules.definitions import RuleDefinition
from saola.rules.engine import Engine
from saola.rules.evaluators import _ward_shapes
from saola.rules.service import LoadedRule

V = "https://uri.etsi.org/ngsi-ld/default-context/"
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
# type → (share of entities, {attribute: (mean, spread)}) — numbers drawn around the mean
TYPES: dict[str, tuple[float, dict[str, tuple[float, float]]]] = {
    "Streetlight": (0.60, {"illuminanceLevel": (0.6, 0.2), "powerConsumption": (120, 30)}),
    "TrafficFlowObserved": (0.10, {"intensity": (80, 40), "averageVehicleSpeed": (35, 12), "occupancy": (0.4, 0.2)}),
    "Camera": (0.05, {"vehicleCount": (40, 20)}),
    "AirQualityObserved": (0.05, {"pm25": (35, 15), "pm10": (60, 20), "no2": (30, 10), "airQualityIndex": (80, 40)}),
    "WeatherObserved": (0.05, {"temperature": (27, 4), "relativeHumidity": (0.75, 0.1), "precipitation": (2, 6)}),
    "FloodMonitoring": (0.05, {"waterLevel": (1.5, 0.6)}),
    "Substation": (0.05, {"loadPercent": (70, 20), "voltage": (22, 0.8)}),
    "School": (0.05, {}),
}
TEXT_ATTRS = {"Streetlight": ("status", ["ok", "ok", "ok", "ok", "defectiveLamp"]),
              "TrafficFlowObserved": ("congestionLevel", ["free", "free", "moderate", "heavy", "jam"])}


def make_entities(rng: random.Random, count: int, wards: list[tuple[str, float, float]]) -> list[tuple[str, str, str]]:
    """``(id, type, ward)`` of ``count`` entities spread over the wards."""
    out = []
    for type_, (share, _attrs) in TYPES.items():
        for n in range(int(count * share)):
            ward = wards[rng.randrange(len(wards))][0]
            out.append((f"urn:ngsi-ld:{type_}:bn-{ward}-{n:05d}", type_, ward))
    return out


def make_rules(rng: random.Random, count: int, wards: list[tuple[str, float, float]]) -> list[LoadedRule]:
    """A deterministic mix: thresholds (some held, some with hysteresis), rates, anomalies, no data, device
    offline, geofences and composites; 70% scoped to a ward, 10% to an id pattern, 20% province-wide."""
    rules = []
    telemetry = [t for t, (_s, attrs) in TYPES.items() if attrs]
    for i in range(count):
        type_ = rng.choice(telemetry)
        attrs = TYPES[type_][1]
        attr = rng.choice(sorted(attrs))
        mean, spread = attrs[attr]
        high = round(mean + 2 * spread, 3)
        roll = rng.random()
        if roll < 0.45:
            condition: dict[str, Any] = {"kind": "threshold", "attribute": attr, "op": ">", "value": high}
        elif roll < 0.55:
            condition = {"kind": "threshold", "attribute": attr, "op": ">", "value": high, "for_seconds": 300,
                         "clear_value": mean + spread}
        elif roll < 0.65:
            condition = {"kind": "rate_of_change", "attribute": attr, "per_seconds": 600, "op": ">", "value": spread}
        elif roll < 0.72:
            condition = {"kind": "anomaly", "attribute": attr, "window": 60, "min_samples": 20}
        elif roll < 0.78:
            condition = {"kind": "no_data", "attribute": attr, "after_seconds": 900}
        elif roll < 0.84:
            condition = {"kind": "device_offline"}
        elif roll < 0.90 and type_ in TEXT_ATTRS:
            text_attr, values = TEXT_ATTRS[type_]
            condition = {"kind": "threshold", "attribute": text_attr, "op": "==", "value": values[-1]}
        elif roll < 0.95:
            ward = rng.choice(wards)[0]
            condition = {"kind": "geofence", "area": {"ward_code": ward}, "on": "inside"}
        else:
            other = rng.choice([t for t in telemetry if t != type_])
            o_attr = rng.choice(sorted(TYPES[other][1]))
            o_mean, o_spread = TYPES[other][1][o_attr]
            condition = {"kind": "composite", "mode": "all", "parts": [
                {"entity_type": type_, "min_entities": 2,
                 "condition": {"kind": "threshold", "attribute": attr, "op": ">", "value": mean + spread}},
                {"entity_type": other,
                 "condition": {"kind": "threshold", "attribute": o_attr, "op": ">", "value": o_mean + o_spread}}]}
        scope = rng.random()
        extra: dict[str, Any] = {}
        if condition["kind"] == "composite" or scope < 0.7:
            extra["area"] = {"ward_code": rng.choice(wards)[0]}
        elif scope < 0.8:
            extra["id_pattern"] = f":bn-{rng.choice(wards)[0]}-"
        definition = RuleDefinition.model_validate({
            "name": f"rule {i}", "severity": rng.choice(["critical", "major", "minor", "warning"]),
            "entity_type": "Ward" if condition["kind"] == "composite" else type_, "condition": condition,
            "clear_after_seconds": rng.choice([0, 0, 60]), "cooldown_seconds": rng.choice([0, 0, 300]), **extra})
        rules.append(LoadedRule(rule_id=i + 1, version=1, definition=definition))
    return rules


def make_events(rng: random.Random, entities: list[tuple[str, str, str]], count: int,
                points: dict[str, tuple[float, float]]) -> list[str]:
    """``count`` entity updates as the JSON the event bus carries (topic and payload)."""
    telemetry = [e for e in entities if TYPES[e[1]][1]]
    events = []
    for i in range(count):
        eid, type_, ward = telemetry[rng.randrange(len(telemetry))]
        attrs = TYPES[type_][1]
        changed = rng.sample(sorted(attrs), k=min(len(attrs), rng.choice([1, 1, 2])))
        observed = (T0 + timedelta(seconds=i / 10_000)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lon, lat = points[ward]
        entity: dict[str, Any] = {"id": eid, "type": [V + type_],
                                  V + "refWard": [{"type": "Property", "value": ward}],
                                  LOCATION: [{"type": "GeoProperty", "value": {"type": "Point",
                                                                               "coordinates": [lon, lat]}}]}
        for name, (mean, spread) in attrs.items():
            value = rng.gauss(mean, spread)
            if rng.random() < 0.02:
                value = mean + 4 * spread  # an injected spike
            entity[V + name] = [{"type": "Property", "value": round(value, 3), "observedAt": observed}]
        if type_ in TEXT_ATTRS:
            text_attr, values = TEXT_ATTRS[type_]
            entity[V + text_attr] = [{"type": "Property", "value": rng.choice(values)}]
            if rng.random() < 0.3:
                changed.append(text_attr)
        if rng.random() < 0.002:
            topic, payload = "device.offline", {"tenant": "", "device_id": eid.rsplit(":", 1)[-1], "entity_id": eid,
                                                "entity_type": type_}
        else:
            topic, payload = "ngsi.entity.updated", {"tenant": "", "id": eid, "types": [V + type_],
                                                     "changed": [V + c for c in changed], "entity": entity,
                                                     "previous": None}
        events.append(json.dumps({"topic": topic, "payload": payload}, separators=(",", ":")))
    return events


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> str:
    rng = random.Random(args.seed)
    shapes = _ward_shapes()
    wards = sorted((code, g.representative_point().x, g.representative_point().y) for code, g in shapes.items())
    points = {code: (x, y) for code, x, y in wards}
    started = time.perf_counter()
    entities = make_entities(rng, args.entities, wards)
    rules = make_rules(rng, args.rules, wards)
    events = make_events(rng, entities, args.events, points)
    setup = time.perf_counter() - started
    kinds = Counter(r.definition.condition.kind for r in rules)

    # baseline 1: a bare loop with one dict lookup per (pre-decoded) event
    decoded = [json.loads(e) for e in events]
    lookup = {e[0]: e for e in entities}
    t = time.perf_counter()
    hits = 0
    for event in decoded:
        payload = event["payload"]
        if lookup.get(payload.get("id") or payload.get("entity_id")) is not None:
            hits += 1
    bare = time.perf_counter() - t
    # baseline 2: JSON-decoding each event
    t = time.perf_counter()
    for text in events:
        json.loads(text)
    decode = time.perf_counter() - t

    engine = Engine(update_every_seconds=60)
    engine.load(rules, {}, now=T0)
    gc.collect()
    gc.freeze()  # the pre-generated events are the bench's, not the engine's: keep them out of GC passes
    per_event: list[float] = []
    actions: Counter[str] = Counter()
    tick_every = 10 * args.rate  # a tick every 10 simulated seconds
    clock = time.perf_counter_ns
    on_event = engine.on_event
    pauses: list[float] = []  # full (generation 2) garbage collections during the timed loop
    started_gc = [0.0]

    def watch_gc(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") == 2:
            if phase == "start":
                started_gc[0] = time.perf_counter()
            else:
                pauses.append(time.perf_counter() - started_gc[0])

    gc.callbacks.append(watch_gc)
    t = time.perf_counter()
    cpu = time.process_time()
    for i, event in enumerate(decoded):
        now = T0 + timedelta(seconds=i / args.rate)
        start = clock()
        decisions = on_event(event["topic"], event["payload"], now=now)
        if i % tick_every == tick_every - 1:
            decisions += engine.tick(now=now)
        per_event.append(clock() - start)
        for d in decisions:
            actions[d.action] += 1
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - cpu
    gc.callbacks.remove(watch_gc)
    n = len(decoded)
    load = os.getloadavg()[0]
    rate = n / elapsed
    evaluations = engine.counters.evaluations
    subjects = sum(len(s) for s in engine.states.values())
    lines = [
        f"## Rule engine — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
        f"`.venv/bin/python bench/rules_bench.py --events {args.events} --seed {args.seed}` on "
        f"{platform.node()} ({os.cpu_count()} cores, {platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}; pure engine in one thread, no database.",
        "",
        f"- {len(rules):,} rules ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}) over "
        f"{len(entities):,} entities in {len(wards)} wards; {n:,} events (seed {args.seed}, stamped at "
        f"{args.rate:,}/s, a tick every 10 simulated s); setup {setup:.1f} s",
        f"- engine: **{rate:,.0f} events/s** wall clock ({elapsed:.2f} s; {n / cpu:,.0f} events per CPU-second, "
        f"load average {load:.1f} on {os.cpu_count()} cores during the run), {evaluations:,} rule evaluations "
        f"({evaluations / n:.2f} per event), decisions {dict(sorted(actions.items()))}, "
        f"{subjects:,} subject states, {engine.counters.errors} errors",
        f"- per event: p50 {pct(per_event, 0.5) / 1000:.1f} µs, p99 {pct(per_event, 0.99) / 1000:.1f} µs, "
        f"max {max(per_event) / 1e6:.1f} ms; {len(pauses)} full garbage collections in the loop, longest "
        f"{max(pauses, default=0) * 1000:.0f} ms (the tail: Python's GC walking the engine's states)",
        f"- baselines on the same events: bare dict-lookup loop {n / bare:,.0f} events/s "
        f"(engine {bare / elapsed:.3f}× of it); JSON-decoding {n / decode:,.0f} events/s "
        f"(engine {(n / elapsed) / (n / decode):.2f}× the decode rate)",
        f"- target 10,000 events/s on one core: wall clock {rate / 10_000:.2f}× the target "
        f"({'met' if rate >= 10_000 else 'NOT met'} in this run), CPU time {n / cpu / 10_000:.2f}× "
        f"({'met' if n / cpu >= 10_000 else 'NOT met'}: what one uncontended core would do)",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=10_000, help="simulated arrival rate stamped on the events")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    text = run(args)
    print(text)
    if not args.no_record:
        with open(Path(__file__).with_name("RESULTS.md"), "a") as results:
            results.write("\n" + text)


if __name__ == "__main__":
    main()
