"""Rules compiled for the engine: expanded names, evaluators, filters and timings ready for the hot path.

:func:`compile_rule` turns a :class:`saola.rules.service.LoadedRule` into a :class:`Compiled` rule:
type and attribute terms expanded to IRIs with the NGSI-LD core @context (default vocabulary
``https://uri.etsi.org/ngsi-ld/default-context/``), the id pattern compiled, the area as a ward code
(indexed) or a prepared shapely geometry (tested per entity, cached by the engine), active windows
in Asia/Ho_Chi_Minh, and one evaluator per condition or composite part. Also the small helpers the
engine and the backtest share: reading an attribute's value from a stored entity, alert titles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from saola.context.jsonld import CORE_CONTEXT_URL, ContextProcessor, TermMap
from saola.context.representation import VALUE_MEMBER
from saola.rules.definitions import Composite, NoData, RuleDefinition, TimeWindow
from saola.rules.evaluators import Evaluator, area_location, area_shape, make_evaluator
from saola.rules.service import LoadedRule

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DEVICE = "@device"  # index key of device_offline rules (device.offline / device.online events)


@lru_cache(maxsize=1)
def _core_terms() -> TermMap:
    return ContextProcessor().term_map(CORE_CONTEXT_URL)


@lru_cache(maxsize=4096)
def expand(term: str) -> str:
    """An NGSI-LD term as the broker stores it (core @context, default vocabulary); IRIs unchanged."""
    if not term:
        return term
    return _core_terms().expand(term)


REF_WARD = expand("refWard")
NAME = expand("name")


def value_of(entity: dict[str, Any], iri: str | None) -> Any:
    """The value of an attribute's default instance in a stored entity (None when absent)."""
    if not iri:
        return None
    instances = entity.get(iri)
    if not instances:
        return None
    instance = instances[0] if isinstance(instances, list) else instances
    if not isinstance(instance, dict):
        return None
    member = VALUE_MEMBER.get(instance.get("type", "Property"), "value")
    return instance.get(member)


def observed_seconds(entity: dict[str, Any], iri: str | None, default: float) -> float:
    """When the attribute's value was observed (its ``observedAt``), else ``default``."""
    instances = entity.get(iri) if iri else None
    if instances and isinstance(instances, list) and isinstance(instances[0], dict):
        text = instances[0].get("observedAt")
        if isinstance(text, str):
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
            except ValueError:
                return default
    return default


def _minutes(moment: Any) -> int:
    return moment.hour * 60 + moment.minute


def in_windows(windows: list[TimeWindow], now_s: float) -> bool:
    """Whether local time (Asia/Ho_Chi_Minh) at ``now_s`` is inside one of the windows.

    A window whose end is before its start crosses midnight: its weekdays are those of its start
    (Monday 22:00–06:00 covers Monday night and Tuesday morning). Start equal to end is the whole day.
    """
    local = datetime.fromtimestamp(now_s, LOCAL_ZONE)
    minute = local.hour * 60 + local.minute + local.second / 60
    today = local.weekday()
    yesterday = (local - timedelta(days=1)).weekday()
    for window in windows:
        start, end = _minutes(window.start), _minutes(window.end)
        if start == end:
            if today in window.weekdays:
                return True
        elif start < end:
            if today in window.weekdays and start <= minute < end:
                return True
        elif (today in window.weekdays and minute >= start) or (yesterday in window.weekdays and minute < end):
            return True
    return False


_PLACEHOLDER = re.compile(r"\{(entity|id|value|attribute)\}")


def _fill(template: str, values: dict[str, Any]) -> str:
    # Only the four plain names are replaced: str.format would let a rule's author reach attributes
    # ("{value.__class__...}") of the objects passed in.
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


def title(compiled: Compiled, subject: str, value: Any, name: str | None = None) -> tuple[str, str]:
    """The alert's titles from the rule's messages: {entity} (its name, else its id), {id}, {value}, {attribute}."""
    entity = name or subject
    values = {"entity": entity, "id": subject, "value": value, "attribute": compiled.attribute_term}
    vi = _fill(compiled.message_vi, values) if compiled.message_vi else f"{compiled.name}: {entity}"
    en = _fill(compiled.message_en, values) if compiled.message_en else vi
    return vi[:500], en[:500]


