"""Pure telemetry models of the demo city: the value of each attribute of an entity at a time ``t``.

Everything here is a function of ``(seed, entity, t, conditions)`` — no clock, no I/O, no global
random state — so the simulator, the demo loader (initial values) and the benchmarks get the same
numbers for the same inputs. Times are UTC; the daily cycles follow local time in Bắc Ninh
(UTC+7, no daylight saving):

* **traffic**: two rush hours (7–9 h and 16:30–18:30), a smaller midday hump, almost nothing at
  3 h; lighter at weekends. ``intensity`` (vehicles per 5 minutes) scales with the segment's
  capacity, ``occupancy`` with the demand, speed falls with occupancy, ``congestionLevel`` and
  ``congested`` follow from occupancy (an injected incident forces a jam);
* **street lights**: on from sunset to sunrise (:mod:`saola.sim.sun`), dimmed to 60 % from 23 h to
  5 h; power follows the rated power and the dimming level; a fault or an outage changes them;
* **air quality**: PM2.5 follows traffic plus a night-time inversion bump (around 21–5 h), per-station
  baselines (urban higher); PM10, NO₂ and O₃ derived; VN_AQI computed with the breakpoints of
  Decision 1459/QĐ-TCMT (2019), ``airQualityLevel`` from it;
* **weather**: temperature with a minimum near 5 h and a maximum near 14 h, humidity the other way,
  rain only when an event brings it;
* **water level**: the sensor's base level with a slow daily swell; a rising-river event adds a
  linear rise; ``floodState`` from the static ``alertLevel``;
* **substations**: load with a morning and an evening peak, 22 kV; an outage sets 0.

Small noise comes from a hash of ``(seed, entity id, attribute, minute)``: the same inputs give the
same value, but successive minutes differ.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from saola.sim import sun

LOCAL = timedelta(hours=7)  # Asia/Ho_Chi_Minh, no daylight saving


@dataclass(frozen=True, slots=True)
class Attr:
    """One telemetry attribute: the IoT Agent object id in payloads, the NGSI-LD term, its IoT type and unit."""

    object_id: str
    name: str
    kind: str  # IoT Agent attribute type: Number, Text, Boolean
    unit: str | None = None

    def mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"object_id": self.object_id, "name": self.name, "type": self.kind}
        if self.unit:
            out["unit"] = self.unit
        return out


# What each device sends (UN/CEFACT unit codes). Types without telemetry (School) are static.
ATTRIBUTES: dict[str, tuple[Attr, ...]] = {
    "Streetlight": (Attr("ps", "powerState", "Text"), Attr("st", "status", "Text"),
                    Attr("il", "illuminanceLevel", "Number", "C62"), Attr("pw", "powerConsumption", "Number", "WTT")),
    "TrafficFlowObserved": (Attr("n", "intensity", "Number", "E50"), Attr("v", "averageVehicleSpeed", "Number", "KMH"),
                            Attr("o", "occupancy", "Number", "C62"), Attr("cl", "congestionLevel", "Text"),
                            Attr("cg", "congested", "Boolean")),
    "Camera": (Attr("st", "status", "Text"), Attr("vc", "vehicleCount", "Number", "E50")),
    "AirQualityObserved": (Attr("pm25", "pm25", "Number", "GQ"), Attr("pm10", "pm10", "Number", "GQ"),
                           Attr("no2", "no2", "Number", "GQ"), Attr("o3", "o3", "Number", "GQ"),
                           Attr("aqi", "airQualityIndex", "Number"), Attr("lvl", "airQualityLevel", "Text")),
    "WeatherObserved": (Attr("t", "temperature", "Number", "CEL"), Attr("h", "relativeHumidity", "Number", "C62"),
                        Attr("r", "precipitation", "Number", "H67"), Attr("w", "windSpeed", "Number", "MTS")),
    "FloodMonitoring": (Attr("wl", "waterLevel", "Number", "MTR"), Attr("fs", "floodState", "Text")),
    "Substation": (Attr("st", "status", "Text"), Attr("ld", "loadPercent", "Number", "P1"),
                   Attr("kv", "voltage", "Number", "KVT")),
}

# Nominal seconds between two reports of a device of each type (the simulator's schedule; the
# devices' expected interval for offline detection is a multiple of it).
REPORT_SECONDS: dict[str, int] = {"Streetlight": 600, "TrafficFlowObserved": 60, "Camera": 60,
                                  "AirQualityObserved": 60, "WeatherObserved": 120, "FloodMonitoring": 30,
                                  "Substation": 60}


@dataclass(frozen=True)
class Conditions:
    """What the scenario imposes at a moment (see :mod:`saola.sim.scenario`); empty = a normal day."""

    faulty_lamps: Mapping[str, str] = field(default_factory=dict)  # entity id → its fault (a Streetlight status)
    jammed_segments: frozenset[str] = frozenset()
    offline_cameras: frozenset[str] = frozenset()
    outage_wards: frozenset[str] = frozenset()  # ward codes without power
    rain_wards: Mapping[str, float] = field(default_factory=dict)  # ward code → mm/h
    river_rise: Mapping[str, float] = field(default_factory=dict)  # flood sensor id → metres added
    smog_wards: Mapping[str, float] = field(default_factory=dict)  # ward code → PM2.5 factor


NORMAL = Conditions()


@dataclass(frozen=True, slots=True)
class Subject:
    """What a model needs of an entity: id, type, ward, position and its static parameters."""

    id: str
    type: str
    ward: str
    lon: float
    lat: float
    params: Mapping[str, Any]


# --- helpers ---------------------------------------------------------------------------------


def noise(seed: int, key: str, t: datetime, scale: float = 1.0) -> float:
    """Deterministic noise in [-scale, scale] for ``key`` in the minute of ``t``."""
    minute = int(t.timestamp() // 60)
    digest = hashlib.blake2b(f"{seed}|{key}|{minute}".encode(), digest_size=8).digest()
    return (struct.unpack("<Q", digest)[0] / 2**64 * 2 - 1) * scale


def busyness(seed: int, key: str) -> float:
    """A fixed share in [0.6, 1.1] for ``key``: some roads carry more of the rush hour than others."""
    digest = hashlib.blake2b(f"{seed}|{key}|busy".encode(), digest_size=8).digest()
    return 0.6 + 0.5 * struct.unpack("<Q", digest)[0] / 2**64


def local_hour(t: datetime) -> float:
    local = t.astimezone(UTC) + LOCAL
    return local.hour + local.minute / 60 + local.second / 3600


def _bump(h: float, centre: float, width: float) -> float:
    return math.exp(-(((h - centre) / width) ** 2))


def traffic_demand(t: datetime) -> float:
    """Share of a road's capacity used at ``t`` (0..1): rush hours 7–9 h and 16:30–18:30."""
    h = local_hour(t)
    demand = 0.04 + 0.92 * _bump(h, 8.0, 0.9) + 0.95 * _bump(h, 17.5, 0.9) + 0.45 * _bump(h, 12.5, 2.5) \
        + 0.25 * _bump(h, 20.5, 1.5)
    if (t.astimezone(UTC) + LOCAL).weekday() >= 5:
        demand *= 0.7
    return min(1.0, demand)


