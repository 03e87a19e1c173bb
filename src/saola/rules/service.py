"""The rules store's use cases: create, change (a new version, the old one kept), enable, disable, archive.

Every function takes the session first and keyword arguments, flushes and never commits (the
request's unit of work does). Each change is audited (``rules`` is an audited table, so the audit
log holds the row before and after) and queues the event ``rule.changed``
``{"id", "version", "enabled", "archived"}`` that the engine reloads on.

Deleting a rule **archives** it: it is disabled, hidden from the default list, and can no longer be
changed or enabled, but it and its versions stay readable, so alerts and incidents that name
``rule_id``/``rule_version`` keep valid references. A definition is checked beyond its schema before
it is stored: the ward codes must be shipped wards and a geometry must be a valid polygon in WGS 84.
The acting person is a :class:`saola.core.auth.service.Principal` or
:data:`saola.cases.actors.SYSTEM` (the demo, the CLI); :func:`saola.cases.actors.actor_name` names them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.cases.actors import actor_name
from saola.core.db import queue_event
from saola.feedback import geo
from saola.rules.alert_models import Alert
from saola.rules.definitions import Area, Composite, Geofence, RuleDefinition
from saola.rules.engine_models import RuleError
from saola.rules.errors import InvalidRule, RuleArchived, RuleNotFound, RuleVersionNotFound
from saola.rules.models import Rule, RuleVersion

log = logging.getLogger("saola.rules")
TOPIC = "rule.changed"


@dataclass(frozen=True)
class LoadedRule:
    """An enabled rule as the engine evaluates it: its id, the current version and its definition."""

    rule_id: int
    version: int
    definition: RuleDefinition


# --- checking definitions -----------------------------------------------------------------------


def _pydantic_errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        out.append({"field": loc or "definition", "message": message})
    return out


def parse_definition(data: Any) -> RuleDefinition:
    """A :class:`RuleDefinition` from JSON-like data, fully checked; :class:`InvalidRule` lists every problem."""
    try:
        definition = RuleDefinition.model_validate(data)
    except ValidationError as exc:
        raise InvalidRule(_pydantic_errors(exc)) from exc
    check_definition(definition)
    return definition


def _areas(definition: RuleDefinition) -> Iterator[tuple[str, Area]]:
    if definition.area is not None:
        yield "area", definition.area
    condition = definition.condition
    if isinstance(condition, Geofence):
        yield "condition.area", condition.area
    if isinstance(condition, Composite):
        for i, part in enumerate(condition.parts):
            if isinstance(part.condition, Geofence):
                yield f"condition.parts.{i}.condition.area", part.condition.area


def _geometry_problem(geometry: dict[str, Any]) -> str | None:
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several kinds for malformed coordinates
        return f"the geometry cannot be read: {exc}"
    if geom.is_empty:
        return "the geometry is empty"
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return "the coordinates are not longitude/latitude in WGS 84"
    if not geom.is_valid:
        from shapely.validation import explain_validity

        return f"the polygon is not valid: {explain_validity(geom)}"
    return None


def check_definition(definition: RuleDefinition) -> None:
    """What the schema cannot check: ward codes exist, geometries are valid polygons (:class:`InvalidRule`)."""
    errors: list[dict[str, str]] = []
    for where, area in _areas(definition):
        if area.ward_code is not None and geo.ward_by_code(area.ward_code) is None:
            errors.append({"field": f"{where}.ward_code",
                           "message": f"no ward or commune of the province has the code '{area.ward_code}'"})
        if area.geometry is not None:
            problem = _geometry_problem(area.geometry)
            if problem:
                errors.append({"field": f"{where}.geometry", "message": problem})
    if errors:
        raise InvalidRule(errors)


def _stored(definition: RuleDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json")


# --- use cases ------------------------------------------------------------------------------------


def _changed(session: Session, rule: Rule) -> None:
    queue_event(session, TOPIC, {"id": rule.id, "version": rule.current_version, "enabled": rule.enabled,
                                 "archived": rule.archived_at is not None})


def create_rule(session: Session, *, definition: RuleDefinition, actor: Any, enabled: bool = False,
                now: datetime) -> Rule:
    """Store a new rule as version 1 (disabled unless ``enabled``)."""
    check_definition(definition)
    who = actor_name(actor)
    stored = _stored(definition)
    rule = Rule(name=definition.name, enabled=enabled, current_version=1, definition=stored, created_at=now,
                created_by=who, modified_at=now, modified_by=who)
    session.add(rule)
    session.flush()
    session.add(RuleVersion(rule_id=rule.id, version=1, definition=stored, created_at=now, created_by=who))
    session.flush()
    _changed(session, rule)
    return rule


def get_rule(session: Session, *, rule_id: int, for_update: bool = False) -> Rule:
    """A rule, archived or not (:class:`RuleNotFound` if there never was one)."""
    stmt = select(Rule).where(Rule.id == rule_id)
    if for_update:
        stmt = stmt.with_for_update()
    rule = session.scalar(stmt)
    if rule is None:
        raise RuleNotFound("No rule has the id {rule_id}", rule_id=rule_id)
    return rule


def _live(session: Session, rule_id: int) -> Rule:
    rule = get_rule(session, rule_id=rule_id, for_update=True)
    if rule.archived_at is not None:
        raise RuleArchived("Rule {rule_id} was deleted; it can be read but not changed", rule_id=rule_id)
    return rule


def update_rule(session: Session, *, rule_id: int, definition: RuleDefinition, actor: Any, now: datetime) -> Rule:
    """Store ``definition`` as the rule's next version; an identical definition changes nothing."""
    rule = _live(session, rule_id)
    check_definition(definition)
    stored = _stored(definition)
    if stored == rule.definition:
        return rule
    who = actor_name(actor)
    version = rule.current_version + 1
    session.add(RuleVersion(rule_id=rule.id, version=version, definition=stored, created_at=now, created_by=who))
    rule.current_version = version
    rule.definition = stored
    rule.name = definition.name
    rule.modified_at = now
    rule.modified_by = who
    session.flush()
    _changed(session, rule)
    return rule


