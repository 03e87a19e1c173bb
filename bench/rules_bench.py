"""Rule engine throughput: 1,000 rules over 100,000 entities of the simulated demo city.

Measures the pure engine (:class:`saola.rules.engine.Engine`, the code the worker runs on every
``ngsi.entity.updated`` event; it does no database work per event) on the events the demo city's
simulator produces. The entities are those of :func:`saola.sim.city.build_city`: ``--cities`` copies
of the demo city of Bắc Ninh laid over its 99 wards (copy ``k`` built with seed ``seed + k`` under the id
prefix ``bn``/``bnk``: the province's 3,390-entity demo city, 30 times denser); each copy has its own
:class:`saola.sim.runner.Simulator` (its due-time schedule at the real report intervals, acceleration 1)
and :class:`saola.sim.scenario.Scenario` (the scripted first wave: lamp failure, jam, camera offline,
power outage, heavy rain with a rising river, smog), so the readings are
:func:`saola.sim.telemetry.values` of the models with the injected events' conditions and alerts
really fire. Simulated time starts at 17:10 in Bắc Ninh (rush hour, lamps switching on at sunset).

Each reading becomes the ``ngsi.entity.updated`` event the broker publishes after ingestion (stored
form, expanded IRIs, the whole entity with its static attributes, ``location`` and ``refWard``, and the
previous version); a camera silent for twice its expected interval gets the ``device.offline`` that
device health publishes, and ``device.online`` when it reports again. The 1,000 rules are the demo
rules (``data/demo/rules.json``) plus seeded variations of them per ward, district (id prefix) and
threshold over every kind: thresholds (held, with hysteresis, on text and booleans), rates, anomalies,
no data, device offline, geofences and per-ward composites.

All events are generated before the timed loop; the loop feeds them to ``Engine.on_event`` at their
simulated time, with ``Engine.tick`` every 10 simulated seconds. In the same run, two baselines over the
same events: a bare loop doing one dict lookup per event, and JSON-decoding each event (what a bus
consumer pays before any rule logic). Reports events/s (wall and per CPU-second), evaluations per
event, decisions, p50/p99 per-event time, GC pauses and the ratios; appends to bench/RESULTS.md.

    .venv/bin/python bench/rules_bench.py            # default: 200,000 events, 30 cities, seed 5
    .venv/bin/python bench/rules_bench.py --events 50000 --cities 5 --no-record
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from saola.context.representation import LOCATION
from saola.rules.definitions import RuleDefinition
from saola.rules.engine import Engine
from saola.rules.engine_rules import NAME, expand
from saola.rules.service import LoadedRule
from saola.sim import telemetry
from saola.sim.city import City, CityEntity, build_city
from saola.sim.load import OFFLINE_AFTER_REPORTS
from saola.sim.runner import Simulator
from saola.sim.scenario import LAMP_FAULTS, Scenario

V = "https://uri.etsi.org/ngsi-ld/default-context/"
T0 = datetime(2026, 11, 24, 10, 10, tzinfo=UTC)  # 17:10 in Bắc Ninh, a Tuesday
TICK_SECONDS = 10
HEALTH_SECONDS = 60  # device health checks once a minute
# object id → attribute IRI as the broker stores it (core @context: ``status`` is a core term, others default vocab)
NAMES = {t: {a.object_id: expand(a.name) for a in attrs} for t, attrs in telemetry.ATTRIBUTES.items()}


class Discard:
    """A sender for :class:`Simulator` that is never called: the bench drives ``Simulator.round`` itself."""

    description = "bench"
    tick = 1.0

    async def send(self, batch: list[tuple[str, dict[str, Any]]]) -> int:
        return len(batch)

    async def close(self) -> None:
        return None


# --- the city and its events -------------------------------------------------------------------------


def make_cities(seed: int, count: int) -> list[City]:
    return [build_city(seed=seed + k, prefix="bn" if k == 0 else f"bn{k}") for k in range(count)]


def _instance(value: Any, observed: str | None = None) -> list[dict[str, Any]]:
    out: dict[str, Any] = {"type": "Property", "value": value}
    if observed is not None:
        out["observedAt"] = observed
    return [out]


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def static_form(e: CityEntity) -> dict[str, Any]:
    """The entity's attributes that telemetry does not change, in stored form (as ``saola demo`` loads them)."""
    out: dict[str, Any] = {"id": e.id, "type": [V + e.type],
                           LOCATION: [{"type": "GeoProperty", "value": e.geometry}],
                           NAME: _instance(e.name), expand("refWard"): _instance(e.ward)}
    for term, value in e.static.items():
        out[expand(term)] = _instance(value)
    for term, target in e.relationships.items():
        out[expand(term)] = [{"type": "Relationship", "object": target}]
    return out


