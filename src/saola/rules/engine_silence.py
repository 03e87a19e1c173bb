"""Which subjects of ``no_data`` rules have gone silent: kept in the order they were last heard from.

For each ``no_data`` condition (a rule, or one part of a composite rule) an ordered dict holds the
subjects not yet judged silent, the least recently heard first; hearing from a subject moves it to the
end. :meth:`Silence.due` therefore only walks the subjects that are due, however many there are,
and takes them out (they come back when a value arrives). Rebuilt from the states when rules change.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from saola.rules.state import State


class Silence:
    def __init__(self) -> None:
        self.orders: dict[int, dict[int, OrderedDict[str, float]]] = {}  # rule id → part (-1: the rule) → order

    def heard(self, rule_id: int, index: int, subject: str, t: float) -> None:
        parts = self.orders.setdefault(rule_id, {})
        order = parts.get(index)
        if order is None:
            order = parts[index] = OrderedDict()
        order[subject] = t
        order.move_to_end(subject)

    def forget(self, rule_id: int, subject: str) -> None:
        for order in self.orders.get(rule_id, {}).values():
            order.pop(subject, None)

    def due(self, now_s: float, after_of: Callable[[int, int], float | None]) -> list[tuple[int, int, str]]:
        """``(rule id, part index, subject)`` of the subjects silent for their rule's ``after_seconds``."""
        out = []
        for rule_id, parts in list(self.orders.items()):
            for index, order in list(parts.items()):
                after = after_of(rule_id, index)
                if after is None:
                    del parts[index]
                    continue
                while order:
                    subject, seen = next(iter(order.items()))
                    if now_s - seen < after:
                        break
                    order.popitem(last=False)
                    out.append((rule_id, index, subject))
        return out

    def rebuild(self, rules: dict[int, Any], states: dict[int, dict[str, State]]) -> None:
        """The orders from the states (after a load or a change of rules)."""
        self.orders = {}
        for rule_id, compiled in rules.items():
            for part in compiled.no_data_targets:
                index = -1 if part is None else part.index
                area = states.get(rule_id, {}).get(compiled.subject) if part is not None else None
                members = area["members"][index] if area and "members" in area else set()
                waiting = []
                for subject, st in states.get(rule_id, {}).items():
                    seen = st.get("seen")
                    if seen is None:
                        continue
                    if part is None:
                        if subject.startswith("area:") or st.get("cond"):
                            continue
                    elif not subject.endswith(f"#{index}") or subject.rsplit("#", 1)[0] in members:
                        continue
                    waiting.append((seen, subject))
                waiting.sort()
                self.orders.setdefault(rule_id, {})[index] = OrderedDict((s, t) for t, s in waiting)
