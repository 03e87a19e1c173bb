"""Helpers of the rule engine's tests: rules from plain dicts, recorded event sequences, a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from saola.context.representation import LOCATION
from saola.rules.definitions import RuleDefinition
from saola.rules.engine import Decision, Engine
from saola.rules.service import LoadedRule

V = "https://uri.etsi.org/ngsi-ld/default-context/"
T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi, a Tuesday
WARD = "07210"  # Phường Bắc Giang
INSIDE = {"type": "Point", "coordinates": [106.1935, 21.2811]}  # in ward 07210
OUTSIDE = {"type": "Point", "coordinates": [105.0, 20.0]}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def definition(condition: dict[str, Any], **extra: Any) -> RuleDefinition:
    return RuleDefinition.model_validate({"name": "test rule", "severity": "major", "entity_type": "AirQualityObserved",
                                          "condition": condition, **extra})


def rule(condition: dict[str, Any], rule_id: int = 1, **extra: Any) -> LoadedRule:
    return LoadedRule(rule_id=rule_id, version=1, definition=definition(condition, **extra))


def engine_with(*rules: LoadedRule, update_every: float = 1e9) -> Engine:
    engine = Engine(update_every_seconds=update_every)
    engine.load(list(rules), {}, now=T0)
    return engine


def update(eid: str, attrs: dict[str, Any], *, type_: str = "AirQualityObserved", ward: str | None = WARD,
           location: dict[str, Any] | None = None, observed: datetime | None = None) -> tuple[str, dict[str, Any]]:
    entity: dict[str, Any] = {"id": eid, "type": [V + type_]}
    for name, value in attrs.items():
        instance: dict[str, Any] = {"type": "Property", "value": value}
        if observed is not None:
            instance["observedAt"] = observed.isoformat().replace("+00:00", "Z")
        entity[V + name] = [instance]
    if ward is not None:
        entity[V + "refWard"] = [{"type": "Property", "value": ward}]
    changed = [V + name for name in attrs]
    if location is not None:
        entity[LOCATION] = [{"type": "GeoProperty", "value": location}]
        changed.append(LOCATION)
    return "ngsi.entity.updated", {"tenant": "", "id": eid, "types": [V + type_], "changed": changed,
                                   "entity": entity, "previous": None}


def replay(engine: Engine, steps: list[tuple[float, Any]], eid: str = "urn:ngsi-ld:AirQualityObserved:a1",
           attribute: str = "pm25", **kw: Any) -> list[tuple[float, str]]:
    """Feed ``(seconds, value)`` (value ``"tick"`` ticks the clock instead); the decisions as ``(t, action)``."""
    out: list[tuple[float, str]] = []
    for seconds, value in steps:
        if value == "tick":
            decisions = engine.tick(now=at(seconds))
        else:
            topic, payload = update(eid, {attribute: value}, **kw)
            decisions = engine.on_event(topic, payload, now=at(seconds))
        out += [(seconds, d.action) for d in decisions]
    return out


def actions(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.action, d.subject) for d in decisions]
