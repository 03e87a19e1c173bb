"""How often would this rule have fired? A replay of the attribute history through the engine itself.

:func:`backtest` builds a private :class:`saola.rules.engine.Engine` holding only the rule under test,
reads the history of the attributes it watches for the entities of its type (at most
``limit_subjects``, narrowed by its id pattern and area) through :func:`saola.context.temporal.history`,
and feeds the values in time order as ``ngsi.entity.updated`` events, ticking the engine's clock in
between so that ``for_seconds``, ``clear_after_seconds``, cooldowns, active windows and ``no_data``
behave as they would have live. Every ``raise`` decision is a firing. Nothing is written.

Limits: a value's time is its ``observedAt`` (else when it was recorded); the entities' current
location and ward decide the area filter; ``device_offline`` has no history to replay (0 firings);
the clock ticks at most every minute (finer when a rule's timings are shorter), so a timer may
fire up to one tick late; ``no_data`` assumes every entity had a value at the window's start; at most
``MAX_SAMPLES`` values are replayed (the entities beyond are left out of ``subjects``); an entity
with more values in the window than the history reader returns at once is cut to its earliest ones.

:func:`last_updates` tells the live engine when each entity of a ``no_data`` rule was last updated.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.context.models import NgsiEntity, NgsiEntityType
from saola.context.representation import LOCATION
from saola.context.temporal import MAX_HISTORY_ROWS, TemporalQuery, history
from saola.rules.definitions import Composite, NoData, RuleDefinition
from saola.rules.engine import Engine
from saola.rules.engine_rules import DEVICE, LOCAL_ZONE, REF_WARD, expand
from saola.rules.errors import InvalidRule
from saola.rules.service import LoadedRule

CHUNK = 200
MAX_TICKS = 20_000
MAX_EXAMPLES = 20
MAX_SAMPLES = 2_000_000  # values replayed at most (memory); later entities are left out and not counted


@dataclass
class BacktestResult:
    """What the replay found: firings (alerts that would have been raised), per local day, examples."""

    firings: int = 0
    subjects: int = 0
    samples: int = 0
    per_day: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)


def entities_of_type(session: Session, *, tenant: str, type_iri: str,
                     limit: int) -> list[tuple[str, dict[str, Any], datetime]]:
    """``(entity id, stored entity, modified at)`` of the entities of a type, by id (read-only)."""
    stmt = (select(NgsiEntity.entity_id, NgsiEntity.data, NgsiEntity.modified_at)
            .join(NgsiEntityType, NgsiEntityType.entity_pk == NgsiEntity.id)
            .where(NgsiEntityType.tenant == tenant, NgsiEntityType.type_iri == type_iri)
            .order_by(NgsiEntity.entity_id).limit(limit))
    return [(eid, data, modified) for eid, data, modified in session.execute(stmt)]


def _targets(definition: RuleDefinition) -> list[tuple[str, Any]]:
    """(type IRI, condition) of the rule, or of each composite part."""
    if isinstance(definition.condition, Composite):
        return [(expand(p.entity_type), p.condition) for p in definition.condition.parts]
    return [(expand(definition.entity_type), definition.condition)]


def last_updates(session: Session, *, definition: RuleDefinition,
                 limit: int = 1_000_000) -> dict[str, dict[str, tuple[float, dict[str, Any]]]]:
    """For the ``no_data`` conditions of a rule: ``{type IRI: {entity id: (last update, stored entity)}}``."""
    out: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}
    for type_iri, condition in _targets(definition):
        if isinstance(condition, NoData) and type_iri not in out:
            rows = entities_of_type(session, tenant=definition.tenant, type_iri=type_iri, limit=limit)
            out[type_iri] = {eid: (_aware(modified).timestamp(), data) for eid, data, modified in rows}
    return out


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _moment(data: dict[str, Any], recorded: datetime | None) -> datetime | None:
    text = data.get("observedAt")
    if isinstance(text, str):
        try:
            return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    return _aware(recorded) if recorded is not None else None


def _read(session: Session, tenant: str, ids: list[str], watch: str | None, tq: TemporalQuery) -> Iterator[Any]:
    """``(entity id, attribute IRI, instance)`` of the entities' history; a chunk whose answer reached the
    history reader's row limit is read again in halves, so that no entity's values are cut off."""
    found = history(session, tenant=tenant, entity_ids=ids, attrs=[watch] if watch else None, tq=tq)
    rows = sum(len(items) for by_attr in found.values() for items in by_attr.values())
    if rows >= MAX_HISTORY_ROWS and len(ids) > 1:
        half = len(ids) // 2
        yield from _read(session, tenant, ids[:half], watch, tq)
        yield from _read(session, tenant, ids[half:], watch, tq)
        return
    for eid, by_attr in found.items():
        for iri, instances in by_attr.items():
            for instance in instances:
                yield eid, iri, instance


def _step(definition: RuleDefinition, span: float) -> float:
    timings = [60.0]
    for value in (definition.clear_after_seconds, definition.cooldown_seconds,
                  getattr(definition.condition, "for_seconds", 0)):
        if value:
            timings.append(float(value))
    for _type, condition in _targets(definition):
        if isinstance(condition, NoData):
            timings.append(max(60.0, condition.after_seconds / 2))
    return max(1.0, min(timings), span / MAX_TICKS)


def backtest(session: Session, *, definition: RuleDefinition, start: datetime, end: datetime,
             limit_subjects: int = 10_000) -> BacktestResult:
    """Replay ``start``–``end`` of the history through ``definition`` (see the module docstring)."""
    start, end = _aware(start), _aware(end)
    engine = Engine(update_every_seconds=math.inf)
    engine.set_rules([LoadedRule(rule_id=0, version=0, definition=definition)], now=start)
    compiled = engine.rules.get(0)
    if compiled is None:
        problem = next(iter(engine.errors.values())).message if engine.errors else "the rule cannot be evaluated"
        raise InvalidRule([{"field": "definition", "message": problem}])
    tenant = definition.tenant
    samples: list[tuple[datetime, str, str, str, dict[str, Any]]] = []
    bases: dict[str, dict[str, Any]] = {}
    examined: set[str] = set()
    for type_iri, condition in _targets(definition):
        watch = expand(condition.attribute) if getattr(condition, "attribute", None) else None
        if condition.kind == "device_offline" or watch == DEVICE:
            continue
        candidates = []
        for eid, data, _modified in entities_of_type(session, tenant=tenant, type_iri=type_iri, limit=limit_subjects):
            info = engine.entity_info(tenant, eid, data, [LOCATION])
            if engine.passes(compiled, eid, info):
                candidates.append(eid)
                bases[eid] = {k: data[k] for k in (LOCATION, REF_WARD) if k in data}
        examined.update(candidates)
        if isinstance(condition, NoData):
            engine.seed_seen(0, {type_iri: {eid: (start.timestamp(), bases[eid]) for eid in candidates}})
        tq = TemporalQuery(timerel="between", time_at=start, end_time_at=end, timeproperty="modifiedAt")
        for i in range(0, len(candidates), CHUNK):
            if len(samples) >= MAX_SAMPLES:  # enough to answer; the entities not read are not counted
                examined.difference_update(candidates[i:])
                break
            for eid, iri, instance in _read(session, tenant, candidates[i:i + CHUNK], watch, tq):
                moment = _moment(instance.data, instance.at)
                if moment is not None and start <= moment <= end:
                    samples.append((moment, eid, type_iri, iri, instance.data))
    samples.sort(key=lambda s: (s[0], s[1]))
    step = timedelta(seconds=_step(definition, (end - start).total_seconds()))
    raised = []
    next_tick = start + step
    for moment, eid, type_iri, iri, data in samples:
        while next_tick <= moment:
            raised += [d for d in engine.tick(now=next_tick) if d.action == "raise"]
            next_tick += step
        payload = {"tenant": tenant, "id": eid, "types": [type_iri], "changed": [iri],
                   "entity": {**bases.get(eid, {}), iri: [data]}}
        raised += [d for d in engine.on_event("ngsi.entity.updated", payload, now=moment) if d.action == "raise"]
    while next_tick <= end:
        raised += [d for d in engine.tick(now=next_tick) if d.action == "raise"]
        next_tick += step
    per_day = Counter(d.at.astimezone(LOCAL_ZONE).date().isoformat() for d in raised)
    subjects = 1 if isinstance(definition.condition, Composite) else len(examined)
    return BacktestResult(
        firings=len(raised), subjects=subjects, samples=len(samples), per_day=dict(sorted(per_day.items())),
        first=raised[0].at if raised else None, last=raised[-1].at if raised else None,
        examples=[{"subject": d.subject, "at": d.at.isoformat(), "value": d.value} for d in raised[:MAX_EXAMPLES]])
