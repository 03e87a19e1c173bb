"""Evaluating a parsed q on the stored entity form, and the SQL pre-filter hints.

See :mod:`saola.context.query_language` for the semantics.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from saola.context.q_syntax import (
    _NAME,
    CORE_MEMBERS,
    ENTITY_TIMESTAMPS,
    NOT_ATTRIBUTES,
    And,
    AttrPath,
    Comparison,
    Exists,
    Expand,
    NotExists,
    Or,
    Pattern,
    Predicate,
    QueryNode,
    Range,
    Scalar,
    Value,
    ValueList,
    parse_temporal,
)
from saola.context.representation import VALUE_MEMBER, StoredEntity

# --- evaluation ---------------------------------------------------------------------------------

_MISSING = object()
_ORDER = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
# (value, is_relationship, is_vocab)
_Target = tuple[Any, bool, bool]


def _as_list(x: Any) -> list[Any]:
    if isinstance(x, list):
        return x
    return [x] if isinstance(x, dict) else []


def _unwrap(x: Any) -> Any:
    return x["@value"] if isinstance(x, dict) and "@value" in x else x


def _elements(value: Any) -> list[Any]:
    value = _unwrap(value)
    return [_unwrap(x) for x in value] if isinstance(value, list) else [value]


def _navigate(value: Any, members: Iterable[str]) -> Any:
    for m in members:
        value = _unwrap(value)
        if isinstance(value, dict) and m in value:
            value = value[m]
        elif isinstance(value, list) and re.fullmatch(r"[0-9]{1,9}", m) and int(m) < len(value):
            value = value[int(m)]
        else:
            return _MISSING
    return value


def _instance_targets(inst: dict[str, Any], members: tuple[str, ...]) -> list[_Target]:
    kind = inst.get("type", "Property")
    kind = kind if isinstance(kind, str) else "Property"
    if kind == "LanguageProperty":
        lmap = inst.get("languageMap")
        if not isinstance(lmap, dict):
            return []
        if not members:
            strings: list[Any] = []
            for v in lmap.values():
                strings.extend(v if isinstance(v, list) else [v])
            return [(strings, False, False)]
        if len(members) > 1:
            return []
        tag = members[0].lower()
        return [(v, False, False) for k, v in lmap.items() if isinstance(k, str) and k.lower() == tag]
    key = VALUE_MEMBER.get(kind, "value")
    if key not in inst:
        return []
    value = inst[key]
    relationship = kind in ("Relationship", "ListRelationship")
    if kind == "ListRelationship" and isinstance(value, list):
        value = [x.get("object") if isinstance(x, dict) else x for x in value]
    if members and (relationship or (value := _navigate(value, members)) is _MISSING):
        return []
    return [(value, relationship, kind == "VocabProperty")]


class _Path:
    """An attribute path with its terms expanded once."""

    def __init__(self, path: AttrPath, expand: Expand) -> None:
        self.members = path.members
        self.void = False
        self.entity_member: str | None = None
        self.attr = ""
        self.steps: list[tuple[bool, str]] = []
        first, rest = path.names[0], path.names[1:]
        if first in NOT_ATTRIBUTES:
            self.void = True
        elif first in ENTITY_TIMESTAMPS and not rest:
            self.entity_member = first
        else:
            self.attr = expand(first)
            for n, name in enumerate(rest):
                core = name in CORE_MEMBERS
                self.void |= core and n != len(rest) - 1
                self.steps.append((core, name if core else expand(name)))

    def _nodes(self, entity: StoredEntity) -> tuple[list[Any], bool]:
        """The addressed attribute instances (True) or core member values (False)."""
        if self.void:
            return [], False
        if self.entity_member:
            return ([entity[self.entity_member]] if entity.get(self.entity_member) is not None else []), False
        nodes = _as_list(entity.get(self.attr))
        for core, key in self.steps:
            if core:
                return [n[key] for n in nodes if isinstance(n, dict) and key in n], False
            nodes = [sub for n in nodes if isinstance(n, dict) for sub in _as_list(n.get(key))]
        return [n for n in nodes if isinstance(n, dict)], True

    def targets(self, entity: StoredEntity) -> list[_Target]:
        nodes, instances = self._nodes(entity)
        if instances:
            return [t for inst in nodes for t in _instance_targets(inst, self.members)]
        return [] if self.members else [(v, False, False) for v in nodes]

    def exists(self, entity: StoredEntity) -> bool:
        return bool(self.targets(entity)) if self.members else bool(self._nodes(entity)[0])


def _coerce(kind: str, x: Any) -> Any:
    if kind == "number":
        return x if isinstance(x, (int, float)) and not isinstance(x, bool) else _MISSING
    if kind in ("string", "uri"):
        return x if isinstance(x, str) else _MISSING
    if kind == "boolean":
        return x if isinstance(x, bool) else _MISSING
    instant = parse_temporal(kind, x) if isinstance(x, str) else None
    return _MISSING if instant is None else instant


def _vocab_alternatives(value: Value, expand: Expand) -> dict[str, str]:
    """Expansions of the term-like string literals, for VocabProperty targets."""
    items = value.items if isinstance(value, ValueList) else (value,) if isinstance(value, Scalar) else ()
    return {
        s.value: expand(s.value)
        for s in items
        if s.kind in ("string", "uri") and _NAME.fullmatch(s.value)
    }


def _compile_test(op: str, value: Value, expand: Expand) -> Callable[[_Target], bool]:
    alternatives = _vocab_alternatives(value, expand) if op in ("==", "!=") else {}

    def scalar_eq(x: Any, s: Scalar, vocab: bool) -> bool | None:
        c = _coerce(s.kind, x)
        if c is _MISSING:
            return None
        return c == s.value or (vocab and alternatives.get(s.value, _MISSING) == c)

    def equal(x: Any, vocab: bool) -> bool | None:
        if isinstance(value, Range):
            c = _coerce(value.low.kind, x)
            return None if c is _MISSING else value.low.value <= c <= value.high.value
        items = value.items if isinstance(value, ValueList) else (value,)
        results = [scalar_eq(x, s, vocab) for s in items]  # type: ignore[arg-type]
        return True if True in results else None if all(r is None for r in results) else False

    def test(target: _Target) -> bool:
        raw, relationship, vocab = target
        elements = _elements(raw)
        if relationship and op not in ("==", "!="):
            return False
        if op == "==":
            return any(equal(x, vocab) is True for x in elements)
        if op == "!=":
            results = [r for r in (equal(x, vocab) for x in elements) if r is not None]
            return bool(results) and not any(results)
        if isinstance(value, Pattern):
            strings = [x for x in elements if isinstance(x, str)]
            found = any(value.regex.search(x) for x in strings)
            return found if op == "~=" else bool(strings) and not found
        assert isinstance(value, Scalar)
        compare = _ORDER[op]
        return any((c := _coerce(value.kind, x)) is not _MISSING and compare(c, value.value) for x in elements)

    return test


def compile_q(node: QueryNode, expand: Expand) -> Predicate:
    """A predicate over stored entities; terms are expanded once, here."""
    if isinstance(node, (And, Or)):
        preds = [compile_q(c, expand) for c in node.children]
        if isinstance(node, And):
            return lambda entity: all(p(entity) for p in preds)
        return lambda entity: any(p(entity) for p in preds)
    path = _Path(node.path, expand)
    if isinstance(node, Exists):
        return path.exists
    if isinstance(node, NotExists):
        return lambda entity: not path.exists(entity)
    test = _compile_test(node.op, node.value, expand)
    return lambda entity: any(test(t) for t in path.targets(entity))


def evaluate(node: QueryNode, entity: StoredEntity, expand: Expand) -> bool:
    """Whether the stored ``entity`` matches ``node``. Prefer :func:`compile_q` for many entities."""
    return compile_q(node, expand)(entity)


# --- SQL pre-filter hints ---------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    """A necessary condition on one top-level attribute, for the storage layer's SQL.

    ``op`` is ``exists`` (``value`` None), ``==`` / ``>`` / ``>=`` / ``<`` / ``<=`` (a number; ``==``
    also a string or boolean), ``in`` (a tuple of numbers/strings/booleans) or ``range`` (a
    ``(low, high)`` pair of numbers, inclusive). :func:`hint_matches` is the definition: the
    entity has an instance of ``attr_iri`` one of whose *candidates* satisfies it. The candidates
    of an instance are the elements of its value member (one array level flattened, ``@value``
    unwrapped; a LanguageProperty's languageMap strings, a ListRelationship's objects). Numbers
    compare numerically, never with JSON booleans; strings compare exactly.
    """

    attr_iri: str
    op: str
    value: Any = None


def sql_hints(node: QueryNode, expand: Expand) -> list[Hint]:
    """Conditions every entity matching ``node`` satisfies (a superset filter; may be empty).

    The storage layer may AND them into its SQL to fetch candidates, and must then still apply
    :func:`evaluate`/:func:`compile_q` to each candidate: hints are necessary, never sufficient.
    """
    return sorted(_hints(node, expand), key=repr)


def _hints(node: QueryNode, expand: Expand) -> set[Hint]:
    if isinstance(node, And):
        return set().union(*(_hints(c, expand) for c in node.children))
    if isinstance(node, Or):
        sets = [_hints(c, expand) for c in node.children]
        return set.intersection(*sets)
    if isinstance(node, NotExists):
        return set()
    first = node.path.names[0]
    if first in NOT_ATTRIBUTES or first in ENTITY_TIMESTAMPS:
        return set()
    attr = expand(first)
    hints = {Hint(attr, "exists")}
    if isinstance(node, Comparison) and len(node.path.names) == 1 and not node.path.members:
        hints |= _value_hints(attr, node.op, node.value, expand)
    return hints


def _value_hints(attr: str, op: str, value: Value, expand: Expand) -> set[Hint]:
    if isinstance(value, Range):
        ok = op == "==" and value.low.kind == "number"
        return {Hint(attr, "range", (value.low.value, value.high.value))} if ok else set()
    if isinstance(value, Pattern) or op == "!=":
        return set()
    items = value.items if isinstance(value, ValueList) else (value,)
    if isinstance(value, Scalar) and value.kind == "number":
        return {Hint(attr, op, value.value)}
    if op != "==" or any(s.kind not in ("number", "string", "uri", "boolean") for s in items):
        return set()
    alternatives = _vocab_alternatives(value, expand)
    wanted: list[Any] = []
    for s in items:
        for v in (s.value, alternatives.get(s.value, s.value)):
            if not any(_same(v, w) and type(v) is type(w) for w in wanted):
                wanted.append(v)
    return {Hint(attr, "==", wanted[0]) if len(wanted) == 1 else Hint(attr, "in", tuple(wanted))}


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _same(x: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(x, bool):
        return isinstance(x, bool) and isinstance(wanted, bool) and x == wanted
    if _is_number(wanted):
        return _is_number(x) and x == wanted
    return isinstance(x, str) and x == wanted


def hint_candidates(instance: dict[str, Any]) -> list[Any]:
    """The values of one attribute instance that value hints test (index these to serve hints)."""
    return [x for target in _instance_targets(instance, ()) for x in _elements(target[0])]


def hint_matches(hint: Hint, entity: StoredEntity) -> bool:
    """The reference meaning of a :class:`Hint` (what the storage layer's SQL must not be stricter than)."""
    instances = [i for i in _as_list(entity.get(hint.attr_iri)) if isinstance(i, dict)]
    if hint.op == "exists":
        return bool(instances)
    candidates = [x for inst in instances for x in hint_candidates(inst)]
    if hint.op == "in":
        return any(_same(x, w) for x in candidates for w in hint.value)
    if hint.op == "==":
        return any(_same(x, hint.value) for x in candidates)
    if hint.op == "range":
        low, high = hint.value
        return any(_is_number(x) and low <= x <= high for x in candidates)
    return any(_is_number(x) and _ORDER[hint.op](x, hint.value) for x in candidates)

