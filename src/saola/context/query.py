"""Query Entities (clause 5.7.2): type expressions, ids, idPattern, attrs, q, scopeQ, geo-queries, paging.

The database does the coarse work with the side tables (types, attribute values, geo boxes)
and a stable order by the entity's primary key; exact filters (q, geo, idPattern, scopeQ, type
expressions) then run on the candidates. Without exact filters the database also counts and pages.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, Text, any_, cast, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from saola.context import geo, query_language
from saola.context.errors import BadRequestData, TooManyResults
from saola.context.jsonld import TermMap
from saola.context.models import BoxOverlaps, NgsiAttributeValue, NgsiEntity, NgsiEntityType, NgsiGeoBox
from saola.context.normalize import ENTITY_MEMBERS, check_entity_id, check_name
from saola.context.representation import StoredEntity, attributes

DEFAULT_LIMIT = 20
TypeNode = Any  # str (a type IRI) | ("and" | "or", [TypeNode, ...])


# --- type expressions (clause 4.17) -------------------------------------------------------------


def parse_type_expression(text: str, tm: TermMap) -> TypeNode:
    """``A,B`` and ``A|B`` are "either", ``A;B`` "both", parentheses group."""
    tokens = re.findall(r"[(),;|]|[^(),;|]+", text)
    position = 0

    def peek() -> str | None:
        return tokens[position].strip() if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1].strip()

    def disjunction(depth: int) -> TypeNode:
        items = [conjunction(depth)]
        while peek() in (",", "|"):
            take()
            items.append(conjunction(depth))
        return items[0] if len(items) == 1 else ("or", items)

    def conjunction(depth: int) -> TypeNode:
        items = [primary(depth)]
        while peek() == ";":
            take()
            items.append(primary(depth))
        return items[0] if len(items) == 1 else ("and", items)

    def primary(depth: int) -> TypeNode:
        if depth > 32:
            raise BadRequestData("The type expression is nested too deeply")
        token = peek()
        if token == "(":
            take()
            node = disjunction(depth + 1)
            if peek() != ")":
                raise BadRequestData("Unbalanced parentheses in the type expression")
            take()
            return node
        if token is None or token in (")", ",", "|", ";"):
            raise BadRequestData(f"Invalid type expression {text[:100]!r}")
        return tm.expand(check_name(take(), "entity type"))

    node = disjunction(0)
    if position != len(tokens):
        raise BadRequestData(f"Invalid type expression {text[:100]!r}")
    return node


def type_iris(node: TypeNode) -> set[str]:
    if isinstance(node, str):
        return {node}
    return set().union(*(type_iris(c) for c in node[1]))


def type_matches(node: TypeNode, types: list[str]) -> bool:
    if isinstance(node, str):
        return node in types
    results = (type_matches(c, types) for c in node[1])
    return all(results) if node[0] == "and" else any(results)


# --- the query ----------------------------------------------------------------------------------


@dataclass
class EntityQuery:
    types: TypeNode | None = None
    ids: list[str] | None = None
    id_pattern: re.Pattern[str] | None = None
    attrs: list[str] | None = None  # IRIs
    q: query_language.QueryNode | None = None
    scope_q: query_language.ScopeNode | None = None
    geo: geo.GeoQuery | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False
    tm: TermMap | None = field(default=None, repr=False)
    # several EntitySelectors (POST query): an entity matches one of them (type node, ids, idPattern)
    selectors: list[tuple[TypeNode | None, list[str] | None, re.Pattern[str] | None]] | None = None


def build_query(
    tm: TermMap, *, type: str | None = None, id: str | None = None, id_pattern: str | None = None,
    attrs: list[str] | None = None, q: str | None = None, scope_q: str | None = None,
    georel: str | None = None, geometry: str | None = None, coordinates: Any = None,
    geoproperty: str | None = None, limit: int | None = None, offset: int | None = None, count: bool = False,
    max_limit: int = 1000, require_filter: bool = True,
) -> EntityQuery:
    query = EntityQuery(tm=tm, count=count)
    if type:
        query.types = parse_type_expression(type, tm)
    if id:
        query.ids = [check_entity_id(i.strip()) for i in id.split(",") if i.strip()]
    if id_pattern:
        try:
            query.id_pattern = re.compile(id_pattern)
        except (re.error, RecursionError, OverflowError):
            raise BadRequestData("idPattern is not a valid regular expression") from None
    if attrs:
        for name in attrs:
            if name in ENTITY_MEMBERS:
                raise BadRequestData(f"{name!r} is not an attribute name")
        query.attrs = [tm.expand(check_name(a)) for a in attrs]
    if q:
        query.q = query_language.parse_q(q)
    if scope_q:
        query.scope_q = query_language.parse_scope_q(scope_q)
    query.geo = geo.parse_geoquery(georel, geometry, coordinates, geoproperty)
    if query.geo is not None and geoproperty:
        query.geo = _with_geoproperty(query.geo, tm.expand(check_name(geoproperty)))
    # Entity ids and idPatterns select within types (an EntitySelector needs a type, clause 5.2.33)
    if require_filter and not any([query.types, query.attrs, query.q, query.geo, query.scope_q]):
        raise BadRequestData("Give at least one of type, attrs, q, geo-query or scopeQ (or local=true)")
    query.limit = DEFAULT_LIMIT if limit is None else limit
    query.offset = offset or 0
    if query.limit < 0 or query.offset < 0:
        raise BadRequestData("limit and offset must not be negative")
    if query.limit > max_limit:
        raise TooManyResults(f"limit may be at most {max_limit}")
    if query.limit == 0 and not count:
        raise BadRequestData("limit=0 is only allowed with count=true")
    return query


def _with_geoproperty(query: geo.GeoQuery, iri: str) -> geo.GeoQuery:
    return dataclasses.replace(query, geoproperty=iri, shape=query.shape)


def build_query_from_body(
    tm: TermMap, data: Any, *, limit: int | None, offset: int | None, count: bool, max_limit: int,
) -> tuple[EntityQuery, list[str] | None]:
    """The query of an NGSI-LD ``Query`` body (POST entityOperations/query, plain or temporal), and its ``attrs``.

    Several entity selectors are supported when they carry types alone (they become ``A,B``).
    """
    if not isinstance(data, dict) or data.get("type") != "Query":
        raise BadRequestData('The body must be a Query object ({"type": "Query", ...})')
    selectors = data.get("entities") or []
    if not isinstance(selectors, list) or not all(isinstance(s, dict) for s in selectors):
        raise BadRequestData("entities must be a list of EntitySelector objects")
    if len(selectors) > 1:
        return _several_selectors(tm, data, selectors, limit=limit, offset=offset, count=count,
                                  max_limit=max_limit)
    selector = selectors[0] if selectors else {}
    type_expr = selector.get("type")
    geo_q = data.get("geoQ") or {}
    attrs = data.get("attrs")
    if not isinstance(geo_q, dict) or (attrs is not None and not isinstance(attrs, list)):
        raise BadRequestData("geoQ must be an object and attrs a list")
    fields = [type_expr, selector.get("id"), selector.get("idPattern"), data.get("q"), data.get("scopeQ"),
              geo_q.get("georel"), geo_q.get("geometry"), geo_q.get("geoproperty")]
    if not all(f is None or isinstance(f, str) for f in fields) or not all(isinstance(a, str) for a in attrs or []):
        raise BadRequestData("Query members must be strings")
    query = build_query(
        tm, type=type_expr, id=selector.get("id"), id_pattern=selector.get("idPattern"), attrs=attrs,
        q=data.get("q"), scope_q=data.get("scopeQ"), georel=geo_q.get("georel"), geometry=geo_q.get("geometry"),
        coordinates=geo_q.get("coordinates"), geoproperty=geo_q.get("geoproperty"), limit=limit, offset=offset,
        count=count, max_limit=max_limit, require_filter=False,
    )
    return query, attrs


def _several_selectors(
    tm: TermMap, data: dict[str, Any], selectors: list[dict[str, Any]], *, limit: int | None, offset: int | None,
    count: bool, max_limit: int,
) -> tuple[EntityQuery, list[str] | None]:
    parts: list[tuple[TypeNode | None, list[str] | None, re.Pattern[str] | None]] = []
    for selector in selectors:
        if set(selector) - {"type", "id", "idPattern"} or not all(isinstance(v, str) for v in selector.values()):
            raise BadRequestData("An EntitySelector has type, id and idPattern strings")
        one = build_query(tm, type=selector.get("type"), id=selector.get("id"),
                          id_pattern=selector.get("idPattern"), require_filter=False, count=True)
        parts.append((one.types, one.ids, one.id_pattern))
    rest = {k: v for k, v in data.items() if k != "entities"}
    query, attrs = build_query_from_body(tm, rest, limit=limit, offset=offset, count=count, max_limit=max_limit)
    query.selectors = parts
    if all(node is not None for node, _, _ in parts):
        query.types = ("or", [node for node, _, _ in parts])
    if all(ids for _, ids, _ in parts):
        query.ids = list(dict.fromkeys(i for _, ids, _ in parts for i in ids or []))
    return query, attrs


def _selector_matches(selector: tuple[TypeNode | None, list[str] | None, re.Pattern[str] | None],
                      entity: StoredEntity) -> bool:
    node, ids, pattern = selector
    if node is not None and not type_matches(node, entity.get("type", [])):
        return False
    if ids is not None and entity["id"] not in ids:
        return False
    return pattern is None or ids is not None or pattern.search(entity["id"]) is not None


def _among(entity_pk: Any, where: list[ColumnElement[bool]], postgresql: bool) -> ColumnElement[bool]:
    """The entity's primary key is one of the ``entity_pk`` values of the rows meeting ``where``.

    On PostgreSQL as ``id = ANY((SELECT array_agg(entity_pk) ...))``: the candidates are gathered
    first and the primary-key index is then read in order, so ``ORDER BY id LIMIT n`` stops after n;
    ``id IN (...)`` made it join and sort every candidate (a thousand of a million entities for a
    page of 20: 150 ms against 21 ms, and ~1 ms with the covering value index of migration 0019;
    EXPLAIN ANALYZE on the bench/context_bench.py database). SQLite already reads an IN list in order.
    """
    if postgresql:
        # (the cast makes it ANY(array expression), not ANY(subquery), which would compare with each row)
        return NgsiEntity.id == any_(cast(select(func.array_agg(entity_pk)).where(*where).scalar_subquery(),
                                          ARRAY(Integer)))
    return NgsiEntity.id.in_(select(entity_pk).where(*where))


def _hint_condition(hint: query_language.Hint, tenant: str, postgresql: bool = False) -> ColumnElement[bool] | None:
    base = [NgsiAttributeValue.tenant == tenant, NgsiAttributeValue.attr_iri == hint.attr_iri]
    value_conditions: list[ColumnElement[bool]] = []
    if hint.op == "exists":
        pass
    elif hint.op in ("in", "=="):
        equal = _equalities(hint)
        if equal is None:
            return None
        value_conditions += equal
    elif hint.op == "range":
        low, high = hint.value
        value_conditions.append(NgsiAttributeValue.num_value.between(float(low), float(high)))
    else:
        column = NgsiAttributeValue.num_value
        operators = {">": column > hint.value, ">=": column >= hint.value, "<": column < hint.value,
                     "<=": column <= hint.value}
        value_conditions.append(operators[hint.op])
    if value_conditions:
        base.append(or_(*value_conditions))
    return _among(NgsiAttributeValue.entity_pk, base, postgresql)


def _equalities(hint: query_language.Hint) -> list[ColumnElement[bool]] | None:
    """The value-row conditions of an equality hint (``==`` or ``in``); None when its values are not indexed."""
    conditions: list[ColumnElement[bool]] = []
    for v in hint.value if hint.op == "in" else (hint.value,):
        if isinstance(v, bool):
            return None  # booleans are not indexed: no pre-filter for this hint
        if isinstance(v, (int, float)):
            conditions.append(NgsiAttributeValue.num_value == float(v))
        elif isinstance(v, str) and len(v) <= 256:
            conditions.append(NgsiAttributeValue.text_value == v)
        else:
            return None
    return conditions


def _hint_probe(hint: query_language.Hint, tenant: str) -> ColumnElement[bool] | None:
    """``hint`` (an equality) as a condition on the candidate entity row: EXISTS of its value row."""
    value_conditions = _equalities(hint)
    if value_conditions is None:
        return None
    return exists(select(NgsiAttributeValue.id).where(
        NgsiAttributeValue.tenant == tenant, NgsiAttributeValue.attr_iri == hint.attr_iri, or_(*value_conditions),
        NgsiAttributeValue.entity_pk == NgsiEntity.id))


_HINT_RANK = {"==": 0, "in": 0, "range": 1, ">": 2, ">=": 2, "<": 2, "<=": 2, "exists": 3}


def _conditions(query: EntityQuery, tenant: str, postgresql: bool = False) -> list[ColumnElement[bool]]:
    assert query.tm is not None
    conditions: list[ColumnElement[bool]] = [NgsiEntity.tenant == tenant]
    if query.types is not None:
        conditions.append(exists(select(NgsiEntityType.id).where(
            NgsiEntityType.entity_pk == NgsiEntity.id, NgsiEntityType.tenant == tenant,
            NgsiEntityType.type_iri.in_(sorted(type_iris(query.types))))))
    if query.ids:
        conditions.append(NgsiEntity.entity_id.in_(query.ids))
    if query.attrs:
        conditions.append(exists(select(NgsiAttributeValue.id).where(
            NgsiAttributeValue.entity_pk == NgsiEntity.id, NgsiAttributeValue.tenant == tenant,
            NgsiAttributeValue.attr_iri.in_(query.attrs))))
    # The q and geo pre-filters are `id IN (index lookup)` so the database starts from the few
    # candidates they give; only the most selective q hint goes to SQL (equality, then range, then
    # existence), the exact q filter checks the others on the candidates (several correlated
    # pre-filters made SQLite probe a value index once per entity: bench/context_bench.py).
    if query.q is not None:
        hints = sorted(query_language.sql_hints(query.q, query.tm.expand), key=lambda h: _HINT_RANK.get(h.op, 3))
        driving = None
        for hint in hints:
            condition = _hint_condition(hint, tenant, postgresql)
            if condition is not None:
                conditions.append(condition)
                driving = hint
                break
        # The other equality hints are checked on each candidate by one probe of the value index (tenant,
        # attribute, value, entity): candidates that fail them are not read and decoded for the exact filter.
        for hint in hints:
            if hint is not driving and hint.op in ("==", "in"):
                probe = _hint_probe(hint, tenant)
                if probe is not None:
                    conditions.append(probe)
    if query.geo is not None:
        box = geo.bbox_filter(query.geo)
        geo_conditions = [NgsiGeoBox.attr_iri == query.geo.geoproperty]
        if box is not None:
            # GiST on PostgreSQL, see models.BoxOverlaps
            geo_conditions.append(BoxOverlaps(*box, dialect="postgresql" if postgresql else "sqlite"))
        conditions.append(_among(NgsiGeoBox.entity_pk, geo_conditions, postgresql))
    return conditions


def _exact_filter(query: EntityQuery) -> Callable[[StoredEntity], bool] | None:
    assert query.tm is not None
    tests: list[Callable[[StoredEntity], bool]] = []
    if query.types is not None and not isinstance(query.types, str):
        node = query.types
        tests.append(lambda e: type_matches(node, e.get("type", [])))
    if query.selectors:
        selectors = query.selectors
        tests.append(lambda e: any(_selector_matches(sel, e) for sel in selectors))
    if query.id_pattern is not None:
        pattern = query.id_pattern
        tests.append(lambda e: pattern.search(e["id"]) is not None)
    if query.q is not None:
        tests.append(query_language.compile_q(query.q, query.tm.expand))
    if query.scope_q is not None:
        scope = query.scope_q
        tests.append(lambda e: query_language.evaluate_scope(scope, e.get("scope")))
    if query.geo is not None:
        gq = query.geo
        tests.append(lambda e: any(inst.get("type") == "GeoProperty" and geo.matches(gq, inst.get("value"))
                                   for inst in dict(attributes(e)).get(gq.geoproperty, [])))
    if not tests:
        return None
    return lambda e: all(t(e) for t in tests)


def run_query(session: Session, *, tenant: str, query: EntityQuery) -> tuple[list[StoredEntity], int | None]:
    """The page of matching entities (stored form) and, with ``count``, the total."""
    conditions = _conditions(query, tenant, session.get_bind().dialect.name == "postgresql")
    exact = _exact_filter(query)
    if exact is None:
        total = session.scalar(select(func.count(NgsiEntity.id)).where(*conditions)) if query.count else None
        page: list[StoredEntity] = []
        if query.limit:
            rows = session.scalars(select(NgsiEntity.data).where(*conditions).order_by(NgsiEntity.id)
                                   .offset(query.offset).limit(query.limit))
            page = list(rows)
        return page, total
    matched = 0
    page = []
    for data in _stream(session, conditions, first_chunk=query.offset + query.limit + 10):
        if not exact(data):
            continue
        if query.offset <= matched < query.offset + query.limit:
            page.append(data)
        matched += 1
        if not query.count and matched >= query.offset + query.limit:
            break
    return page, matched if query.count else None


def _stream(session: Session, conditions: list[ColumnElement[bool]], *, first_chunk: int = 500,
            chunk: int = 500) -> Iterator[StoredEntity]:
    """The candidates' documents in primary-key order, read in chunks: a first one about the size of
    the page (most pages fill from it: each row read is a JSON document to decode), then doubling
    up to ``chunk``. On SQLite a document is decoded only when the caller comes to it."""
    raw = session.get_bind().dialect.name == "sqlite"  # (psycopg decodes jsonb itself)
    document = type_coerce(NgsiEntity.data, Text) if raw else NgsiEntity.data
    last = 0
    size = max(1, min(first_chunk, chunk))
    while True:
        rows = session.execute(select(NgsiEntity.id, document).where(*conditions, NgsiEntity.id > last)
                               .order_by(NgsiEntity.id).limit(size)).all()
        if not rows:
            return
        for _pk, data in rows:
            yield json.loads(data) if raw else data
        if len(rows) < size:
            return
        last = rows[-1][0]
        size = min(size * 2, chunk)
