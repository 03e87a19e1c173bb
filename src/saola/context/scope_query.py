"""scopeQ (ETSI GS CIM 009 clause 4.19): parsing, evaluation and printing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from saola.context.errors import BadRequestData
from saola.context.q_syntax import MAX_NESTING

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