def inversion(t: datetime) -> float:
    """Night-time temperature inversion that traps pollution (0..1), strongest around 1 h."""
    h = local_hour(t)
    return max(_bump(h, 1.0, 4.0), _bump(h, 25.0, 4.0))


def congestion_level(occupancy: float) -> str:
    if occupancy < 0.3:
        return "free"
    if occupancy < 0.5:
        return "moderate"
    if occupancy < 0.75:
        return "heavy"
    return "jam"


# VN_AQI breakpoints (Decision 1459/QĐ-TCMT, 2019): concentration → index
_AQI_INDEX = (0, 50, 100, 150, 200, 300, 400, 500)
_PM25_BREAKS = (0, 25, 50, 80, 150, 250, 350, 500)
_PM10_BREAKS = (0, 50, 150, 250, 350, 420, 500, 600)
AQI_LEVELS = ((50, "good"), (100, "moderate"), (150, "poor"), (200, "bad"), (300, "veryBad"), (10_000, "hazardous"))


def _sub_index(value: float, breaks: tuple[int, ...]) -> float:
    for i in range(1, len(breaks)):
        if value <= breaks[i]:
            lo, hi = breaks[i - 1], breaks[i]
            return _AQI_INDEX[i - 1] + (value - lo) / (hi - lo) * (_AQI_INDEX[i] - _AQI_INDEX[i - 1])
    return 500.0