def set_enabled(session: Session, *, rule_id: int, enabled: bool, actor: Any, now: datetime) -> Rule:
    """Switch a rule on or off (no new version: the definition is unchanged); a no-op if already so."""
    rule = _live(session, rule_id)
    if rule.enabled == enabled:
        return rule
    rule.enabled = enabled
    rule.modified_at = now
    rule.modified_by = actor_name(actor)
    session.flush()
    _changed(session, rule)
    return rule


def delete_rule(session: Session, *, rule_id: int, actor: Any, now: datetime) -> Rule:
    """Archive a rule: disabled, out of the default list, read-only; its versions and references stay."""
    rule = _live(session, rule_id)
    rule.enabled = False
    rule.archived_at = now
    rule.modified_at = now
    rule.modified_by = actor_name(actor)
    session.flush()
    _changed(session, rule)
    return rule


def list_rules(session: Session, *, enabled: bool | None = None, archived: bool = False,
               kind: str | None = None, limit: int = 1000, offset: int = 0) -> list[Rule]:
    """Rules by id; archived ones only when ``archived`` (then only them)."""
    stmt = select(Rule).order_by(Rule.id)
    stmt = stmt.where(Rule.archived_at.is_not(None) if archived else Rule.archived_at.is_(None))
    if enabled is not None:
        stmt = stmt.where(Rule.enabled.is_(enabled))
    rules = list(session.scalars(stmt))
    if kind is not None:  # the kind lives in the JSON definition: filtered here, portable across databases
        rules = [r for r in rules if r.definition.get("condition", {}).get("kind") == kind]
    return rules[offset:offset + limit]


def versions(session: Session, *, rule_id: int) -> list[RuleVersion]:
    """Every version of a rule, newest first."""
    get_rule(session, rule_id=rule_id)
    stmt = select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version.desc())
    return list(session.scalars(stmt))


def get_version(session: Session, *, rule_id: int, version: int) -> RuleVersion:
    get_rule(session, rule_id=rule_id)
    found = session.get(RuleVersion, (rule_id, version))
    if found is None:
        raise RuleVersionNotFound("Rule {rule_id} has no version {version}", rule_id=rule_id, version=version)
    return found


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def diff(session: Session, *, rule_id: int, old: int, new: int) -> list[dict[str, Any]]:
    """What changed between two versions: ``{"field", "before", "after"}`` per changed leaf (lists whole)."""
    before = _flatten(get_version(session, rule_id=rule_id, version=old).definition)
    after = _flatten(get_version(session, rule_id=rule_id, version=new).definition)
    return [{"field": key, "before": before.get(key), "after": after.get(key)}
            for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)]


def last_fired(session: Session, *, rule_ids: Iterable[int]) -> dict[int, datetime]:
    """When each rule last raised or repeated an alert (rules that never fired are absent); one query."""
    ids = list(rule_ids)
    if not ids:
        return {}
    stmt = select(Alert.rule_id, func.max(Alert.last_seen_at)).where(Alert.rule_id.in_(ids)).group_by(Alert.rule_id)
    return {rule_id: at for rule_id, at in session.execute(stmt) if at is not None}


def error_counts(session: Session, *, rule_ids: Iterable[int]) -> dict[int, int]:
    """How many evaluation errors the engine recorded per rule (``rule_errors``, all subjects); one query."""
    ids = list(rule_ids)
    if not ids:
        return {}
    stmt = (select(RuleError.rule_id, func.sum(RuleError.count)).where(RuleError.rule_id.in_(ids))
            .group_by(RuleError.rule_id))
    return {rule_id: int(total or 0) for rule_id, total in session.execute(stmt)}


def enabled_rules(session: Session) -> list[LoadedRule]:
    """The enabled, not archived rules with their current definitions, for the engine.

    A stored definition that no longer validates (the schema changed under it) is skipped and logged
    as an error; it never stops the other rules from loading.
    """
    stmt = select(Rule.id, Rule.current_version, Rule.definition).where(
        Rule.enabled.is_(True), Rule.archived_at.is_(None)).order_by(Rule.id)
    loaded: list[LoadedRule] = []
    for rule_id, version, data in session.execute(stmt):
        try:
            loaded.append(LoadedRule(rule_id=rule_id, version=version, definition=RuleDefinition.model_validate(data)))
        except ValidationError as exc:
            log.error("rule %s version %s no longer validates and is not evaluated: %s", rule_id, version, exc)
    return loaded


# --- testing against history ------------------------------------------------------------------------

MAX_TEST_DAYS = 31


@dataclass(frozen=True)
class BacktestRun:
    """A backtest and the window it covered."""

    start: datetime
    end: datetime
    result: Any  # saola.rules.backtest.BacktestResult


def backtest_definition(session: Session, *, definition: RuleDefinition, days: int, now: datetime) -> BacktestRun:
    """Replay the last ``days`` days of history through ``definition`` (saved or not; nothing is stored)."""
    check_definition(definition)
    from saola.rules.backtest import backtest  # the engine's replay; imported here to keep the store loadable alone

    start = now - timedelta(days=days)
    return BacktestRun(start=start, end=now, result=backtest(session, definition=definition, start=start, end=now))