def make_events(cities: list[City], count: int) -> tuple[list[dict[str, Any]], list[float], Counter[str]]:
    """``count`` events of the cities' simulators in simulated-time order, with their time (seconds after
    :data:`T0`); also how many of each kind (``device.offline``, and updates by entity type)."""
    sims = [Simulator(c, Discard(), rate=1e9, seed=c.seed, scenario=Scenario(c, c.seed), model_start=T0)
            for c in cities]
    by_device: dict[str, CityEntity] = {e.device_id: e for c in cities for e in c.entities if e.has_device}
    seed_of = {e.device_id: c.seed for c in cities for e in c.entities if e.has_device}
    current: dict[str, dict[str, Any]] = {}  # entity id → its stored form now
    last_seen: dict[str, float] = dict.fromkeys(by_device, 0.0)  # every device had just reported at T0
    offline: set[str] = set()
    expected = {t: OFFLINE_AFTER_REPORTS * s for t, s in telemetry.REPORT_SECONDS.items()}
    events: list[dict[str, Any]] = []
    times: list[float] = []
    kinds: Counter[str] = Counter()
    second = 0
    while len(events) < count:
        elapsed = float(second)
        if second % HEALTH_SECONDS == 0 and second:
            for device_id in sorted(d for d, seen in last_seen.items()
                                    if d not in offline and elapsed - seen > 2 * expected[by_device[d].type]):
                e = by_device[device_id]
                offline.add(device_id)
                events.append({"topic": "device.offline", "payload": {
                    "tenant": "", "device_id": device_id, "entity_id": e.id, "entity_type": e.type,
                    "expected_interval": expected[e.type],
                    "last_seen": _stamp(T0 + timedelta(seconds=last_seen[device_id])),
                    "at": _stamp(T0 + timedelta(seconds=elapsed))}})
                times.append(elapsed)
                kinds["device.offline"] += 1
        batch = [item for sim in sims for item in sim.round(elapsed, 10**9)]
        for j, (device_id, payload) in enumerate(batch):
            e = by_device[device_id]
            t = elapsed + j / max(1, len(batch))
            at = T0 + timedelta(seconds=t)
            if e.id not in current:  # the entity as `saola demo` loaded it: static attributes, readings at T0
                first = telemetry.values(seed_of[device_id], e.subject(), T0)
                current[e.id] = {**static_form(e), **{expand(k): _instance(v, _stamp(T0)) for k, v in first.items()}}
            observed = _stamp(at)
            readings = {NAMES[e.type][k]: _instance(v, observed) for k, v in payload.items()}
            previous = current[e.id]
            entity = current[e.id] = {**previous, **readings}
            if device_id in offline:
                offline.discard(device_id)
                events.append({"topic": "device.online", "payload": {
                    "tenant": "", "device_id": device_id, "entity_id": e.id, "entity_type": e.type}})
                times.append(t)
                kinds["device.online"] += 1
            last_seen[device_id] = t
            events.append({"topic": "ngsi.entity.updated", "payload": {
                "tenant": "", "id": e.id, "types": entity["type"], "changed": list(readings), "entity": entity,
                "previous": previous}})
            times.append(t)
            kinds[e.type] += 1
        second += 1
    return events[:count], times[:count], kinds