def vn_aqi(pm25: float, pm10: float) -> int:
    return round(max(_sub_index(pm25, _PM25_BREAKS), _sub_index(pm10, _PM10_BREAKS)))


def aqi_level(aqi: float) -> str:
    return next(name for top, name in AQI_LEVELS if aqi <= top)


# --- the models ----------------------------------------------------------------------------------


def streetlight(seed: int, s: Subject, t: datetime, c: Conditions) -> dict[str, Any]:
    rated = float(s.params.get("ratedPower", 100))
    if s.ward in c.outage_wards:
        return {"ps": "off", "st": "ok", "il": 0.0, "pw": 0.0}
    on = sun.is_dark(t, s.lat, s.lon)
    fault = c.faulty_lamps.get(s.id)
    if fault == "columnIssue":  # the pole is down: the circuit breaker cuts it off
        return {"ps": "off", "st": fault, "il": 0.0, "pw": 0.0}
    if fault == "brokenLantern":  # the cover is broken: it burns, dirty and dimmer
        return {"ps": "on" if on else "off", "st": fault, "il": 0.4 if on else 0.0,
                "pw": round(rated, 1) if on else 0.0}
    if fault is not None:  # defectiveLamp: the driver still draws a little, no light
        return {"ps": "on" if on else "off", "st": fault, "il": 0.0, "pw": round(rated * 0.04, 1)}
    if not on:
        return {"ps": "off", "st": "ok", "il": 0.0, "pw": 0.0}
    h = local_hour(t)
    level = 0.6 if (h >= 23 or h < 5) else 1.0
    power = rated * level * (1 + noise(seed, s.id + "pw", t, 0.03))
    return {"ps": "on", "st": "ok", "il": level, "pw": round(power, 1)}


def traffic(seed: int, s: Subject, t: datetime, c: Conditions) -> dict[str, Any]:
    capacity = float(s.params.get("capacity", 300))  # vehicles per 5 minutes at saturation
    free_speed = float(s.params.get("freeSpeed", 50))
    demand = traffic_demand(t)
    # At the peak only the busiest roads pass 0.5 (heavy): a city is never congested everywhere at once.
    occupancy = min(0.7, demand * 0.62 * busyness(seed, s.id) * (1 + noise(seed, s.id + "o", t, 0.08)))
    if s.id in c.jammed_segments:
        occupancy = 0.88 + noise(seed, s.id + "j", t, 0.05)
    speed = max(3.0, free_speed * (1 - 0.85 * occupancy ** 1.6))
    flow = capacity * occupancy / 0.62 if occupancy <= 0.62 else capacity * (1 - (occupancy - 0.62) * 1.6)
    level = congestion_level(occupancy)
    return {"n": max(0, round(flow * (1 + noise(seed, s.id + "n", t, 0.05)))), "v": round(speed, 1),
            "o": round(occupancy, 3), "cl": level, "cg": level in ("heavy", "jam")}


def camera(seed: int, s: Subject, t: datetime, c: Conditions) -> dict[str, Any]:
    if s.id in c.offline_cameras:
        return {"st": "offline"}
    capacity = float(s.params.get("capacity", 300))
    counted = capacity * traffic_demand(t) * (1 + noise(seed, s.id + "vc", t, 0.1))
    return {"st": "online", "vc": max(0, round(counted))}


