"""The rule engine's pure core: which rules an event can affect, their evaluation, and the decisions.

:class:`Engine` holds the enabled rules (compiled by :mod:`saola.rules.engine_rules`) in an index by
``(tenant, entity type IRI, watched attribute IRI)`` and, inside it, by ward code, so that an
``ngsi.entity.*`` or ``device.*`` event only touches the rules it can change. For each rule it keeps one
:mod:`state <saola.rules.state>` per subject, and returns :class:`Decision` objects — ``raise``,
``update``, ``clear`` — for the worker to apply through :mod:`saola.rules.alerts`. It never touches
the database and never reads the clock: every call takes ``now``.

Common behaviour, the same for every condition kind: ``for_seconds`` (the condition must hold that
long), ``cooldown_seconds`` (no new alert that long after a clear), active windows (no new alert
outside them; an alert raised inside a window still clears normally) and ``clear_after_seconds``
(the condition must stay false that long before the alert clears). Those held back are *timers*:
:meth:`Engine.tick` looks at them again, and judges ``no_data`` rules. An evaluation error is recorded
per rule and subject (:attr:`Engine.errors`) and never stops the other rules.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from saola.context.representation import LOCATION
from saola.feedback.geo import ward_at
from saola.rules import state as states
from saola.rules.engine_rules import (
    DEVICE,
    NAME,
    REF_WARD,
    Compiled,
    Part,
    compile_rule,
    expand,
    in_windows,
    observed_seconds,
    title,
    value_of,
)
from saola.rules.engine_schedule import Schedule
from saola.rules.engine_silence import Silence
from saola.rules.engine_types import Counters, Decision, EntityInfo, ErrorRecord
from saola.rules.evaluators import EvaluationError, combine, point_of
from saola.rules.service import LoadedRule
from saola.rules.state import State

ANY = "*"  # index key of rules that watch every attribute (no_data without an attribute)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Engine(Schedule):
    """Incremental evaluation of the enabled rules; see the module docstring."""

    def __init__(self, *, update_every_seconds: float = 60.0) -> None:
        self.update_every = update_every_seconds
        self.rules: dict[int, Compiled] = {}
        self.index: dict[tuple[str, str, str], dict[str | None, list[tuple[Compiled, Part | None]]]] = {}
        self.by_type: dict[tuple[str, str], list[tuple[Compiled, Part | None]]] = defaultdict(list)
        self.states: dict[int, dict[str, State]] = defaultdict(dict)
        self.timers: set[tuple[int, str]] = set()
        self.silence = Silence()  # no_data: subjects in the order they were last heard from
        self.dirty: set[tuple[int, str]] = set()
        self.deleted: set[tuple[int, str]] = set()
        self.entities: dict[tuple[str, str], EntityInfo] = {}
        self.errors: dict[tuple[int, str], ErrorRecord] = {}
        self.unsaved_errors: dict[tuple[int, str], ErrorRecord] = {}  # counted since the last take_errors
        self.last_event_error = ""
        self.counters = Counters()

    # --- rules ------------------------------------------------------------------------------------

    def load(self, rules: list[LoadedRule], saved: dict[tuple[int, str], State] | None = None,
             *, now: datetime) -> list[Decision]:
        """Start from stored states; then :meth:`set_rules` (decisions: alerts of rules no longer enabled)."""
        for (rule_id, subject), st in (saved or {}).items():
            self.states[rule_id][subject] = states.from_storage(st)
        known = {rule.rule_id: rule for rule in rules}
        decisions: list[Decision] = []
        for rule_id in [r for r in self.states if r not in known]:  # disabled while we were stopped
            decisions += self._drop_rule(rule_id, None, now)
        decisions += self.set_rules(rules, now=now)
        for rule_id, subjects in self.states.items():
            self.timers.update((rule_id, s) for s, st in subjects.items() if states.is_pending(st))
        return decisions

    def set_rules(self, rules: list[LoadedRule], *, now: datetime) -> list[Decision]:
        """Replace the enabled rules; alerts of rules that are gone are cleared ("rule disabled")."""
        decisions: list[Decision] = []
        wanted = {rule.rule_id: rule for rule in rules}
        for rule_id, old in list(self.rules.items()):
            if rule_id not in wanted:
                decisions += self._drop_rule(rule_id, old, now)
        previous, self.rules = self.rules, {}
        for rule in rules:
            try:
                compiled = compile_rule(rule)
            except (EvaluationError, ValueError) as exc:
                self._error(rule.rule_id, "", f"the rule cannot be evaluated: {exc}", now.timestamp())
                continue
            self.rules[rule.rule_id] = compiled
        self._reset_kinds(now)
        self._build_index()
        self.silence.rebuild(self.rules, self.states)
        for info in self.entities.values():
            info.matches.clear()
        now_s = now.timestamp()
        for compiled in self.rules.values():  # a new version may no longer cover an entity with an open alert
            old = previous.get(compiled.rule_id)
            if old is None or old.version == compiled.version:
                continue
            for (tenant, eid), info in self.entities.items():
                if tenant == compiled.tenant and not self.passes(compiled, eid, info):
                    st = self.states.get(compiled.rule_id, {}).get(eid)
                    if st is not None and st.get("active"):
                        decisions.append(self._clear(compiled, eid, st, now_s, "outside the rule's area"))
        return decisions

    def _reset_kinds(self, now: datetime) -> None:
        for rule_id, compiled in self.rules.items():
            for subject, st in self.states.get(rule_id, {}).items():
                if st.get("kind") not in (None, compiled.signature):
                    self.states[rule_id][subject] = {**states.lifecycle_only(st), "kind": compiled.signature}
                    self.dirty.add((rule_id, subject))

    def _drop_rule(self, rule_id: int, old: Compiled | None, now: datetime) -> list[Decision]:
        decisions = []
        for subject, st in self.states.pop(rule_id, {}).items():
            self.deleted.add((rule_id, subject))
            self.dirty.discard((rule_id, subject))
            self.timers.discard((rule_id, subject))
            if st.get("active"):
                decisions.append(Decision("clear", rule_id, old.version if old else 0, old.tenant if old else "",
                                          subject, st.get("entity_type", ""), old.severity if old else "info",
                                          now, reason="rule disabled"))
        return decisions

    def _build_index(self) -> None:
        self.index = {}
        self.by_type = defaultdict(list)
        for compiled in self.rules.values():
            for part in compiled.parts or [None]:
                target = part or compiled
                attr = target.watch or ANY
                key = (compiled.tenant, target.type_iri, attr)
                self.index.setdefault(key, {}).setdefault(compiled.ward, []).append((compiled, part))
                self.by_type[(compiled.tenant, target.type_iri)].append((compiled, part))

    # --- events -----------------------------------------------------------------------------------

    def on_event(self, topic: str, payload: dict[str, Any], *, now: datetime) -> list[Decision]:
        """Evaluate the rules an ``ngsi.entity.*`` or ``device.*`` event can affect."""
        self.counters.events += 1
        if topic.startswith("device."):
            return self._on_device(topic, payload, now)
        if topic == "ngsi.entity.deleted":
            return self._on_deleted(payload, now)
        return self._on_entity(payload, now)

    def entity_info(self, tenant: str, eid: str, entity: dict[str, Any], changed: list[str]) -> EntityInfo:
        key = (tenant, eid)
        info = self.entities.get(key)
        if info is not None and LOCATION not in changed and REF_WARD not in changed and NAME not in changed:
            return info
        location = value_of(entity, LOCATION)
        point = None
        if isinstance(location, dict):
            try:
                point = point_of(location)
            except EvaluationError:
                point = None
        ward = value_of(entity, REF_WARD)
        if isinstance(ward, str) and ward:
            ward = ward.rsplit(":", 1)[-1]
        elif point is not None:
            found = ward_at(point.y, point.x)
            ward = found.code if found else None
        else:
            ward = None
        name = value_of(entity, NAME)
        info = EntityInfo(ward=ward, point=point, location=location if isinstance(location, dict) else None,
                          name=name[:200] if isinstance(name, str) and name else None)
        self.entities[key] = info
        return info

    def passes(self, compiled: Compiled, eid: str, info: EntityInfo) -> bool:
        found = info.matches.get(compiled.rule_id)
        if found is None:
            found = compiled.accepts(eid, info.ward, info.point)
            info.matches[compiled.rule_id] = found
        return found

    def _targets(self, tenant: str, types: list[str], attrs: list[str], ward: str | None):
        index = self.index
        for type_iri in types:
            for attr in attrs:
                bucket = index.get((tenant, type_iri, attr))
                if bucket is None:
                    continue
                found = bucket.get(None)
                if found:
                    yield from found
                if ward is not None:
                    found = bucket.get(ward)
                    if found:
                        yield from found

    def _on_entity(self, payload: dict[str, Any], now: datetime) -> list[Decision]:
        tenant = payload.get("tenant") or ""
        if not any((tenant, t) in self.by_type for t in payload.get("types") or ()):
            return []  # no rule watches this kind of entity: not even its place is worth working out
        eid = payload["id"]
        entity = payload.get("entity") or {}
        changed = list(payload.get("changed") or ())
        before = self.entities.get((tenant, eid))
        info = self.entity_info(tenant, eid, entity, changed)
        changed.append(ANY)
        decisions: list[Decision] = []
        now_s = now.timestamp()
        if before is not None and info is not before:  # it moved or changed ward: alerts of areas it left clear
            for type_iri in payload.get("types") or ():
                self._left(tenant, type_iri, eid, info, now_s, decisions)
        for compiled, part in self._targets(tenant, payload.get("types") or (), changed, info.ward):
            if not self.passes(compiled, eid, info):
                continue
            target = part or compiled
            value = value_of(entity, target.watch) if target.watch else None
            if value is None and target.watch:
                continue  # the attribute was removed: nothing to judge
            t = observed_seconds(entity, target.watch, now_s) if target.observed else now_s
            self._evaluate(compiled, part, eid, info, value, t, now_s, decisions)
        return decisions

    def _left(self, tenant: str, type_iri: str, eid: str, info: EntityInfo, now_s: float,
              decisions: list[Decision]) -> None:
        """Clear what an entity no longer covered by a rule (moved out of its area) still holds open."""
        for compiled, part in self.by_type.get((tenant, type_iri), ()):
            if self.passes(compiled, eid, info):
                continue
            if part is None:
                st = self.states.get(compiled.rule_id, {}).get(eid)
                if st is not None and st.get("active"):
                    decisions.append(self._clear(compiled, eid, st, now_s, "outside the rule's area"))
            else:
                self._member(compiled, part, eid, False, now_s, decisions)

    def _on_device(self, topic: str, payload: dict[str, Any], now: datetime) -> list[Decision]:
        if topic not in ("device.offline", "device.online") or not payload.get("entity_id"):
            return []
        tenant = payload.get("tenant") or ""
        eid = payload["entity_id"]
        info = self.entities.get((tenant, eid)) or EntityInfo(ward=None, point=None, location=None)
        decisions: list[Decision] = []
        now_s = now.timestamp()
        types = [expand(payload.get("entity_type") or "")]
        for compiled, part in self._targets(tenant, types, [DEVICE], info.ward):
            if self.passes(compiled, eid, info):
                self._evaluate(compiled, part, eid, info, topic == "device.offline", now_s, now_s, decisions)
        return decisions

    def _on_deleted(self, payload: dict[str, Any], now: datetime) -> list[Decision]:
        tenant = payload.get("tenant") or ""
        eid = payload["id"]
        self.entities.pop((tenant, eid), None)
        decisions: list[Decision] = []
        now_s = now.timestamp()
        for type_iri in payload.get("types") or ():
            for compiled, part in self.by_type.get((tenant, type_iri), ()):
                subjects = self.states.get(compiled.rule_id, {})
                if part is None:
                    st = subjects.pop(eid, None)
                    self._forget(compiled.rule_id, eid)
                    if st and st.get("active"):
                        decisions.append(self._decision(compiled, "clear", eid, st, now_s, reason="entity deleted"))
                elif subjects.pop(f"{eid}#{part.index}", None) is not None:
                    self._forget(compiled.rule_id, f"{eid}#{part.index}")
                    self._member(compiled, part, eid, False, now_s, decisions)
        return decisions

    def _forget(self, rule_id: int, subject: str) -> None:
        self.silence.forget(rule_id, subject)
        self.deleted.add((rule_id, subject))
        self.dirty.discard((rule_id, subject))
        self.timers.discard((rule_id, subject))

    # --- evaluation -------------------------------------------------------------------------------

    def _evaluate(self, compiled: Compiled, part: Part | None, eid: str, info: EntityInfo, value: Any, t: float,
                  now_s: float, decisions: list[Decision]) -> None:
        self.counters.evaluations += 1
        target = part or compiled
        rule_id = compiled.rule_id
        subject = eid if part is None else f"{eid}#{part.index}"
        subjects = self.states[rule_id]
        st = subjects.get(subject)
        fresh = st is None
        if st is None:
            st = {}
        try:
            holds = target.evaluate(st, value, t)  # type: ignore[misc]
        except EvaluationError as exc:
            self._error(rule_id, eid, str(exc), now_s)
            return
        except Exception as exc:  # a bug in an evaluator is shown as the rule's error, never stops the others
            self._error(rule_id, eid, f"{type(exc).__name__}: {exc}", now_s)
            return
        if target.silent_after is not None:
            self.silence.heard(rule_id, part.index if part else -1, subject, t)
        if part is not None:
            if st:  # the evaluator's memory (samples, last seen...)
                if fresh:
                    st["kind"] = compiled.signature
                    subjects[subject] = st
                self.dirty.add((rule_id, subject))
            self._member(compiled, part, eid, holds, now_s, decisions)
            return
        if fresh:
            if not st and not holds:
                return  # nothing to remember, nothing to decide: no state is kept
            st["kind"] = compiled.signature
            subjects[subject] = st
        if holds or st.get("active"):
            st["value"] = value
            st["entity_type"] = compiled.type_iri
            if info.location is not None:
                st["location"] = info.location
            if info.name is not None:
                st["name"] = info.name
        self.dirty.add((rule_id, subject))
        decision = self._judge(compiled, subject, st, holds, now_s)
        if decision is not None:
            decisions.append(decision)
        elif not holds:
            self._forget_if_idle(compiled, subject, st, now_s)

    def _forget_if_idle(self, compiled: Compiled, subject: str, st: State, now_s: float) -> None:
        cleared = st.get("cleared_at")
        if cleared is not None and now_s - cleared >= compiled.cooldown:
            del st["cleared_at"]
        if states.is_idle(st):
            self.states[compiled.rule_id].pop(subject, None)
            self._forget(compiled.rule_id, subject)

    def _member(self, compiled: Compiled, part: Part, eid: str, holds: bool, now_s: float,
                decisions: list[Decision]) -> None:
        subject = compiled.subject
        st = self.states[compiled.rule_id].setdefault(subject, {"kind": compiled.signature})
        members: list[set[str]] = st.setdefault("members", [set() for _ in compiled.parts])
        group = members[part.index]
        if (eid in group) == holds:
            return
        if holds:
            group.add(eid)
        else:
            group.discard(eid)
        counts = [len(g) for g in members]
        st["value"] = counts
        st["entity_type"] = compiled.type_iri
        st["location"] = compiled.location
        self.dirty.add((compiled.rule_id, subject))
        decision = self._judge(compiled, subject, st, combine(compiled.mode, counts, compiled.minimums), now_s)
        if decision is not None:
            decisions.append(decision)

    def _judge(self, compiled: Compiled, subject: str, st: State, holds: bool, now_s: float) -> Decision | None:
        """The common behaviour: for_seconds, cooldown, windows, clear_after; the decision if any."""
        st["cond"] = holds
        key = (compiled.rule_id, subject)
        if holds:
            st.pop("false_since", None)
            if st.get("active"):
                self.timers.discard(key)
                if now_s - st.get("updated_at", 0.0) >= self.update_every:
                    st["updated_at"] = now_s
                    return self._decision(compiled, "update", subject, st, now_s)
                return None
            st.setdefault("true_since", now_s)
            return self._try_raise(compiled, subject, st, now_s)
        st.pop("true_since", None)
        if not st.get("active"):
            self.timers.discard(key)
            return None
        if compiled.clear_after:
            since = st.setdefault("false_since", now_s)
            if now_s - since < compiled.clear_after:
                self.timers.add(key)
                return None
        return self._clear(compiled, subject, st, now_s, "condition no longer holds")

    def _try_raise(self, compiled: Compiled, subject: str, st: State, now_s: float) -> Decision | None:
        key = (compiled.rule_id, subject)
        cleared = st.get("cleared_at")
        if (now_s - st["true_since"] < compiled.for_seconds
                or (cleared is not None and now_s - cleared < compiled.cooldown)
                or (compiled.windows and not in_windows(compiled.windows, now_s))):
            self.timers.add(key)
            return None
        self.timers.discard(key)
        st.pop("true_since", None)
        st["active"] = True
        st["raised_at"] = st["updated_at"] = now_s
        self.dirty.add(key)
        return self._decision(compiled, "raise", subject, st, now_s)

    def _clear(self, compiled: Compiled, subject: str, st: State, now_s: float, reason: str) -> Decision:
        for name in ("active", "false_since", "raised_at", "updated_at"):
            st.pop(name, None)
        st["cleared_at"] = now_s
        self.timers.discard((compiled.rule_id, subject))
        self.dirty.add((compiled.rule_id, subject))
        return self._decision(compiled, "clear", subject, st, now_s, reason=reason)

    def _decision(self, compiled: Compiled, action: str, subject: str, st: State, now_s: float,
                  reason: str = "") -> Decision:
        self.counters.decisions += 1
        value = st.get("value")
        details = {"rule": compiled.name, "condition": compiled.kind, "attribute": compiled.attribute_term}
        for extra in ("rate", "score"):
            if extra in st:
                details[extra] = st[extra]
        title_vi, title_en = title(compiled, subject, value, st.get("name"))
        return Decision(action, compiled.rule_id, compiled.version, compiled.tenant, subject,
                        st.get("entity_type") or compiled.type_iri, compiled.severity, _utc(now_s), value,
                        title_vi, title_en, details, st.get("location"), compiled.owner_agency,
                        compiled.incident_type, reason)

    def _error(self, rule_id: int, subject: str, message: str, now_s: float) -> None:
        self.counters.errors += 1
        key = (rule_id, subject)
        for records in (self.errors, self.unsaved_errors):
            record = records.get(key)
            if record is None:
                records[key] = ErrorRecord(message[:1000], _utc(now_s))
            else:
                record.message, record.at, record.count = message[:1000], _utc(now_s), record.count + 1

    # --- checkpoints ------------------------------------------------------------------------------

    def take_dirty(self) -> tuple[dict[tuple[int, str], dict[str, Any]], set[tuple[int, str]]]:
        """The states changed since the last call (as storable JSON) and the ones to delete."""
        changed = {}
        for rule_id, subject in self.dirty:
            st = self.states.get(rule_id, {}).get(subject)
            if st is not None:
                changed[(rule_id, subject)] = states.for_storage(st)
        deleted = set(self.deleted)
        self.dirty.clear()
        self.deleted.clear()
        return changed, deleted

    def take_errors(self) -> dict[tuple[int, str], ErrorRecord]:
        """The errors since the last call (their counts are the new occurrences)."""
        taken, self.unsaved_errors = self.unsaved_errors, {}
        return taken

    def restore_error(self, key: tuple[int, str], record: ErrorRecord) -> None:
        """Give back errors that could not be saved (counted again at the next save)."""
        mine = self.unsaved_errors.get(key)
        if mine is None:
            self.unsaved_errors[key] = record
        else:
            mine.count += record.count

    def subjects(self, rule_id: int) -> dict[str, State]:
        return self.states.get(rule_id, {})
