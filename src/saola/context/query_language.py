"""The NGSI-LD Query Language ``q`` (ETSI GS CIM 009 V1.8.1 clause 4.9) and ``scopeQ`` (clause 4.19).

Pure functions over the stored entity form (:mod:`saola.context.representation`); no I/O.

Public API::

    parse_q(text) -> QueryNode                       # BadRequestData on anything the grammar rejects
    to_text(node) -> str                             # canonical q text; parse_q(to_text(n)) == n
    compile_q(node, expand) -> (StoredEntity) -> bool
    evaluate(node, entity, expand) -> bool
    sql_hints(node, expand) -> list[Hint]            # sound pre-filter for the storage layer
    hint_matches(hint, entity) -> bool               # executable definition of a Hint
    hint_candidates(instance) -> list                # the values of an instance that value hints test
    parse_scope_q(text) -> ScopeNode;  evaluate_scope(node, scopes) -> bool;  scope_to_text(node)

``expand`` maps a term of the request's @context to its IRI. The parser keeps attribute names
raw; :func:`compile_q` expands each path segment once. Core member names (``observedAt``,
``unitCode``, ``createdAt``, ``modifiedAt``, ``deletedAt``, ``datasetId``, ``instanceId``,
``objectType``) are never expanded.

Grammar (clause 4.9, with the nesting every broker accepts)::

    query   = and *("|" and)                 ; ";" binds tighter than "|"
    and     = term *(";" term)
    term    = "(" query ")" / "!" path / path [op value]
    path    = name *("." name) *("[" member "]")      ; name = 1*\\w [":" 1*\\w]
    op      = "==" / "!=" / ">=" / ">" / "<=" / "<" / "~=" / "!~="
    value   = scalar / scalar ".." scalar / scalar 1*("," scalar) ; lists/ranges only with == and !=
    scalar  = number / "quoted" / true / false / dateTime / date / time / URI

Semantics on the stored form (the points where the spec leaves room are decided here):

* The target of ``attr`` is the value member of each instance (``value``, ``object``,
  ``languageMap`` strings, ``vocab``, ``valueList``, ``objectList`` objects, ``json``); a term
  matches if ANY instance (any ``datasetId``) matches. An array target matches ``==``, ranges,
  lists, ordering and ``~=`` if ANY element does; ``!=`` and ``!~=`` need comparable elements
  and NONE equal/matching. ``{"@value": x}`` values are unwrapped.
* Comparisons are type-aware: numbers with numbers (never booleans), strings and URIs with
  strings (a quoted string matches a Relationship object), dateTime/date/time literals with
  strings of that form compared as instants. Mismatched types never match, for every operator.
  A missing target never matches, so ``!=`` on a missing attribute is false; use ``!attr``.
* Relationships match only ``==`` and ``!=`` (clause 4.9). VocabProperty values match the
  literal or its expansion with ``expand``. ``attr[x]`` selects language ``x`` of a
  LanguageProperty (case-insensitive), otherwise member ``x`` of a JSON value (ECMAScript member
  access; a decimal member indexes an array); members are JSON keys and are not expanded.
* ``attr.sub`` follows sub-attributes (expanded) or ends on a core member. Bare ``createdAt``,
  ``modifiedAt`` and ``deletedAt`` are the entity's system timestamps. ``id``, ``type`` and
  ``scope`` are not attributes (use the ``id``/``type``/``scopeQ`` parameters): terms on them
  never match.
* ``~=`` uses Python ``re.search``; an unquoted pattern runs to the next ``;``/``|``/``)`` outside
  its own parentheses, a quoted one may contain anything. Patterns are compiled at parse time.
* A dateTime without an offset is UTC; an offset spelled with a space (an unencoded ``+`` in a
  URL) is read as ``+``.

Why hand-written: the lexing is context-dependent (``.`` is a path separator in
``speed.observedAt``, a decimal point in ``0.3`` and half of ``50..80``; ``|`` ends a term but
belongs to an unquoted pattern ``(?i)(a|b)``), which a generator library would need a custom
lexer for anyway; a small recursive-descent parser keeps the "only BadRequestData, with a
position" guarantee easy to check.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NoReturn

from saola.context.errors import BadRequestData
from saola.context.representation import VALUE_MEMBER, StoredEntity

Expand = Callable[[str], str]
Predicate = Callable[[StoredEntity], bool]

COMPARABLE_KINDS = frozenset({"number", "string", "dateTime", "date", "time"})
CORE_MEMBERS = frozenset({
    "observedAt", "unitCode", "createdAt", "modifiedAt", "deletedAt", "datasetId", "instanceId", "objectType",
})
ENTITY_TIMESTAMPS = frozenset({"createdAt", "modifiedAt", "deletedAt"})
NOT_ATTRIBUTES = frozenset({"id", "type", "scope", "@id", "@type", "@context"})
MAX_NESTING = 64

# --- AST -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """A literal. ``kind`` is number, string, boolean, uri, dateTime, date or time.

    Temporal values are held as comparable integers (dateTime: proleptic Gregorian ordinal day
    x 86 400 000 000 + microseconds of the UTC day; date: the ordinal day; time: microseconds
    since UTC midnight), and ``text`` keeps their source spelling.
    """

    kind: str
    value: Any
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class Range:
    low: Scalar
    high: Scalar


@dataclass(frozen=True)
class ValueList:
    items: tuple[Scalar, ...]


@dataclass(frozen=True)
class Pattern:
    source: str
    regex: re.Pattern[str] = field(compare=False, repr=False)


Value = Scalar | Range | ValueList | Pattern


@dataclass(frozen=True)
class AttrPath:
    names: tuple[str, ...]
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exists:
    path: AttrPath


@dataclass(frozen=True)
class NotExists:
    path: AttrPath


@dataclass(frozen=True)
class Comparison:
    path: AttrPath
    op: str
    value: Value


@dataclass(frozen=True)
class And:
    children: tuple[QueryNode, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[QueryNode, ...]


QueryNode = And | Or | Exists | NotExists | Comparison

# --- lexical pieces ----------------------------------------------------------------------------

_END = r"(?=$|[;|),]|\.\.)"
_OFFSET = r"(Z|[+\- ]\d{2}(?::?\d{2})?)"
_CLOCK = r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
_DATETIME = re.compile(rf"(\d{{4}})-(\d{{2}})-(\d{{2}})T{_CLOCK}{_OFFSET}?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(rf"{_CLOCK}{_OFFSET}?")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_BOOLEAN = re.compile(r"true|false")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"();|,\[\]]+")
_NAME = re.compile(r"\w+(?::\w+)?")
_MEMBER = re.compile(r"\[([^\[\]]+)\]")
_OPERATORS = ("==", "!=", "!~=", "~=", ">=", "<=", ">", "<")
_DAY_US = 86_400_000_000


def _micros(groups: tuple[str | None, ...]) -> int:
    hh, mm, ss, frac, offset = groups
    hours, minutes, seconds = int(hh or 0), int(mm or 0), int(ss or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError("time out of range")
    micros = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + int((frac or "0").ljust(6, "0")[:6])
    if offset and offset != "Z":
        off_h, off_m = int(offset[1:3]), int(offset[3:].lstrip(":") or 0)
        if off_h > 23 or off_m > 59:
            raise ValueError("offset out of range")
        micros -= (1 if offset[0] in "+ " else -1) * (off_h * 60 + off_m) * 60_000_000
    return micros


def parse_temporal(kind: str, text: str) -> int | None:
    """The comparable integer of a dateTime/date/time string, or None if it is not one."""
    try:
        if kind == "dateTime" and (m := _DATETIME.fullmatch(text)):
            day = date(int(m[1]), int(m[2]), int(m[3])).toordinal()
            return day * _DAY_US + _micros(m.groups()[3:])
        if kind == "date" and (m := _DATE.fullmatch(text)):
            return date(int(m[1]), int(m[2]), int(m[3])).toordinal()
        if kind == "time" and (m := _TIME.fullmatch(text)):
            return _micros(m.groups()) % _DAY_US
    except ValueError:
        return None
    return None


# --- parser --------------------------------------------------------------------------------------


def parse_q(text: str) -> QueryNode:
    """Parse a (URL-decoded) q string; raise BadRequestData, saying where, on any error."""
    if not isinstance(text, str) or not text:
        raise BadRequestData("Invalid q: the query is empty")
    try:
        return _QParser(text).parse()
    except BadRequestData:
        raise
    except Exception as exc:  # a bug must still surface as a 400, never a 500
        raise BadRequestData(f"Invalid q: {text!r} could not be parsed") from exc


def _flat(cls: type[And] | type[Or], children: list[QueryNode]) -> QueryNode:
    if len(children) == 1:
        return children[0]
    flat: list[QueryNode] = []
    for child in children:
        flat.extend(child.children if isinstance(child, cls) else (child,))
    return cls(tuple(flat))


class _QParser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.depth = 0

    def fail(self, message: str, at: int | None = None) -> NoReturn:
        raise BadRequestData(f"Invalid q at character {(self.i if at is None else at) + 1}: {message}")

    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def parse(self) -> QueryNode:
        node = self.disjunction()
        if self.i < len(self.s):
            self.fail("unbalanced ')'" if self.peek() == ")" else f"unexpected {self.peek()!r}, expected ';' or '|'")
        return node

    def disjunction(self) -> QueryNode:
        children = [self.conjunction()]
        while self.peek() == "|":
            self.i += 1
            children.append(self.conjunction())
        return _flat(Or, children)

    def conjunction(self) -> QueryNode:
        children = [self.term()]
        while self.peek() == ";":
            self.i += 1
            children.append(self.term())
        return _flat(And, children)

    def term(self) -> QueryNode:
        c = self.peek()
        if not c:
            self.fail("the query ends where a term is expected (dangling operator?)")
        if c == "(":
            start = self.i
            self.depth += 1
            if self.depth > MAX_NESTING:
                self.fail(f"parentheses nested deeper than {MAX_NESTING}")
            self.i += 1
            node = self.disjunction()
            if self.peek() != ")":
                self.fail(f"missing ')' for the '(' at character {start + 1}")
            self.i += 1
            self.depth -= 1
            return node
        if c == "!" and self.peek(2) not in ("!=", "!~"):
            self.i += 1
            path = self.path()
            if self.peek() and self.peek() in "=!<>~":
                self.fail("'!attribute' tests absence and takes no comparison")
            return NotExists(path)
        path = self.path()
        op = self.operator()
        if op is None:
            return Exists(path)
        value = self.pattern() if op in ("~=", "!~=") else self.value(op)
        if self.peek() not in ("", ";", "|", ")"):
            self.fail(f"unexpected {self.peek()!r} after the value")
        return Comparison(path, op, value)

    def path(self) -> AttrPath:
        names: list[str] = []
        while True:
            m = _NAME.match(self.s, self.i)
            if not m:
                found = repr(self.peek()) if self.peek() else "the end of the query"
                self.fail(f"expected an attribute name, found {found}")
            names.append(m[0])
            self.i = m.end()
            if self.peek() != ".":
                break
            self.i += 1
        members: list[str] = []
        while self.peek() == "[":
            m = _MEMBER.match(self.s, self.i)
            if not m:
                self.fail("unclosed or empty '[...]' in the attribute path")
            members.append(m[1])
            self.i = m.end()
        if self.peek() in (".", "["):
            self.fail("'.name' cannot follow '[member]' in an attribute path")
        return AttrPath(tuple(names), tuple(members))

    def operator(self) -> str | None:
        for op in _OPERATORS:
            if self.s.startswith(op, self.i):
                self.i += len(op)
                return op
        if self.peek() and self.peek() in "=!<>~":
            self.fail(f"unknown operator starting with {self.peek()!r}")
        return None

    def value(self, op: str) -> Value:
        start = self.i
        first = self.scalar()
        if self.peek(2) == "..":
            self.i += 2
            if not self.peek() or self.peek() in ";|),":
                self.fail("a range needs an upper bound after '..'")
            high = self.scalar()
            if first.kind not in COMPARABLE_KINDS or high.kind != first.kind:
                self.fail("range bounds must be two numbers, strings, dates, times or dateTimes of one kind", start)
            value: Value = Range(first, high)
        elif self.peek() == ",":
            items = [first]
            while self.peek() == ",":
                self.i += 1
                items.append(self.scalar())
            value = ValueList(tuple(items))
        else:
            value = first
        if op not in ("==", "!=") and not (isinstance(value, Scalar) and value.kind in COMPARABLE_KINDS):
            self.fail(f"'{op}' needs one number, quoted string, date, time or dateTime", start)
        return value

    def scalar(self) -> Scalar:
        start = self.i
        if self.peek() == '"':
            return Scalar("string", self.quoted())
        for kind, regex in (("dateTime", _DATETIME), ("date", _DATE), ("time", _TIME)):
            m = regex.match(self.s, self.i)
            if m and re.match(_END, self.s[m.end():]):
                instant = parse_temporal(kind, m[0])
                if instant is None:
                    self.fail(f"invalid {kind} {m[0]!r}")
                self.i = m.end()
                return Scalar(kind, instant, m[0])
        m = _NUMBER.match(self.s, self.i)
        if m and re.match(_END, self.s[m.end():]):
            self.i = m.end()
            return Scalar("number", self.number(m[0], start))
        for kind, regex in (("boolean", _BOOLEAN), ("uri", _URI)):
            m = regex.match(self.s, self.i)
            if m and re.match(_END, self.s[m.end():]):
                self.i = m.end()
                return Scalar(kind, m[0] == "true" if kind == "boolean" else m[0])
        found = re.match(r"[^;|),]*", self.s[self.i:])[0][:40]  # type: ignore[index]
        hint = " (strings must be double-quoted)" if _NAME.fullmatch(found) else ""
        self.fail(f"expected a number, a \"quoted string\", true, false, a date, a time, a dateTime or a URI, "
                  f"found {found or 'nothing'!r}{hint}")

    def number(self, text: str, at: int) -> int | float:
        if len(text) > 400:
            self.fail("number too long", at)
        number: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        if not math.isfinite(number):
            self.fail("number out of range", at)
        return number

    def quoted(self) -> str:
        start = self.i
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return "".join(out)
            if c == "\\" and self.i + 1 < len(self.s):
                nxt = self.s[self.i + 1]
                out.append(nxt if nxt in '"\\' else c + nxt)
                self.i += 2
                continue
            out.append(c)
            self.i += 1
        self.fail("unterminated quoted string", start)

    def pattern(self) -> Pattern:
        start = self.i
        if self.peek() == '"':
            source = self.quoted()
        else:
            depth, in_class, i = 0, False, self.i
            while i < len(self.s):
                c = self.s[i]
                if c == "\\":
                    i += 2
                    continue
                if in_class:
                    in_class = c != "]"
                elif c == "[":
                    in_class = True
                elif c == "(":
                    depth += 1
                elif c == ")":
                    if depth == 0:
                        break
                    depth -= 1
                elif c in ";|" and depth == 0:
                    break
                i += 1
            source, self.i = self.s[self.i:i], min(i, len(self.s))
        if not source:
            self.fail("empty regular expression", start)
        try:
            return Pattern(source, re.compile(source))
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            raise BadRequestData(f"Invalid q at character {start + 1}: invalid regular expression: {exc}") from None


# --- printing -----------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scalar_text(s: Scalar) -> str:
    if s.kind == "string":
        return _quote(s.value)
    if s.kind == "boolean":
        return "true" if s.value else "false"
    if s.kind == "number":
        return repr(s.value)
    return s.text if s.kind in ("dateTime", "date", "time") else s.value


def _value_text(v: Value) -> str:
    if isinstance(v, Range):
        return f"{_scalar_text(v.low)}..{_scalar_text(v.high)}"
    if isinstance(v, ValueList):
        return ",".join(_scalar_text(i) for i in v.items)
    if isinstance(v, Pattern):
        return _quote(v.source)
    return _scalar_text(v)


def _path_text(p: AttrPath) -> str:
    return ".".join(p.names) + "".join(f"[{m}]" for m in p.members)


def to_text(node: QueryNode) -> str:
    """Canonical q text of ``node``: ``parse_q(to_text(node)) == node`` for any parsed node."""
    if isinstance(node, Or):
        return "|".join(f"({to_text(c)})" if isinstance(c, Or) else to_text(c) for c in node.children)
    if isinstance(node, And):
        return ";".join(f"({to_text(c)})" if isinstance(c, (And, Or)) else to_text(c) for c in node.children)
    if isinstance(node, Exists):
        return _path_text(node.path)
    if isinstance(node, NotExists):
        return "!" + _path_text(node.path)
    return _path_text(node.path) + node.op + _value_text(node.value)


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


# --- scopeQ (clause 4.19) -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScopePattern:
    """``/a/+/c`` (``+``: exactly one level); ``descendants``: a trailing ``/#`` (the scope and all below)."""

    levels: tuple[str, ...]
    descendants: bool = False