# --- the rules ------------------------------------------------------------------------------------


def demo_rules() -> list[dict[str, Any]]:
    text = resources.files("saola.data.demo").joinpath("rules.json").read_text("utf-8")
    return list(json.loads(text)["rules"])


Factory = Callable[[random.Random], dict[str, Any]]


def _th(attr: str, op: str, values: list[Any], **extra: Any) -> Factory:
    def make(rng: random.Random) -> dict[str, Any]:
        out = {"kind": "threshold", "attribute": attr, "op": op, "value": rng.choice(values)}
        for key, options in extra.items():
            out[key] = rng.choice(options)
        return out
    return make


def _rate(attr: str, per: list[int], values: list[float], op: str = ">") -> Factory:
    return lambda rng: {"kind": "rate_of_change", "attribute": attr, "per_seconds": rng.choice(per), "op": op,
                        "value": rng.choice(values)}


def _anomaly(attr: str) -> Factory:
    return lambda rng: {"kind": "anomaly", "attribute": attr, "window": rng.choice([30, 60, 120]),
                        "min_samples": rng.choice([10, 20]), "score": rng.choice([3.5, 4.0, 5.0])}


def _no_data(attr: str | None, after: list[int]) -> Factory:
    return lambda rng: {"kind": "no_data", "attribute": attr, "after_seconds": rng.choice(after)}


def _offline(rng: random.Random) -> dict[str, Any]:
    return {"kind": "device_offline"}


def _part(type_: str, condition: dict[str, Any], min_entities: int = 1) -> dict[str, Any]:
    return {"entity_type": type_, "min_entities": min_entities, "condition": condition}


