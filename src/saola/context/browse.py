"""The staff console's entity browser: read models over the NGSI-LD broker, no HTTP.

Everything goes through the broker's own services (:func:`saola.context.query.run_query` for
listing, :func:`saola.context.entities.retrieve_entity` for one entity,
:func:`saola.context.temporal.history` for an attribute's history); what is added here is what
only the browser needs: the list of tenants, entity counts per type in one grouped query, an
entity turned into readable table rows, map features, and a numeric time series for a chart.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from saola.context import entities as entity_service
from saola.context import query as query_service
from saola.context import temporal
from saola.context.jsonld import TermMap
from saola.context.models import NgsiEntityType, NgsiTenant
from saola.context.representation import (
    LOCATION,
    AttributeInstance,
    StoredEntity,
    attributes,
    default_instance,
    sub_attributes,
    value_of,
)
from saola.core.errors import BadRequest

PAGE_SIZE = 20
MAX_POINTS = 5000  # a chart thins longer series evenly (the first and last points are kept)
RANGES = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
MAX_CUSTOM_RANGE = timedelta(days=366)


def moment(text: Any) -> datetime | str | None:
    """An NGSI-LD timestamp as an aware datetime (for display), or the text itself when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def short_name(iri: str, tm: TermMap) -> str:
    """A readable name: the context's term, else the last segment of the IRI."""
    name = tm.compact(iri)
    if ":" in name:
        tail = name.rstrip("/#").replace("#", "/").rsplit("/", 1)[-1]
        return tail or name
    return name


def entity_url(entity_id: str, tenant: str) -> str:
    """The console address of an entity (with the tenant when it is not the default one)."""
    url = "/console/entities/" + quote(entity_id, safe=":")
    return url + ("?" + urlencode({"tenant": tenant}) if tenant else "")


# --- tenants and types ---------------------------------------------------------------------------


def list_tenants(session: Session) -> list[str]:
    """Every tenant that was ever written to; the default tenant (``""``) first."""
    names = session.scalars(select(NgsiTenant.name).where(NgsiTenant.name != "").order_by(NgsiTenant.name))
    return ["", *names]


@dataclass(frozen=True)
class TypeCount:
    iri: str
    name: str  # what to show
    param: str  # what to put in ``?type=`` (the term, or the IRI when the core context has none)
    count: int


def type_counts(session: Session, *, tenant: str, tm: TermMap) -> list[TypeCount]:
    """The entity types of ``tenant`` with how many entities have each, by name."""
    rows = session.execute(
        select(NgsiEntityType.type_iri, func.count(distinct(NgsiEntityType.entity_pk)))
        .where(NgsiEntityType.tenant == tenant).group_by(NgsiEntityType.type_iri)
    )
    found = [TypeCount(iri, short_name(iri, tm), tm.compact(iri), count) for iri, count in rows]
    return sorted(found, key=lambda t: (t.name.lower(), t.iri))


# --- listing -------------------------------------------------------------------------------------


@dataclass
class EntityRow:
    id: str
    url: str
    types: list[str]
    name: str | None
    modified_at: datetime | str | None
    n_attributes: int
    geometry: dict[str, Any] | None


@dataclass
class EntityPage:
    rows: list[EntityRow]
    total: int
    page: int
    pages: int


def find_entities(
    session: Session, *, tenant: str, tm: TermMap, type: str | None, id: str | None, id_pattern: str | None,
    q: str | None, page: int, max_limit: int,
) -> EntityPage:
    """One page of the entities matching the filters, with the total (NGSI-LD errors propagate)."""
    query = query_service.build_query(
        tm, type=type or None, id=id or None, id_pattern=id_pattern or None, q=q or None,
        limit=min(PAGE_SIZE, max_limit), offset=(page - 1) * PAGE_SIZE, count=True, max_limit=max_limit,
        require_filter=False,
    )
    found, total = query_service.run_query(session, tenant=tenant, query=query)
    rows = [_row(e, tenant, tm) for e in found]
    count = total or 0
    return EntityPage(rows, count, page, max(1, math.ceil(count / PAGE_SIZE)))


def _row(entity: StoredEntity, tenant: str, tm: TermMap) -> EntityRow:
    attrs = dict(attributes(entity))
    return EntityRow(
        id=entity["id"], url=entity_url(entity["id"], tenant),
        types=[short_name(t, tm) for t in entity.get("type", [])], name=_name(attrs, tm),
        modified_at=moment(entity.get("modifiedAt")), n_attributes=len(attrs), geometry=_location(attrs),
    )