def air_quality(seed: int, s: Subject, t: datetime, c: Conditions) -> dict[str, Any]:
    base = float(s.params.get("basePm25", 30))
    pm25 = base * (0.55 + 0.45 * traffic_demand(t) + 0.5 * inversion(t)) * (1 + noise(seed, s.id + "pm", t, 0.06))
    pm25 *= c.smog_wards.get(s.ward, 1.0)
    pm10 = pm25 * (1.6 + noise(seed, s.id + "p10", t, 0.1))
    no2 = 15 + 45 * traffic_demand(t) + noise(seed, s.id + "no2", t, 4)
    h = local_hour(t)
    o3 = max(5.0, 20 + 60 * _bump(h, 14, 3) + noise(seed, s.id + "o3", t, 5))
    aqi = vn_aqi(pm25, pm10)
    return {"pm25": round(pm25, 1), "pm10": round(pm10, 1), "no2": round(no2, 1), "o3": round(o3, 1),
            "aqi": aqi, "lvl": aqi_level(aqi)}


def weather(seed: int, s: Subject, t: datetime, c: Conditions) -> dict[str, Any]:
    h = local_hour(t)
    day = math.cos((h - 14) / 24 * 2 * math.pi)  # 1 at 14 h, -1 at 2 h
    temperature = 22 + 4.5 * day + noise(seed, s.id + "t", t, 0.3)
    rain = c.rain_wards.get(s.ward, 0.0)
    humidity = min(0.99, 0.72 - 0.14 * day + (0.2 if rain else 0) + noise(seed, s.id + "h", t, 0.02))
    wind = max(0.0, 2.2 + 1.2 * day + (4 if rain else 0) + noise(seed, s.id + "w", t, 0.6))
    if rain:
        rain = max(0.0, rain * (1 + noise(seed, s.id + "r", t, 0.15)))
    return {"t": round(temperature - (3 if rain else 0), 1), "h": round(humidity, 3), "r": round(rain, 1),
            "w": round(wind, 1)}


def water(seed: int, s: Subject, t: datetime, c: Conditions) -> dict[str, Any]:
    base = float(s.params.get("baseLevel", 2.5))
    alert = float(s.params.get("alertLevel", base + 1.5))
    h = local_hour(t)
    level = base + 0.08 * math.sin(h / 24 * 2 * math.pi) + noise(seed, s.id + "wl", t, 0.01)
    level += c.river_rise.get(s.id, 0.0)
    state = "flood" if level >= alert + 0.5 else "alert" if level >= alert else "normal"
    return {"wl": round(level, 3), "fs": state}


def substation(seed: int, s: Subject, t: datetime, c: Conditions) -> dict[str, Any]:
    if s.ward in c.outage_wards:
        return {"st": "outage", "ld": 0.0, "kv": 0.0}
    h = local_hour(t)
    load = 35 + 25 * _bump(h, 11, 2.5) + 40 * _bump(h, 19.5, 2) + noise(seed, s.id + "ld", t, 3)
    load *= float(s.params.get("loadFactor", 1.0))
    return {"st": "energized", "ld": round(max(5.0, min(120.0, load)), 1),
            "kv": round(22 + noise(seed, s.id + "kv", t, 0.4), 2)}


MODELS = {"Streetlight": streetlight, "TrafficFlowObserved": traffic, "Camera": camera,
          "AirQualityObserved": air_quality, "WeatherObserved": weather, "FloodMonitoring": water,
          "Substation": substation}


def payload(seed: int, subject: Subject, t: datetime, conditions: Conditions = NORMAL) -> dict[str, Any]:
    """The IoT Agent JSON payload (object id → value) the device of ``subject`` sends at ``t``."""
    return MODELS[subject.type](seed, subject, t, conditions)


def values(seed: int, subject: Subject, t: datetime, conditions: Conditions = NORMAL) -> dict[str, Any]:
    """The same readings keyed by NGSI-LD attribute name (what the entity shows after ingestion)."""
    names = {a.object_id: a.name for a in ATTRIBUTES[subject.type]}
    return {names[k]: v for k, v in payload(seed, subject, t, conditions).items()}