# (weight, entity type, condition factory): the demo rules' kinds, varied in threshold, duration and attribute
TEMPLATES: list[tuple[float, str, Factory]] = [
    (4, "Streetlight", _th("status", "!=", ["ok"])),
    (2, "Streetlight", _th("status", "==", list(LAMP_FAULTS))),
    (2, "Streetlight", _th("powerConsumption", ">", [130, 140, 150], for_seconds=[0, 600])),
    (1, "Streetlight", _th("powerState", "==", ["off"], for_seconds=[900, 1800])),
    (1.5, "Streetlight", _rate("powerConsumption", [600, 1200], [-40.0, -60.0], "<")),  # power fell: outage, fault
    (1, "Streetlight", _no_data("powerConsumption", [1800, 3600])),
    (1, "Streetlight", _anomaly("powerConsumption")),
    (1, "Streetlight", _offline),
    (4, "TrafficFlowObserved", _th("congestionLevel", "==", ["jam"], for_seconds=[60, 120, 300],
                                   clear_after_seconds=[60])),
    (3, "TrafficFlowObserved", _th("occupancy", ">", [0.65, 0.75, 0.8], for_seconds=[0, 60, 120],
                                   clear_value=[0.55, 0.6])),
    (2, "TrafficFlowObserved", _th("averageVehicleSpeed", "<", [8, 12, 15, 20], for_seconds=[60, 180])),
    (1, "TrafficFlowObserved", _th("congested", "==", [True], for_seconds=[900, 1800])),
    (1.5, "TrafficFlowObserved", _rate("intensity", [60, 300], [100.0, 150.0, 200.0])),
    (2, "TrafficFlowObserved", _anomaly("intensity")),
    (1, "TrafficFlowObserved", _anomaly("averageVehicleSpeed")),
    (1, "TrafficFlowObserved", _no_data("intensity", [300, 600])),
    (3, "Camera", _th("status", "==", ["offline"])),
    (2, "Camera", _no_data("vehicleCount", [180, 300, 600])),
    (1.5, "Camera", _offline),
    (1, "Camera", _th("vehicleCount", ">", [700, 800])),
    (1, "Camera", _anomaly("vehicleCount")),
    (3, "AirQualityObserved", _th("pm25", ">", [45, 55, 75, 100], for_seconds=[0, 120, 900], clear_value=[40, 45])),
    (2, "AirQualityObserved", _th("airQualityIndex", ">", [100, 150, 200], for_seconds=[0, 300])),
    (1, "AirQualityObserved", _th("airQualityLevel", "==", ["poor", "bad", "veryBad"])),
    (1, "AirQualityObserved", _th("no2", ">", [70, 80], for_seconds=[0, 600])),
    (1, "AirQualityObserved", _rate("pm25", [300, 600], [15.0, 25.0])),
    (1.5, "AirQualityObserved", _anomaly("pm25")),
    (2, "WeatherObserved", _th("precipitation", ">", [20, 30, 50])),
    (1, "WeatherObserved", _th("windSpeed", ">", [6, 8, 10], for_seconds=[0, 300])),
    (1, "WeatherObserved", _th("temperature", ">", [30, 35])),
    (1, "WeatherObserved", _th("relativeHumidity", ">", [0.9, 0.95])),
    (1, "WeatherObserved", _no_data(None, [600, 1200])),
    (3, "FloodMonitoring", _rate("waterLevel", [60, 120], [0.1, 0.2, 0.3])),
    (3, "FloodMonitoring", _th("floodState", "!=", ["normal"], clear_after_seconds=[60, 120])),
    (1, "FloodMonitoring", _th("floodState", "==", ["flood"])),
    (1.5, "FloodMonitoring", _th("waterLevel", ">", [3.5, 4.0, 4.5], clear_value=[3.3, 3.4])),
    (1, "FloodMonitoring", _no_data("waterLevel", [120, 300])),
    (1, "FloodMonitoring", _anomaly("waterLevel")),
    (3, "Substation", _th("status", "==", ["outage"])),
    (2, "Substation", _th("loadPercent", ">", [80, 90, 100], for_seconds=[0, 300], clear_value=[70, 75])),
    (1, "Substation", _th("voltage", "<", [20.0, 21.0])),
    (1, "Substation", _rate("loadPercent", [300, 600], [15.0, 25.0])),
    (1, "Substation", _offline),
]
GEOFENCE_TYPES = ("Streetlight", "Camera", "TrafficFlowObserved", "Substation", "School")
COMPOSITES: list[tuple[tuple[str, ...], Callable[[random.Random], list[dict[str, Any]]]]] = [
    (("WeatherObserved", "FloodMonitoring"), lambda rng: [  # the demo's flood rule, per ward
        _part("WeatherObserved", _th("precipitation", ">", [20, 30, 40])(rng)),
        _part("FloodMonitoring", {"kind": "threshold", "attribute": "floodState", "op": "!=", "value": "normal"})]),
    (("Substation", "Streetlight"), lambda rng: [  # a ward in the dark
        _part("Substation", {"kind": "threshold", "attribute": "status", "op": "==", "value": "outage"}),
        _part("Streetlight", {"kind": "threshold", "attribute": "powerState", "op": "==", "value": "off"},
              rng.choice([5, 10, 20]))]),
    (("TrafficFlowObserved", "AirQualityObserved"), lambda rng: [  # jams making the air worse
        _part("TrafficFlowObserved", _th("congestionLevel", "==", ["heavy", "jam"])(rng)),
        _part("AirQualityObserved", _th("pm25", ">", [45, 55, 75])(rng))]),
    (("Streetlight", "Substation"), lambda rng: [  # lamps failing on an overloaded feeder
        _part("Streetlight", {"kind": "threshold", "attribute": "status", "op": "!=", "value": "ok"},
              rng.choice([2, 3, 5])),
        _part("Substation", _th("loadPercent", ">", [90, 100])(rng))]),
]