def _name(attrs: dict[str, list[AttributeInstance]], tm: TermMap) -> str | None:
    for iri, instances in attrs.items():
        if short_name(iri, tm) == "name":
            inst = default_instance(instances) or instances[0]
            value = value_of(inst)
            if isinstance(value, str):
                return value
            if isinstance(value, dict) and value:  # a LanguageProperty
                return str(next(iter(value.values())))
    return None


def _location(attrs: dict[str, list[AttributeInstance]]) -> dict[str, Any] | None:
    instances = attrs.get(LOCATION) or []
    inst = default_instance(instances) or (instances[0] if instances else None)
    if inst is None or inst.get("type") != "GeoProperty":
        return None
    value = value_of(inst)
    return value if isinstance(value, dict) and "type" in value else None


def map_features(rows: list[EntityRow]) -> list[dict[str, Any]]:
    """GeoJSON features of the listed entities that have a location (for the list's map)."""
    return [{"type": "Feature", "id": r.id, "geometry": r.geometry,
             "properties": {"url": r.url, "name": r.name or r.id, "type": ", ".join(r.types)}}
            for r in rows if r.geometry is not None]


# --- one entity ------------------------------------------------------------------------------------


@dataclass
class ValueView:
    kind: str  # number, boolean, text, json, relationship, language, geo, empty
    value: Any
    digits: int = 0
    links: list[tuple[str, str]] = field(default_factory=list)  # (entity id, console address)


@dataclass
class InstanceView:
    dataset_id: str | None
    attr_type: str
    value: ValueView
    unit: str | None
    observed_at: datetime | str | None
    modified_at: datetime | str | None
    subs: list[tuple[str, str, ValueView]]  # (name, IRI, value)


@dataclass
class AttributeView:
    name: str
    iri: str
    instances: list[InstanceView]
    numeric: bool


@dataclass
class EntityView:
    id: str
    types: list[str]
    type_params: list[str]  # the types as ``?type=`` of the list page takes them
    scopes: list[str]
    created_at: datetime | str | None
    modified_at: datetime | str | None
    name: str | None
    attributes: list[AttributeView]
    geometry: dict[str, Any] | None

    @property
    def numeric_attributes(self) -> list[AttributeView]:
        return [a for a in self.attributes if a.numeric]

    def attribute(self, name: str) -> AttributeView | None:
        return next((a for a in self.attributes if a.name == name), None)


def _digits(number: float) -> int:
    if isinstance(number, int) or float(number).is_integer():
        return 0
    text = repr(float(number))
    return min(len(text.split(".")[1]), 6) if "." in text and "e" not in text else 6


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _value_view(inst: AttributeInstance, tenant: str, tm: TermMap) -> ValueView:
    kind = inst.get("type", "Property")
    value = value_of(inst)
    if kind in ("Relationship", "ListRelationship"):
        targets = value if isinstance(value, list) else [value]
        links = [(str(t), entity_url(str(t), tenant)) for t in targets if isinstance(t, str)]
        return ValueView("relationship", value, links=links)
    if kind == "LanguageProperty" and isinstance(value, dict):
        return ValueView("language", sorted(value.items()))
    if kind == "VocabProperty":
        items = value if isinstance(value, list) else [value]
        return ValueView("text", ", ".join(short_name(str(v), tm) for v in items))
    if kind == "GeoProperty":
        return ValueView("geo", json.dumps(value, ensure_ascii=False))
    if value is None:
        return ValueView("empty", None)
    if isinstance(value, bool):
        return ValueView("boolean", value)
    if is_number(value):
        return ValueView("number", value, digits=_digits(value))
    if isinstance(value, str):
        return ValueView("text", value)
    return ValueView("json", json.dumps(value, ensure_ascii=False, indent=1))


def _instance_view(inst: AttributeInstance, tenant: str, tm: TermMap) -> InstanceView:
    subs = [(short_name(iri, tm), iri, _value_view(sub, tenant, tm)) for iri, sub in sub_attributes(inst)]
    dataset = inst.get("datasetId")
    return InstanceView(
        dataset_id=tm.compact(dataset) if isinstance(dataset, str) else None, attr_type=inst.get("type", "Property"),
        value=_value_view(inst, tenant, tm), unit=inst.get("unitCode"), observed_at=moment(inst.get("observedAt")),
        modified_at=moment(inst.get("modifiedAt")), subs=sorted(subs),
    )


