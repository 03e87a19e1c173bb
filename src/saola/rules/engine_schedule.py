"""The rule engine's clock: :meth:`Schedule.tick` judges running timers and silent ``no_data`` subjects.

A mixin of :class:`saola.rules.engine.Engine` (it uses the engine's rules, states, timers and
:class:`~saola.rules.engine_silence.Silence`); kept apart so that each module stays small.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from saola.context.representation import LOCATION
from saola.rules.engine_types import Decision

if TYPE_CHECKING:
    from saola.rules.engine import Engine


class Schedule:
    def tick(self: Engine, *, now: datetime) -> list[Decision]:
        """Timers (for_seconds, cooldown, windows, clear_after) and ``no_data`` rules, judged at ``now``."""
        now_s = now.timestamp()
        decisions: list[Decision] = []
        for rule_id, index, subject in self.silence.due(now_s, self._after):
            compiled = self.rules.get(rule_id)
            st = self.states.get(rule_id, {}).get(subject)
            if compiled is None or st is None:
                continue
            self.counters.evaluations += 1
            self.dirty.add((rule_id, subject))
            if index >= 0:
                self._member(compiled, compiled.parts[index], subject.rsplit("#", 1)[0], True, now_s, decisions)
                continue
            decision = self._judge(compiled, subject, st, True, now_s)
            if decision is not None:
                decisions.append(decision)
        for rule_id, subject in list(self.timers):
            compiled = self.rules.get(rule_id)
            st = self.states.get(rule_id, {}).get(subject)
            if compiled is None or st is None:
                self.timers.discard((rule_id, subject))
                continue
            decision = self._judge(compiled, subject, st, bool(st.get("cond")), now_s)
            if decision is not None:
                decisions.append(decision)
        return decisions

    def _after(self: Engine, rule_id: int, index: int) -> float | None:
        compiled = self.rules.get(rule_id)
        if compiled is None:
            return None
        return (compiled.parts[index] if index >= 0 else compiled).silent_after

    def seed_seen(self: Engine, rule_id: int, by_type: dict[str, dict[str, tuple[float, dict[str, Any]]]]) -> None:
        """Entities a ``no_data`` rule has not heard from since the engine started: when each was last
        updated (and its stored form, for the id pattern and area filters), by type IRI."""
        compiled = self.rules.get(rule_id)
        if compiled is None:
            return
        subjects = self.states[rule_id]
        for part in compiled.no_data_targets:
            type_iri = (part or compiled).type_iri
            for eid, (seen, entity) in by_type.get(type_iri, {}).items():
                subject = eid if part is None else f"{eid}#{part.index}"
                if subject in subjects:
                    continue
                info = self.entity_info(compiled.tenant, eid, entity, [LOCATION])
                if self.passes(compiled, eid, info):
                    subjects[subject] = {"kind": compiled.signature, "seen": seen, "entity_type": type_iri,
                                         **({"location": info.location} if info.location else {})}
                    self.dirty.add((rule_id, subject))
        self.silence.rebuild(self.rules, self.states)