def make_rules(seed: int, count: int, cities: list[City]) -> list[LoadedRule]:
    """The demo rules, then seeded variations: 70 % scoped to a ward that has such entities, 10 % to one
    district (a city copy's id prefix), 20 % province-wide; about 6 % geofences and 5 % per-ward composites."""
    rng = random.Random(f"{seed}:rules")
    wards_of: dict[str, list[str]] = {}
    for e in cities[0].entities:
        wards_of.setdefault(e.type, [])
        if e.ward not in wards_of[e.type]:
            wards_of[e.type].append(e.ward)
    all_wards = sorted(cities[0].wards)
    prefixes = ["bn" if k == 0 else f"bn{k}" for k in range(len(cities))]
    raw: list[dict[str, Any]] = demo_rules()
    weights = [w for w, _t, _f in TEMPLATES]
    while len(raw) < count:
        roll = rng.random()
        extra: dict[str, Any] = {}
        if roll < 0.05:
            need, parts = rng.choice(COMPOSITES)
            wards = sorted(set.intersection(*(set(wards_of[t]) for t in need)))
            ward = rng.choice(wards)
            raw.append({"name": f"composite {len(raw)}", "severity": rng.choice(["critical", "major"]),
                        "entity_type": need[-1], "area": {"ward_code": ward},
                        "condition": {"kind": "composite", "mode": rng.choice(["all", "all", "any"]),
                                      "parts": parts(rng)},
                        "clear_after_seconds": rng.choice([60, 120]), "cooldown_seconds": rng.choice([300, 900])})
            continue
        if roll < 0.11:
            type_ = rng.choice(GEOFENCE_TYPES)
            condition = {"kind": "geofence", "area": {"ward_code": rng.choice(all_wards)},
                         "on": rng.choice(["inside", "enter"])}
        else:
            _w, type_, factory = rng.choices(TEMPLATES, weights)[0]
            condition = factory(rng)
        for key in ("clear_after_seconds",):
            if key in condition:
                extra[key] = condition.pop(key)
        scope = rng.random()
        if condition["kind"] == "geofence":  # its area is in the condition: province-wide or one district
            scope = 0.7 + 0.3 * scope
        if scope < 0.7:
            extra["area"] = {"ward_code": rng.choice(wards_of[type_])}
        elif scope < 0.8:
            extra["id_pattern"] = f"^urn:ngsi-ld:{type_}:{rng.choice(prefixes)}-"
        raw.append({"name": f"{type_} {condition['kind']} {len(raw)}", "severity":
                    rng.choice(["critical", "major", "minor", "warning", "info"]), "entity_type": type_,
                    "condition": condition, "clear_after_seconds": rng.choice([0, 0, 60]),
                    "cooldown_seconds": rng.choice([0, 300, 600]), **extra})
    return [LoadedRule(rule_id=i + 1, version=1, definition=RuleDefinition.model_validate(r))
            for i, r in enumerate(raw[:count])]


