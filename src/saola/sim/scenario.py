"""The simulator's injected faults and events: a timeline, in seconds since the simulator started.

Events come in *waves*. The first wave is scripted so that the demo rules
(``data/demo/rules.json``) fire within a minute or two of starting, in the demo wards where they
make sense (a lamp failure in Kinh Bắc, a jam in Võ Cường, a camera going offline, a power outage,
heavy rain and a rising Cầu river in Vũ Ninh, a smog episode in Từ Sơn); when a preferred ward is not
in the city (a small test city) the first ward that has the needed entities is used. Later waves,
one every ``wave_seconds``, pick their targets with ``random.Random(f"{seed}:wave:{n}")``, so the
timeline is the same for the same seed and city. Each event has an end: alerts clear afterwards.

:meth:`Scenario.conditions` folds the events active at ``t`` into the
:class:`saola.sim.telemetry.Conditions` the models read; :meth:`Scenario.affected` names the entities
whose readings an active (or just ended) event changes, so the runner reports them at once.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from saola.sim.city import City, CityEntity
from saola.sim.telemetry import Conditions

KINDS = ("lamp_failure", "congestion", "camera_offline", "power_outage", "heavy_rain", "river_rise", "smog")
LABELS = {
    "lamp_failure": ("Đèn hỏng", "Lamp failure"),
    "congestion": ("Sự cố gây ùn tắc", "Congestion incident"),
    "camera_offline": ("Camera mất tín hiệu", "Camera offline"),
    "power_outage": ("Mất điện khu vực", "Power outage in a ward"),
    "heavy_rain": ("Mưa lớn", "Heavy rain"),
    "river_rise": ("Nước sông lên", "Rising river"),
    "smog": ("Ô nhiễm bụi mịn", "Smog episode"),
}
# kind → (preferred ward, start in the first wave, duration) — seconds after the simulator starts
FIRST_WAVE: dict[str, tuple[str, float, float]] = {
    "congestion": ("09190", 1, 300),
    "lamp_failure": ("09187", 2, 900),
    "power_outage": ("09190", 3, 480),
    "camera_offline": ("09187", 4, 600),
    "heavy_rain": ("09169", 5, 720),
    "river_rise": ("09169", 5, 720),
    "smog": ("09367", 6, 480),
}
RISE_M_PER_S = 0.01  # 0.6 m a minute: the rate rule fires within a minute, the alert level is passed in ~3 min
RISE_SECONDS = 240  # rising, then holding, then falling back over the rest of the event
RAIN_MM_H = 55.0
SMOG_FACTOR = 2.4
LAMP_FAULTS = ("defectiveLamp", "brokenLantern", "columnIssue")
RECOVERY_SECONDS = 30.0  # after an event ends its entities are still reported at once for this long


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    start: float
    end: float
    ward: str
    targets: tuple[str, ...]  # entity ids whose readings the event changes
    detail: str = ""  # lamp failures: the lamp's fault (a Streetlight status)

    def active(self, t: float) -> bool:
        return self.start <= t < self.end

    @property
    def label_vi(self) -> str:
        return LABELS[self.kind][0]

    @property
    def label_en(self) -> str:
        return LABELS[self.kind][1]


def _by_ward(entities: Iterable[CityEntity]) -> dict[str, list[CityEntity]]:
    out: dict[str, list[CityEntity]] = {}
    for e in entities:
        out.setdefault(e.ward, []).append(e)
    return out


@dataclass
class Scenario:
    """The events of one run: ``city``, ``seed``; ``enabled=False`` gives a quiet city (normal days only)."""

    city: City
    seed: int
    wave_seconds: float = 1800.0
    enabled: bool = True
    rise_m_per_s: float = RISE_M_PER_S  # how fast a river rises (tests use a faster one)
    first_wave_scale: float = 1.0  # multiplies the first wave's start offsets (0: everything at once)
    _waves: dict[int, list[Event]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._types = {t: _by_ward(self.city.of_type(t)) for t in
                       ("Streetlight", "TrafficFlowObserved", "Camera", "Substation", "WeatherObserved",
                        "FloodMonitoring", "AirQualityObserved")}
        self._rain_wards = sorted(set(self._types["WeatherObserved"]) & set(self._types["FloodMonitoring"]))

    # --- choosing targets ----------------------------------------------------------------------

    def _needs(self, kind: str) -> list[str]:
        """The wards where an event of ``kind`` can happen."""
        need = {"lamp_failure": "Streetlight", "congestion": "TrafficFlowObserved", "camera_offline": "Camera",
                "power_outage": "Substation", "smog": "AirQualityObserved"}.get(kind)
        if need is None:  # rain and river rise go together, where a weather station and a river sensor are
            return self._rain_wards
        return sorted(self._types[need])

    def _targets(self, kind: str, ward: str, rng: random.Random) -> tuple[str, ...]:
        t = self._types
        if kind == "lamp_failure":
            return (rng.choice(t["Streetlight"][ward]).id,)
        if kind == "congestion":
            return (rng.choice(t["TrafficFlowObserved"][ward]).id,)
        if kind == "camera_offline":
            return (rng.choice(t["Camera"][ward]).id,)
        if kind == "power_outage":
            return tuple(e.id for e in t["Substation"][ward] + t["Streetlight"].get(ward, []))
        if kind == "heavy_rain":
            return tuple(e.id for e in t["WeatherObserved"][ward])
        if kind == "river_rise":
            return tuple(e.id for e in t["FloodMonitoring"][ward])
        return tuple(e.id for e in t["AirQualityObserved"][ward])

    def wave(self, n: int) -> list[Event]:
        """The events of wave ``n`` (0: the scripted first wave)."""
        if n in self._waves:
            return self._waves[n]
        rng = random.Random(f"{self.seed}:wave:{n}")
        base = n * self.wave_seconds
        events: list[Event] = []
        shared_ward: str | None = None  # rain and river rise happen in the same ward
        for kind, (preferred, start, duration) in FIRST_WAVE.items():
            wards = self._needs(kind)
            if not wards:
                continue
            if kind == "river_rise" and shared_ward is not None:
                ward = shared_ward
            elif n == 0:
                ward = preferred if preferred in wards else wards[0]
            else:
                ward = rng.choice(wards)
            if kind == "heavy_rain":
                shared_ward = ward
            offset = start * self.first_wave_scale if n == 0 else rng.uniform(0, self.wave_seconds * 0.5)
            if kind == "river_rise" and n > 0:
                offset = next(e.start - base for e in events if e.kind == "heavy_rain")
            detail = ""
            if kind == "lamp_failure":
                detail = "defectiveLamp" if n == 0 else rng.choice(LAMP_FAULTS)
            events.append(Event(kind, base + offset, base + offset + duration, ward, self._targets(kind, ward, rng),
                                detail))
        self._waves[n] = events
        return events

    def events_between(self, start: float, end: float) -> list[Event]:
        if not self.enabled:
            return []
        first = max(0, int((start - 3600) // self.wave_seconds))
        last = int(end // self.wave_seconds)
        return [e for n in range(first, last + 1) for e in self.wave(n) if e.start < end and e.end > start]

    def active(self, t: float) -> list[Event]:
        return [e for e in self.events_between(t, t + 1e-9) if e.active(t)]

    # --- effects --------------------------------------------------------------------------------

    def conditions(self, t: float) -> Conditions:
        lamps: dict[str, str] = {}
        jams: set[str] = set()
        cameras: set[str] = set()
        outages: set[str] = set()
        rain: dict[str, float] = {}
        rise: dict[str, float] = {}
        smog: dict[str, float] = {}
        for e in self.active(t):
            if e.kind == "lamp_failure":
                lamps.update(dict.fromkeys(e.targets, e.detail or "defectiveLamp"))
            elif e.kind == "congestion":
                jams.update(e.targets)
            elif e.kind == "camera_offline":
                cameras.update(e.targets)
            elif e.kind == "power_outage":
                outages.add(e.ward)
            elif e.kind == "heavy_rain":
                rain[e.ward] = RAIN_MM_H
            elif e.kind == "river_rise":
                for target in e.targets:
                    rise[target] = max(rise.get(target, 0.0),
                                       river_rise(t - e.start, e.end - e.start, self.rise_m_per_s))
            elif e.kind == "smog":
                smog[e.ward] = SMOG_FACTOR
        return Conditions(faulty_lamps=lamps, jammed_segments=frozenset(jams),
                          offline_cameras=frozenset(cameras), outage_wards=frozenset(outages), rain_wards=rain,
                          river_rise=rise, smog_wards=smog)

    def affected(self, t: float) -> set[str]:
        """Entities an event changes now, or changed until ``RECOVERY_SECONDS`` ago."""
        out: set[str] = set()
        for e in self.events_between(t - RECOVERY_SECONDS, t + 1e-9):
            if e.start <= t < e.end + RECOVERY_SECONDS:
                out.update(e.targets)
        return out

    def silent(self, t: float) -> set[str]:
        """Devices that send nothing now: cameras offline for more than 10 s (their last word was 'offline')."""
        return {target for e in self.active(t) if e.kind == "camera_offline" and t - e.start > 10
                for target in e.targets}


def river_rise(elapsed: float, duration: float, rate: float = RISE_M_PER_S) -> float:
    """Metres above normal ``elapsed`` seconds into a rising-river event of ``duration`` seconds: rising at
    ``rate`` m/s for :data:`RISE_SECONDS` (or until 2.4 m), holding a third of the rest, then falling back."""
    rise_for = min(RISE_SECONDS, RISE_M_PER_S * RISE_SECONDS / rate)
    peak = rate * rise_for
    if elapsed < rise_for:
        return rate * max(0.0, elapsed)
    hold_until = rise_for + (duration - rise_for) / 3
    if elapsed < hold_until:
        return peak
    remaining = max(1.0, duration - hold_until)
    return max(0.0, peak * (1 - (elapsed - hold_until) / remaining))
