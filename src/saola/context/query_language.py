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

The code is split into :mod:`q_syntax` (tree, lexical pieces), :mod:`q_parser`,
:mod:`q_eval` (evaluation, SQL hints) and :mod:`scope_query`; this module is their public face.

Why hand-written: the lexing is context-dependent (``.`` is a path separator in
``speed.observedAt``, a decimal point in ``0.3`` and half of ``50..80``; ``|`` ends a term but
belongs to an unquoted pattern ``(?i)(a|b)``), which a generator library would need a custom
lexer for anyway; a small recursive-descent parser keeps the "only BadRequestData, with a
position" guarantee easy to check.
"""

from __future__ import annotations

from saola.context.q_eval import Hint, compile_q, evaluate, hint_candidates, hint_matches, sql_hints
from saola.context.q_parser import parse_q, to_text
from saola.context.q_syntax import (
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
from saola.context.scope_query import (
    ScopeAnd,
    ScopeNode,
    ScopeOr,
    ScopePattern,
    evaluate_scope,
    parse_scope_q,
    scope_to_text,
)

__all__ = [
    "And", "AttrPath", "Comparison", "Exists", "Expand", "Hint", "NotExists", "Or", "Pattern", "Predicate",
    "QueryNode", "Range", "Scalar", "ScopeAnd", "ScopeNode", "ScopeOr", "ScopePattern", "Value", "ValueList",
    "compile_q", "evaluate", "evaluate_scope", "hint_candidates", "hint_matches", "parse_q", "parse_scope_q",
    "parse_temporal", "scope_to_text", "sql_hints", "to_text",
]