# --- the run --------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> str:
    started = time.perf_counter()
    cities = make_cities(args.seed, args.cities)
    entities = sum(len(c.entities) for c in cities)
    rules = make_rules(args.seed, args.rules, cities)
    events, times, kinds_of_events = make_events(cities, args.events)
    setup = time.perf_counter() - started
    kinds = Counter(r.definition.condition.kind for r in rules)
    texts = [json.dumps(e, separators=(",", ":")) for e in events]  # what the bus carries
    mean_bytes = sum(map(len, texts)) / len(texts)

    # baseline 1: a bare loop with one dict lookup per (pre-decoded) event
    lookup = {e.id: e for c in cities for e in c.entities}
    t = time.perf_counter()
    hits = 0
    for event in events:
        payload = event["payload"]
        if lookup.get(payload.get("id") or payload.get("entity_id")) is not None:
            hits += 1
    bare = time.perf_counter() - t
    # baseline 2: JSON-decoding each event
    t = time.perf_counter()
    for text in texts:
        json.loads(text)
    decode = time.perf_counter() - t
    del texts

    engine = Engine(update_every_seconds=60)
    engine.load(rules, {}, now=T0)
    nows = [T0 + timedelta(seconds=s) for s in times]
    ticks = [int(times[i + 1] // TICK_SECONDS) > int(s // TICK_SECONDS) for i, s in enumerate(times[:-1])] + [True]
    gc.collect()
    gc.freeze()  # the pre-generated events are the bench's, not the engine's: keep them out of GC passes
    per_event: list[float] = []
    actions: Counter[str] = Counter()
    raised_by_type: Counter[str] = Counter()
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
    for event, now, tick in zip(events, nows, ticks, strict=True):
        start = clock()
        decisions = on_event(event["topic"], event["payload"], now=now)
        if tick:
            decisions += engine.tick(now=now)
        per_event.append(clock() - start)
        for d in decisions:
            actions[d.action] += 1
            if d.action == "raise":
                raised_by_type[d.subject.split(":")[2] if d.subject.startswith("urn:") else "area"] += 1
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - cpu
    gc.callbacks.remove(watch_gc)
    n = len(events)
    load = os.getloadavg()[0]
    rate = n / elapsed
    evaluations = engine.counters.evaluations
    subjects = sum(len(s) for s in engine.states.values())
    span = times[-1] - times[0]
    updates = {k: v for k, v in sorted(kinds_of_events.items()) if not k.startswith("device.")}
    lines = [
        f"## Rule engine, events from the demo city simulator — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
        f"`.venv/bin/python bench/rules_bench.py --events {args.events} --cities {args.cities} --seed {args.seed}` on "
        f"{platform.node()} ({os.cpu_count()} cores, {platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}; pure engine in one thread, no database.",
        "",
        f"- events from `saola.sim` (seed {args.seed}): {args.cities} demo cities (`build_city(seed={args.seed}"
        f"+k, prefix=bn/bnk)`) over the 99 wards, {entities:,} entities; each city's `Simulator` schedule "
        f"(real report intervals) and `Scenario` first wave (lamp failure, jam, camera offline, outage, rain and "
        f"rising river, smog) from {T0:%H:%M} UTC ({(T0 + timedelta(hours=7)):%H:%M} local): {n:,} events over "
        f"{span / 60:.1f} simulated minutes ({n / max(span, 1):,.0f}/simulated s), updates by type {updates}, "
        f"{kinds_of_events['device.offline']} device.offline, {kinds_of_events['device.online']} device.online; "
        f"mean event {mean_bytes:,.0f} bytes of JSON (entity and previous version); setup {setup:.1f} s",
        f"- {len(rules):,} rules (the {len(demo_rules())} demo rules and seeded variations per ward, district and "
        f"threshold: {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); a tick every "
        f"{TICK_SECONDS} simulated s",
        f"- engine: **{rate:,.0f} events/s** wall clock ({elapsed:.2f} s; {n / cpu:,.0f} events per CPU-second, "
        f"load average {load:.1f} on {os.cpu_count()} cores during the run), {evaluations:,} rule evaluations "
        f"({evaluations / n:.2f} per event), decisions {dict(sorted(actions.items()))} (raised on "
        f"{dict(sorted(raised_by_type.items()))}), {subjects:,} subject states, {engine.counters.errors} errors",
        f"- per event: p50 {pct(per_event, 0.5) / 1000:.1f} µs, p99 {pct(per_event, 0.99) / 1000:.1f} µs, "
        f"max {max(per_event) / 1e6:.1f} ms; {len(pauses)} full garbage collections in the loop, longest "
        f"{max(pauses, default=0) * 1000:.0f} ms",
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
    parser.add_argument("--cities", type=int, default=30, help="demo cities overlaid (3,390 entities each)")
    parser.add_argument("--events", type=int, default=200_000)
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