@dataclass(frozen=True)
class ScopeAnd:
    children: tuple[ScopeNode, ...]


@dataclass(frozen=True)
class ScopeOr:
    children: tuple[ScopeNode, ...]


ScopeNode = ScopePattern | ScopeAnd | ScopeOr
_SCOPE_PATTERN = re.compile(r"/?(?:#|(?:\w+|\+)(?:/(?:\w+|\+))*(?:/#)?)")


def parse_scope_q(text: str) -> ScopeNode:
    """Parse scopeQ: ``;`` AND, ``,`` or ``|`` OR (AND binds tighter), parentheses, ``+`` and ``#``."""
    if not isinstance(text, str) or not text:
        raise BadRequestData("Invalid scopeQ: the query is empty")
    parser = _ScopeParser(text)
    try:
        node = parser.disjunction()
        if parser.i < len(text):
            parser.fail(f"unexpected {text[parser.i]!r}")
    except BadRequestData:
        raise
    except Exception as exc:  # a bug must still surface as a 400, never a 500
        raise BadRequestData(f"Invalid scopeQ: {text!r} could not be parsed") from exc
    return node


class _ScopeParser:
    def __init__(self, text: str) -> None:
        self.s, self.i, self.depth = text, 0, 0

    def fail(self, message: str) -> NoReturn:
        raise BadRequestData(f"Invalid scopeQ at character {self.i + 1}: {message}")

    def disjunction(self) -> ScopeNode:
        children = [self.conjunction()]
        while self.s[self.i:self.i + 1] in ("|", ","):
            self.i += 1
            children.append(self.conjunction())
        return children[0] if len(children) == 1 else ScopeOr(tuple(children))

    def conjunction(self) -> ScopeNode:
        children = [self.primary()]
        while self.s[self.i:self.i + 1] == ";":
            self.i += 1
            children.append(self.primary())
        return children[0] if len(children) == 1 else ScopeAnd(tuple(children))

    def primary(self) -> ScopeNode:
        if self.s[self.i:self.i + 1] == "(":
            self.depth += 1
            if self.depth > MAX_NESTING:
                self.fail(f"parentheses nested deeper than {MAX_NESTING}")
            self.i += 1
            node = self.disjunction()
            if self.s[self.i:self.i + 1] != ")":
                self.fail("missing ')'")
            self.i += 1
            self.depth -= 1
            return node
        m = _SCOPE_PATTERN.match(self.s, self.i)
        if not m or self.s[m.end():m.end() + 1] not in ("", ";", ",", "|", ")"):
            self.fail("expected a scope such as /Madrid/Gardens, /Madrid/+/Park or /Madrid/#")
        self.i = m.end()
        levels = [p for p in m[0].split("/") if p]
        descendants = bool(levels) and levels[-1] == "#"
        return ScopePattern(tuple(levels[:-1] if descendants else levels), descendants)


