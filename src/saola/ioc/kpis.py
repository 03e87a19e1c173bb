"""The operator console's KPI tiles and charts, each computed through another package's service functions.

:data:`KPIS` is the registry (data): a key, a label, the function computing the value and the events that
make it stale (topic prefixes, and for ``ngsi.entity.*`` the entity types). :func:`compute` runs the
registered functions (all, or only the stale ones), one database read each; :func:`stale_keys` tells which
KPIs an event concerns, so :mod:`saola.ioc.live` recomputes only those. Values are plain JSON.

The figures cover the whole province (the system actor sees every agency) and the default tenant of the
city database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from saola.ioc import layers

TENANT = ""  # the city's entities live in the default tenant


@dataclass(frozen=True)
class Clock:
    now: datetime
    tz: ZoneInfo

    @property
    def start_of_day(self) -> datetime:
        local = self.now.astimezone(self.tz)
        return datetime.combine(local.date(), time(), tzinfo=self.tz)


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str  # English message id
    compute: Callable[[Session, Clock], dict[str, Any]]
    topics: tuple[str, ...]  # topic prefixes that make the value stale ("alert." ...)
    entity_types: tuple[str, ...] = ()  # for ngsi.entity.* events: only these types (terms)


# --- one function per KPI ----------------------------------------------------------------------------------


def active_alerts(session: Session, clock: Clock) -> dict[str, Any]:
    """Alerts not cleared (active or acknowledged), by severity."""
    from saola.rules import alerts

    counts = {s: 0 for s in layers.SEVERITIES}
    counts.update({str(k): int(v) for k, v in alerts.active_counts(session).items()})
    return {"value": sum(counts.values()), "by_severity": counts}


def citizen_reports(session: Session, clock: Clock) -> dict[str, Any]:
    """Open and overdue 1022 reports (feedback statistics, every agency)."""
    from saola.cases.actors import SYSTEM
    from saola.feedback.stats import feedback_stats

    stats = feedback_stats(session, actor=SYSTEM, start=clock.start_of_day, end=clock.now, now=clock.now,
                           list_overdue=False)
    return {"value": stats.total.open, "open": stats.total.open, "overdue": stats.total.overdue,
            "received_today": stats.total.received}


def dossiers_today(session: Session, clock: Clock) -> dict[str, Any]:
    """Dossiers finished today and the share finished on time (early or on time)."""
    from saola.cases.actors import SYSTEM
    from saola.egov.stats import dossier_stats

    _rows, total = dossier_stats(session, actor=SYSTEM, start=clock.start_of_day, end=clock.now, now=clock.now)
    on_time = total.counts.early + total.counts.on_time
    rate = round(100 * on_time / total.resolved, 1) if total.resolved else None
    return {"value": rate, "on_time": on_time, "resolved": total.resolved, "late": total.counts.late,
            "received": total.received}


def _count(session: Session, entity_type: str, q: str | None = None) -> int:
    return layers.count_of_type(session, tenant=TENANT, entity_type=entity_type, q=q)


def lamps(session: Session, clock: Clock) -> dict[str, Any]:
    """Street lamps on and faulty (status other than ok), of all lamps."""
    faulty = _count(session, "Streetlight", 'status=="defectiveLamp","columnIssue","brokenLantern"')
    on = _count(session, "Streetlight", 'powerState=="on"')
    total = _count(session, "Streetlight")
    return {"value": on, "on": on, "faulty": faulty, "total": total}


def devices_offline(session: Session, clock: Clock) -> dict[str, Any]:
    """Registered devices the health check marked offline."""
    from saola.devices import service

    offline, _rows = service.list_devices(session, tenant=TENANT, status="offline", limit=1, offset=0)
    total, _rows = service.list_devices(session, tenant=TENANT, limit=1, offset=0)
    return {"value": offline, "offline": offline, "total": total}


def worst_aqi(session: Session, clock: Clock) -> dict[str, Any]:
    """The highest VN_AQI among the air-quality stations, with the station."""
    worst: tuple[float, dict[str, Any]] | None = None
    for entity in layers.entities_of_type(session, tenant=TENANT, entity_type="AirQualityObserved"):
        value = layers.attribute(entity, "airQualityIndex")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (worst is None or value > worst[0]):
            worst = (value, entity)
    if worst is None:
        return {"value": None, "band": "unknown", "station": None, "name": None}
    value, entity = worst
    return {"value": round(value), "band": layers.aqi_band(value), "station": entity["id"],
            "name": layers.attribute(entity, "name") or entity["id"], "url": layers.entity_url(entity["id"])}


def congested_segments(session: Session, clock: Clock) -> dict[str, Any]:
    """Road segments whose congestion level is heavy or jam, of all observed segments."""
    congested = _count(session, "TrafficFlowObserved", 'congestionLevel=="heavy","jam"')
    total = _count(session, "TrafficFlowObserved")
    return {"value": congested, "congested": congested, "total": total}


def open_incidents(session: Session, clock: Clock) -> dict[str, Any]:
    from saola.ioc import incidents

    return {"value": int(incidents.open_count(session))}


KPIS: tuple[Kpi, ...] = (
    Kpi("alerts", "Active alerts", active_alerts, ("alert.",)),
    Kpi("incidents", "Open incidents", open_incidents, ("incident.",)),
    Kpi("reports", "Citizen reports open", citizen_reports, ("case.",)),
    Kpi("dossiers", "Dossiers on time today", dossiers_today, ("case.",)),
    Kpi("lamps", "Lamps on", lamps, ("ngsi.entity.",), ("Streetlight",)),
    Kpi("devices", "Devices offline", devices_offline, ("device.",)),
    Kpi("aqi", "Worst AQI", worst_aqi, ("ngsi.entity.",), ("AirQualityObserved",)),
    Kpi("traffic", "Congested segments", congested_segments, ("ngsi.entity.",), ("TrafficFlowObserved",)),
)
BY_KEY = {k.key: k for k in KPIS}


def stale_keys(topic: str, payload: dict[str, Any]) -> set[str]:
    """The KPIs an event makes stale."""
    found = set()
    types = set(payload.get("types") or []) if topic.startswith("ngsi.entity.") else set()
    for kpi in KPIS:
        if not any(topic.startswith(prefix) for prefix in kpi.topics):
            continue
        if kpi.entity_types and not types & {layers.iri(t) for t in kpi.entity_types}:
            continue
        found.add(kpi.key)
    return found


def compute(session: Session, *, now: datetime, tz: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """``{key: {"value", ...}}`` for the chosen KPIs (all by default); a failing KPI gives ``{"error"}``."""
    clock = Clock(now, ZoneInfo(tz))
    chosen = [BY_KEY[k] for k in keys if k in BY_KEY] if keys is not None else list(KPIS)
    out: dict[str, Any] = {}
    for kpi in chosen:
        try:
            with session.begin_nested():
                out[kpi.key] = kpi.compute(session, clock)
        except Exception as exc: # shown on the tile, never hides the other tiles
            out[kpi.key] = {"value": None, "error": type(exc).__name__}
    return out


# --- charts ---------------------------------------------------------------------------------------------------


def _hours(now: datetime, hours: int) -> list[datetime]:
    top = now.replace(minute=0, second=0, microsecond=0)
    return [top - timedelta(hours=hours - 1 - i) for i in range(hours)]


def alerts_per_hour(session: Session, *, now: datetime, hours: int = 24) -> dict[str, Any]:
    """Alerts raised in each of the last ``hours`` hours (by the alert's start time)."""
    from saola.rules import alerts

    slots = _hours(now, hours)
    counts = [0] * hours
    found = alerts.list_alerts(session, limit=10_000, since=slots[0])
    for alert in found:
        started = getattr(alert, "started_at", None) or getattr(alert, "raised_at", None)
        if started is None:
            continue
        index = int((started - slots[0]).total_seconds() // 3600)
        if 0 <= index < hours:
            counts[index] += 1
    return {"labels": [s.isoformat() for s in slots], "values": counts}


def average_aqi(session: Session, *, now: datetime, hours: int = 24) -> dict[str, Any]:
    """The mean VN_AQI of every station in each of the last ``hours`` hours, from the attribute history."""
    from saola.context import temporal

    slots = _hours(now, hours)
    stations = [e["id"] for e in layers.entities_of_type(session, tenant=TENANT, entity_type="AirQualityObserved")]
    sums, counts = [0.0] * hours, [0] * hours
    if stations:
        attr = layers.iri("airQualityIndex")
        tq = temporal.TemporalQuery(timerel="between", time_at=slots[0], end_time_at=now, timeproperty="observedAt")
        history = temporal.history(session, tenant=TENANT, entity_ids=stations, attrs=[attr], tq=tq)
        for per_attr in history.values():
            for item in per_attr.get(attr, []):
                value = item.data.get("value")
                if item.at is None or not isinstance(value, (int, float)) or isinstance(value, bool):
                    continue
                index = int((item.at - slots[0]).total_seconds() // 3600)
                if 0 <= index < hours:
                    sums[index] += value
                    counts[index] += 1
    values = [round(s / c, 1) if c else None for s, c in zip(sums, counts, strict=True)]
    return {"labels": [s.isoformat() for s in slots], "values": values}


def charts(session: Session, *, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, fn in (("alerts_per_hour", alerts_per_hour), ("average_aqi", average_aqi)):
        try:
            with session.begin_nested():
                out[key] = fn(session, now=now)
        except Exception as exc:
            out[key] = {"labels": [], "values": [], "error": type(exc).__name__}
    return out
