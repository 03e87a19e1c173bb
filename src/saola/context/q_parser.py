"""Parsing q text into its syntax tree, and printing it back (see :mod:`saola.context.query_language`)."""

from __future__ import annotations

import math
import re
from typing import NoReturn

from saola.context.errors import BadRequestData
from saola.context.q_syntax import (
    _BOOLEAN,
    _DATE,
    _DATETIME,
    _END,
    _MEMBER,
    _NAME,
    _NUMBER,
    _OPERATORS,
    _TIME,
    _URI,
    COMPARABLE_KINDS,
    MAX_NESTING,
    And,
    AttrPath,
    Comparison,
    Exists,
    NotExists,
    Or,
    Pattern,
    QueryNode,
    Range,
    Scalar,
    Value,
    ValueList,
    parse_temporal,
)

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