def entity_view(session: Session, *, tenant: str, entity_id: str, tm: TermMap) -> EntityView:
    """The entity as readable rows (404 ResourceNotFound / 400 BadRequestData from the broker)."""
    entity = entity_service.retrieve_entity(session, tenant=tenant, entity_id=entity_id)
    attrs = dict(attributes(entity))
    views = []
    for iri, instances in attrs.items():
        if not instances:
            continue
        rows = [_instance_view(i, tenant, tm) for i in instances]
        numeric = any(i.get("type", "Property") == "Property" and is_number(value_of(i)) for i in instances)
        views.append(AttributeView(short_name(iri, tm), iri, rows, numeric))
    views.sort(key=lambda a: (a.iri != LOCATION, a.name.lower(), a.iri))
    return EntityView(
        id=entity["id"], types=[short_name(t, tm) for t in entity.get("type", [])],
        type_params=[tm.compact(t) for t in entity.get("type", [])], scopes=list(entity.get("scope", [])),
        created_at=moment(entity.get("createdAt")), modified_at=moment(entity.get("modifiedAt")),
        name=_name(attrs, tm), attributes=views, geometry=_location(attrs),
    )


# --- an attribute's history --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime


def time_range(*, name: str, start: str | None, end: str | None, now: datetime, tz: Any) -> TimeRange:
    """``hour``, ``day``, ``week`` back from ``now``, or ``custom`` between two local date-times."""
    if name in RANGES:
        return TimeRange(now - RANGES[name], now)
    if name != "custom":
        raise BadRequest("Unknown time range; choose the last hour, day or week, or a custom range", field="range")
    first = _local_moment(start, "start", tz)
    last = _local_moment(end, "end", tz)
    if last <= first:
        raise BadRequest("The end of the time range must be after its start", field="end")
    if last - first > MAX_CUSTOM_RANGE:
        raise BadRequest("A custom time range may span at most a year", field="end")
    return TimeRange(first, last)


def _local_moment(text: str | None, name: str, tz: Any) -> datetime:
    if not text:
        raise BadRequest("Give the start and the end of a custom time range", field=name)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest("Enter a date and time such as 2026-11-24T08:00", field=name) from None
    if not 1900 <= moment.year <= 2999:
        raise BadRequest("Enter a date and time such as 2026-11-24T08:00", field=name)
    return (moment.replace(tzinfo=tz) if moment.tzinfo is None else moment).astimezone(tz)


@dataclass
class Series:
    attribute: str
    unit: str | None
    points: list[dict[str, Any]]  # {"t": ISO time, "v": number, "d": datasetId or None}, in time order
    total: int  # numeric points found before thinning


def attribute_series(
    session: Session, *, tenant: str, entity_id: str, attr_iri: str, window: TimeRange, tm: TermMap,
) -> Series:
    """The numeric values of one attribute in the window, by ``observedAt`` (or the time of the change
    when the instance has none), from the broker's temporal history."""
    found: dict[str, tuple[datetime, Any, str | None, str | None]] = {}
    for timeproperty in ("observedAt", "modifiedAt"):
        tq = temporal.TemporalQuery(timerel="between", time_at=window.start, end_time_at=window.end,
                                    timeproperty=timeproperty)
        history = temporal.history(session, tenant=tenant, entity_ids=[entity_id], attrs=[attr_iri], tq=tq)
        for item in history.get(entity_id, {}).get(attr_iri, []):
            if timeproperty == "modifiedAt" and item.data.get("observedAt"):
                continue  # placed by its observation time, in the first pass
            value = value_of(item.data)
            if item.at is None or not is_number(value) or item.data.get("type", "Property") != "Property":
                continue
            dataset = item.dataset_id
            found[item.instance_id] = (item.at, value, tm.compact(dataset) if dataset else None,
                                       item.data.get("unitCode"))
    ordered = sorted(found.values(), key=lambda p: p[0])
    total = len(ordered)
    if total > MAX_POINTS:
        step = (total - 1) / (MAX_POINTS - 1)
        ordered = [ordered[round(i * step)] for i in range(MAX_POINTS)]
    unit = next((p[3] for p in reversed(ordered) if p[3]), None)
    points = [{"t": at.isoformat().replace("+00:00", "Z"), "v": value, "d": dataset}
              for at, value, dataset, _unit in ordered]
    return Series(short_name(attr_iri, tm), unit, points, total)