def _scope_matches(pattern: ScopePattern, scope: str) -> bool:
    levels = [p for p in scope.split("/") if p]
    n = len(pattern.levels)
    if len(levels) < n or (len(levels) > n and not pattern.descendants):
        return False
    return all(p in ("+", level) for p, level in zip(pattern.levels, levels, strict=False))


def evaluate_scope(node: ScopeNode, scopes: list[str] | str | None) -> bool:
    """Whether an entity with ``scopes`` matches; an entity without scopes matches nothing."""
    if isinstance(scopes, str):
        scopes = [scopes]
    scopes = [s for s in scopes or [] if isinstance(s, str)]
    if isinstance(node, ScopeAnd):
        return all(evaluate_scope(c, scopes) for c in node.children)
    if isinstance(node, ScopeOr):
        return any(evaluate_scope(c, scopes) for c in node.children)
    return any(_scope_matches(node, s) for s in scopes)


def scope_to_text(node: ScopeNode) -> str:
    if isinstance(node, ScopeOr):
        return ",".join(f"({scope_to_text(c)})" if isinstance(c, ScopeOr) else scope_to_text(c) for c in node.children)
    if isinstance(node, ScopeAnd):
        return ";".join(f"({scope_to_text(c)})" if not isinstance(c, ScopePattern) else scope_to_text(c)
                        for c in node.children)
    return "/" + "/".join((*node.levels, "#") if node.descendants else node.levels)
