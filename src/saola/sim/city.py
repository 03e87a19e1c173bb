"""Generate the demo city of Bắc Ninh (province 24) as plain data: what entity is where, with what.

Real road geometry for Bắc Ninh is not available offline (``../shared/data`` only has Hà Nội's
OpenStreetMap extract), so streets are synthetic: inside each ward's real boundary
(``data/geo/bac_ninh_wards.geojson``, kept 40 m inside it) straight street lines are drawn around the
ward's centre, on a grid turned by a per-ward angle, and lamps stand along them every 30–55 m.
Urban wards (phường, most of all the old centres of Bắc Ninh, Từ Sơn and Bắc Giang) get far more
lamps, roads, cameras and stations than rural communes (xã). Water-level sensors stand in the wards
along the Cầu, Đuống and Thương rivers, on the ward's river side (the river lines themselves are
not in the data either). Everything is drawn from ``random.Random(seed)``: the same seed and ward
list give the same city.

:func:`build_city` returns a :class:`City` of :class:`CityEntity`; :mod:`saola.sim.load` stores it.
Entity ids follow ``urn:ngsi-ld:<Type>:bn-<ward code>-<n>``, ``n`` in a range per type so that the
device ids (the last part) are unique; ``build_city(prefix=...)`` replaces ``bn`` (the rule benchmark
overlays several cities of different seeds over the same wards, each under its own prefix).
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from shapely.geometry import LineString, Point, Polygon, shape
from shapely.prepared import prep

from saola.sim import telemetry
from saola.sim.names import STREETS, school_name

NUMBER_BASE = {"Streetlight": 1, "TrafficFlowObserved": 5001, "Camera": 6001, "AirQualityObserved": 7001,
               "WeatherObserved": 7501, "FloodMonitoring": 8001, "Substation": 8501, "School": 9001}
CORE_WARDS = frozenset({"09169", "09187", "09190", "09325", "09286", "09367", "09370", "09379", "09385",
                        "07210", "07228"})  # the centres of Bắc Ninh, Từ Sơn and Bắc Giang
RIVER_WARDS: dict[str, tuple[str, str]] = {  # ward → (river, side of the ward it runs along)
    "09169": ("sông Cầu", "n"), "09187": ("sông Cầu", "n"), "09202": ("sông Cầu", "n"),
    "09238": ("sông Cầu", "n"), "09292": ("sông Cầu", "n"), "09349": ("sông Đuống", "s"),
    "09340": ("sông Đuống", "s"), "09400": ("sông Đuống", "n"), "09454": ("sông Đuống", "n"),
    "09466": ("sông Đuống", "n"), "07210": ("sông Thương", "s"),
}
AIR_WARDS = (*sorted(CORE_WARDS), "09400", "09247", "07777")
WEATHER_WARDS = ("09169", "09187", "09367", "09400", "07210", "09454", "07582", "07615")
DEFAULT_LAMPS = 3000


@dataclass(frozen=True, slots=True)
class Ward:
    code: str
    name: str
    full_name: str
    polygon: Polygon
    urban: bool
    core: bool

    @property
    def weight(self) -> float:
        if self.core:
            return 5.0
        if self.urban:
            return 2.0
        return 0.6 if self.code >= "09" else 0.25


@dataclass(frozen=True, slots=True)
class CityEntity:
    id: str
    type: str
    ward: str
    name: str
    geometry: dict[str, Any]
    static: dict[str, Any] = field(default_factory=dict)  # term → Property value
    relationships: dict[str, str] = field(default_factory=dict)  # term → object id

    @property
    def device_id(self) -> str:
        return self.id.rsplit(":", 1)[1]

    @property
    def has_device(self) -> bool:
        return self.type in telemetry.ATTRIBUTES

    @property
    def point(self) -> tuple[float, float]:
        """(lon, lat): the point, or a line's middle vertex."""
        coords = self.geometry["coordinates"]
        if self.geometry["type"] == "Point":
            return coords[0], coords[1]
        return tuple(coords[len(coords) // 2])  # type: ignore[return-value]

    def subject(self) -> telemetry.Subject:
        lon, lat = self.point
        return telemetry.Subject(self.id, self.type, self.ward, lon, lat, self.static)

    def body(self, at: datetime | None = None, seed: int = 0) -> dict[str, Any]:
        """The NGSI-LD (normalized) body, with the telemetry values observed at ``at`` when given."""
        body: dict[str, Any] = {"id": self.id, "type": self.type,
                                "location": {"type": "GeoProperty", "value": self.geometry},
                                "name": {"type": "Property", "value": self.name},
                                "refWard": {"type": "Property", "value": self.ward}}
        for term, value in self.static.items():
            body[term] = {"type": "Property", "value": value}
        for term, target in self.relationships.items():
            body[term] = {"type": "Relationship", "object": target}
        if at is not None and self.has_device:
            observed = at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            body.update({name: {"type": "Property", "value": value, "observedAt": observed}
                         for name, value in telemetry.values(seed, self.subject(), at).items()})
        return body


@dataclass
class City:
    seed: int
    wards: dict[str, Ward]
    entities: list[CityEntity]

    def of_type(self, entity_type: str) -> list[CityEntity]:
        return [e for e in self.entities if e.type == entity_type]

    def by_id(self) -> dict[str, CityEntity]:
        return {e.id: e for e in self.entities}

    def subset(self, ward_codes: Iterable[str]) -> City:
        """The same city restricted to some wards (same ids and geometry as in the whole city)."""
        wanted = set(ward_codes)
        unknown = wanted - set(self.wards)
        if unknown:
            raise ValueError(f"unknown ward codes: {sorted(unknown)}")
        return City(self.seed, {c: w for c, w in self.wards.items() if c in wanted},
                    [e for e in self.entities if e.ward in wanted])

    def with_devices(self, device_ids: Iterable[str]) -> City:
        """The telemetry entities whose device is among ``device_ids`` (what a simulator can send for)."""
        wanted = set(device_ids)
        return City(self.seed, self.wards, [e for e in self.entities if e.has_device and e.device_id in wanted])

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.entities:
            out[e.type] = out.get(e.type, 0) + 1
        return out


@cache
def _ward_features() -> tuple[dict[str, Any], ...]:
    text = resources.files("saola.data.geo").joinpath("bac_ninh_wards.geojson").read_text("utf-8")
    return tuple(sorted(json.loads(text)["features"], key=lambda f: f["properties"]["code"]))


def load_wards(codes: Iterable[str] | None = None) -> dict[str, Ward]:
    wanted = set(codes) if codes is not None else None
    out: dict[str, Ward] = {}
    for feature in _ward_features():
        p = feature["properties"]
        if wanted is not None and p["code"] not in wanted:
            continue
        out[p["code"]] = Ward(p["code"], p["name"], p["fullName"], shape(feature["geometry"]),
                              p["fullName"].startswith("Phường"), p["code"] in CORE_WARDS)
    if wanted is not None and set(out) != wanted:
        raise ValueError(f"unknown ward codes: {sorted(wanted - set(out))}")
    return out


# --- geometry ------------------------------------------------------------------------------------

METRE = 1 / 111_320  # degrees of latitude per metre (longitude: divided by cos(lat))


def _inner(ward: Ward) -> Polygon:
    for margin in (40, 15, 5):
        inner = ward.polygon.buffer(-margin * METRE)
        if not inner.is_empty:
            return inner
    return ward.polygon


def _sample_inside(rng: random.Random, area: Any, centre: Point, spread: float) -> Point:
    """A point inside ``area``, drawn around ``centre`` (gaussian, ``spread`` degrees), else uniformly."""
    checker = prep(area)
    for _ in range(200):
        p = Point(rng.gauss(centre.x, spread), rng.gauss(centre.y, spread))
        if checker.contains(p):
            return p
    west, south, east, north = area.bounds
    while True:
        p = Point(rng.uniform(west, east), rng.uniform(south, north))
        if checker.contains(p):
            return p


def _street(rng: random.Random, inner: Polygon, centre: Point, spread: float, angle: float,
            length_m: float) -> LineString | None:
    start = _sample_inside(rng, inner, centre, spread)
    theta = angle + rng.choice((0, math.pi / 2)) + rng.uniform(-0.14, 0.14)
    half = length_m / 2 * METRE
    dx, dy = half * math.cos(theta) / math.cos(math.radians(start.y)), half * math.sin(theta)
    line = inner.intersection(LineString([(start.x - dx, start.y - dy), (start.x + dx, start.y + dy)]))
    parts = [g for g in getattr(line, "geoms", [line]) if isinstance(g, LineString) and not g.is_empty]
    if not parts:
        return None
    best = max(parts, key=lambda g: g.length)
    return best if best.length > 80 * METRE else None


def _rounded(x: float, y: float) -> list[float]:
    return [round(x, 6), round(y, 6)]


def _along(line: LineString, spacing_m: float) -> list[tuple[float, float]]:
    step = spacing_m * METRE
    count = max(1, int(line.length // step))
    offset = (line.length - (count - 1) * step) / 2
    return [(p.x, p.y) for p in (line.interpolate(offset + i * step) for i in range(count))]


# --- the generator -------------------------------------------------------------------------------


@dataclass
class _WardPlan:
    ward: Ward
    rng: random.Random
    inner: Polygon
    centre: Point
    spread: float
    angle: float
    streets: list[tuple[str, LineString]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    prefix: str = "bn"

    def next_id(self, entity_type: str) -> str:
        n = self.counters.get(entity_type, NUMBER_BASE[entity_type])
        self.counters[entity_type] = n + 1
        return f"urn:ngsi-ld:{entity_type}:{self.prefix}-{self.ward.code}-{n:04d}"

    def point_near_centre(self) -> Point:
        return _sample_inside(self.rng, self.inner, self.centre, self.spread * 0.6)

    def add_street(self, length_m: float) -> tuple[str, LineString] | None:
        line = _street(self.rng, self.inner, self.centre, self.spread, self.angle, length_m)
        if line is None:
            return None
        used = {name for name, _ in self.streets}
        free = [s for s in STREETS if s not in used]
        name = self.rng.choice(free) if free else f"Đường số {len(self.streets) + 1}"
        if not self.ward.urban and free:
            name = f"{name} ({self.ward.name})"
        self.streets.append((name, line))
        return name, line


def _plan(ward: Ward, seed: int, prefix: str = "bn") -> _WardPlan:
    rng = random.Random(f"{seed}:{ward.code}")
    inner = _inner(ward)
    centre = inner.representative_point()
    west, south, east, north = inner.bounds
    spread = max(east - west, north - south) * (0.18 if ward.urban else 0.3)
    return _WardPlan(ward, rng, inner, centre, spread, rng.uniform(0, math.pi / 2), prefix=prefix)


def _lamps(plan: _WardPlan, count: int) -> list[CityEntity]:
    out: list[CityEntity] = []
    spacing = 32.0 if plan.ward.urban else 48.0
    tries = 0
    while len(out) < count and tries < 400:
        tries += 1
        street = plan.add_street(plan.rng.uniform(500, 1600) if plan.ward.urban else plan.rng.uniform(700, 2200))
        if street is None:
            continue
        name, line = street
        circuit = f"C{len(plan.streets):02d}"
        for k, (x, y) in enumerate(_along(line, spacing + plan.rng.uniform(-3, 8)), start=1):
            if len(out) >= count:
                break
            label = f"Đèn {name[:1].lower()}{name[1:]}, cột {k}"
            out.append(CityEntity(
                plan.next_id("Streetlight"), "Streetlight", plan.ward.code, label,
                {"type": "Point", "coordinates": _rounded(x, y)},
                {"lanternHeight": 10 if plan.ward.urban else 8, "ratedPower": 120 if plan.ward.urban else 80,
                 "lampTechnology": "LED", "circuit": f"BN-{plan.ward.code}-{circuit}",
                 "controllingMethod": "group", "streetAddress": name}))
    return out


def _segments(plan: _WardPlan, count: int, cameras_every: int) -> list[CityEntity]:
    out: list[CityEntity] = []
    mains = plan.streets[:count]
    while len(mains) < count:
        street = plan.add_street(1200)
        if street is None:
            break
        mains.append(street)
    for i, (name, line) in enumerate(mains):
        part = line if line.length <= 800 * METRE else LineString([line.interpolate(line.length / 2 - 400 * METRE),
                                                                  line.interpolate(line.length / 2),
                                                                  line.interpolate(line.length / 2 + 400 * METRE)])
        points = [part.interpolate(f, normalized=True) for f in (0, 0.25, 0.5, 0.75, 1)]
        lanes = 4 if plan.ward.core else 2
        segment = CityEntity(
            plan.next_id("TrafficFlowObserved"), "TrafficFlowObserved", plan.ward.code,
            f"Đoạn {name} ({plan.ward.full_name})",
            {"type": "LineString", "coordinates": [_rounded(p.x, p.y) for p in points]},
            {"laneDirection": "forward", "lanes": lanes, "capacity": 160 * lanes,
             "freeSpeed": 50 if plan.ward.urban else 60, "streetAddress": name})
        out.append(segment)
        if cameras_every and i % cameras_every == 0:
            mid = points[2]
            out.append(CityEntity(plan.next_id("Camera"), "Camera", plan.ward.code, f"Camera giao thông {name}",
                                  {"type": "Point", "coordinates": _rounded(mid.x, mid.y)},
                                  {"capacity": 160 * lanes, "cameraType": "ANPR+counting", "streetAddress": name},
                                  {"refRoadSegment": segment.id}))
    return out


def _station(plan: _WardPlan, entity_type: str, name: str, static: dict[str, Any],
             point: Point | None = None) -> CityEntity:
    p = point or plan.point_near_centre()
    return CityEntity(plan.next_id(entity_type), entity_type, plan.ward.code, name,
                      {"type": "Point", "coordinates": _rounded(p.x, p.y)}, static)


def _river_point(plan: _WardPlan, side: str) -> Point:
    """A low spot on the river side of the ward: the northern- or southernmost of some inside points."""
    pts = [_sample_inside(plan.rng, plan.inner, plan.centre, 1.0) for _ in range(40)]
    return max(pts, key=lambda p: p.y) if side == "n" else min(pts, key=lambda p: p.y)


def _ward_entities(plan: _WardPlan, lamps: int) -> list[CityEntity]:
    ward = plan.ward
    out = _lamps(plan, lamps)
    if ward.core:
        out += _segments(plan, 4, 2)
    elif ward.urban:
        out += _segments(plan, 2, 2)
    elif ward.code >= "09" or int(ward.code) % 3 == 0:
        out += _segments(plan, 1, 0)
    if ward.code in AIR_WARDS:
        base = 38 if ward.core else 30
        out.append(_station(plan, "AirQualityObserved", f"Trạm quan trắc không khí {ward.full_name}",
                            {"basePm25": base + plan.rng.uniform(-4, 4), "stationType": "urban background"}))
    if ward.code in WEATHER_WARDS:
        out.append(_station(plan, "WeatherObserved", f"Trạm khí tượng {ward.full_name}", {"stationType": "automatic"}))
    if ward.code in RIVER_WARDS:
        river, side = RIVER_WARDS[ward.code]
        for k in range(2 if ward.code == "09169" else 1):
            base = round(2.2 + plan.rng.uniform(0, 1.2), 2)
            out.append(_station(plan, "FloodMonitoring", f"Cảm biến mực nước {river} – {ward.full_name}"
                                + (f" ({k + 1})" if k else ""),
                                {"riverName": river, "baseLevel": base, "alertLevel": round(base + 1.5, 2)},
                                _river_point(plan, side)))
    substations = [_station(plan, "Substation", f"Trạm biến áp {ward.name} {k + 1}",
                            {"ratedPowerKVA": 630 if ward.core else 400, "voltageLevel": "22/0,4 kV",
                             "loadFactor": round(plan.rng.uniform(0.85, 1.1), 2)})
                   for k in range(2 if ward.core else 1 if ward.urban else 0)]
    for lamp in out if substations else ():  # each lighting circuit (feeder) hangs on one of the ward's substations
        if lamp.type == "Streetlight":
            circuit = int(lamp.static["circuit"].rsplit("-C", 1)[1])
            lamp.relationships["refSubstation"] = substations[circuit % len(substations)].id
    out += substations
    for k in range(4 if ward.core else 2 if ward.urban else 1):
        level, students, label = school_name(k, ward.name)
        out.append(_station(plan, "School", label, {"educationLevel": level,
                                                    "studentCount": students + plan.rng.randrange(0, 300)}))
    return out


def build_city(*, seed: int, ward_codes: Sequence[str] | None = None, lamps: int = DEFAULT_LAMPS,
               prefix: str = "bn") -> City:
    """The city over ``ward_codes`` (default: all 99 wards), with about ``lamps`` street lights in total,
    shared out by ward weight (urban centres first); ids are ``urn:ngsi-ld:<Type>:<prefix>-<ward>-<n>``."""
    if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", prefix):
        raise ValueError(f"prefix must be a short lower-case word, not {prefix!r}")
    wards = load_wards(ward_codes)
    total_weight = sum(w.weight for w in wards.values())
    entities: list[CityEntity] = []
    for code in sorted(wards):
        ward = wards[code]
        entities += _ward_entities(_plan(ward, seed, prefix), round(lamps * ward.weight / total_weight))
    return City(seed, wards, entities)