@dataclass(slots=True)
class Part:
    """One part of a composite rule (its own entity type and condition)."""

    index: int
    type_iri: str
    watch: str | None  # attribute IRI, DEVICE, or None (every attribute)
    observed: bool
    evaluate: Evaluator
    condition: Any
    min_entities: int
    silent_after: float | None = None  # no_data: after_seconds


@dataclass(slots=True)
class Compiled:
    rule_id: int
    version: int
    name: str
    tenant: str
    type_iri: str
    kind: str
    signature: str  # the condition kind and attribute: a state made for another is reset
    severity: str
    watch: str | None
    observed: bool
    evaluate: Evaluator | None
    condition: Any
    id_regex: re.Pattern[str] | None
    ward: str | None  # the area's ward code (the index narrows by it)
    geometry: Any  # the area's prepared geometry when it is a polygon
    windows: list[TimeWindow]
    for_seconds: float
    clear_after: float
    cooldown: float
    message_vi: str
    message_en: str
    owner_agency: str | None
    incident_type: str | None
    attribute_term: str
    subject: str = ""
    location: dict[str, Any] | None = None
    mode: str = "all"
    parts: list[Part] = field(default_factory=list)
    minimums: list[int] = field(default_factory=list)
    no_data_targets: list[Part | None] = field(default_factory=list)
    silent_after: float | None = None  # no_data: after_seconds

    def accepts(self, entity_id: str, ward: str | None, point: Any) -> bool:
        """The id pattern and area filters (the ward itself is matched by the index)."""
        if self.id_regex is not None and self.id_regex.search(entity_id) is None:
            return False
        if self.ward is not None and ward != self.ward:
            return False
        if self.geometry is not None:
            return point is not None and bool(self.geometry.covers(point))
        return True


def _watch(condition: Any) -> tuple[str | None, bool]:
    """The attribute a condition watches and whether its samples are timed by ``observedAt``."""
    if condition.kind == "device_offline":
        return DEVICE, False
    attribute = getattr(condition, "attribute", None)
    return (expand(attribute) if attribute else None), condition.kind in ("rate_of_change", "anomaly")


def _silent_after(condition: Any) -> float | None:
    return float(condition.after_seconds) if isinstance(condition, NoData) else None


def compile_rule(rule: LoadedRule) -> Compiled:
    """A rule ready for the engine (``ValueError``/``EvaluationError`` when it cannot be evaluated)."""
    d: RuleDefinition = rule.definition
    condition = d.condition
    area = d.area
    compiled = Compiled(
        rule_id=rule.rule_id, version=rule.version, name=d.name, tenant=d.tenant, type_iri=expand(d.entity_type),
        kind=condition.kind, signature=condition.kind, severity=d.severity, watch=None, observed=False, evaluate=None,
        condition=condition, id_regex=re.compile(d.id_pattern) if d.id_pattern else None,
        ward=area.ward_code if area is not None else None,
        geometry=area_shape(area) if area is not None and area.geometry is not None else None,
        windows=list(d.active_windows), for_seconds=float(getattr(condition, "for_seconds", 0) or 0),
        clear_after=float(d.clear_after_seconds), cooldown=float(d.cooldown_seconds), message_vi=d.message_vi,
        message_en=d.message_en, owner_agency=d.owner_agency,
        incident_type=d.open_incident.incident_type if d.open_incident else None,
        attribute_term=getattr(condition, "attribute", None) or "")
    if isinstance(condition, Composite):
        assert area is not None  # the schema requires an area for a composite rule
        compiled.subject = f"area:{area.ward_code or area.name or 'area'}"
        compiled.location = area_location(area)
        compiled.mode = condition.mode
        for i, part in enumerate(condition.parts):
            watch, observed = _watch(part.condition)
            compiled.parts.append(Part(i, expand(part.entity_type), watch, observed, make_evaluator(part.condition),
                                       part.condition, part.min_entities, _silent_after(part.condition)))
        compiled.minimums = [p.min_entities for p in compiled.parts]
        compiled.no_data_targets = [p for p in compiled.parts if isinstance(p.condition, NoData)]
        compiled.signature = "composite:" + ",".join(f"{p.type_iri}|{p.condition.kind}|{p.watch}"
                                                    for p in compiled.parts)
    else:
        compiled.watch, compiled.observed = _watch(condition)
        compiled.evaluate = make_evaluator(condition)
        compiled.signature = f"{condition.kind}|{compiled.watch}"
        if isinstance(condition, NoData):
            compiled.no_data_targets = [None]
            compiled.silent_after = _silent_after(condition)
    return compiled
