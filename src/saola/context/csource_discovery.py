"""Discovery of context source registrations (clause 5.10.2): which registrations match a query or a subscription.

A registration matches entity selectors (types, ids, id patterns) when one of its RegistrationInfo items can provide
such entities: an item without ``entities`` covers every entity, an EntityInfo without ``id``/``idPattern`` covers every
entity of its type. It matches attribute names when an item lists one of them, or lists none (all attributes). ``q``
is evaluated on the registration's context source properties (``csourceProperty1=="aValue"``), the geo-query on its
``location`` (or ``observationSpace``/``operationSpace``), the temporal query on its ``observationInterval``
(``timeproperty=observedAt``, the default) or ``managementInterval`` (``createdAt``/``modifiedAt``). Expired
registrations never match. Registrations are few, so a query reads the tenant's registrations and filters them here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.context import geo, query, query_language
from saola.context.csource_models import NgsiCSourceRegistration
from saola.context.csource_registrations import GEO_MEMBERS, TYPE, expired
from saola.context.errors import BadRequestData
from saola.context.jsonld import TermMap
from saola.context.normalize import check_name
from saola.context.representation import DEFAULT_VOCAB, LOCATION
from saola.context.subscriptions import is_uri, parse_time

TIMERELS = ("before", "after", "between")
TIME_PROPERTIES = {"observedAt": "observationInterval", "createdAt": "managementInterval",
                   "modifiedAt": "managementInterval"}


@dataclass
class TemporalQuery:
    timerel: str
    time_at: datetime
    end_time_at: datetime | None
    member: str  # observationInterval or managementInterval


@dataclass
class Selector:
    types: query.TypeNode | None = None
    ids: list[str] | None = None
    id_pattern: str | None = None


@dataclass
class RegistrationQuery:
    selectors: list[Selector] = field(default_factory=list)  # any of them (empty: no entity condition)
    attrs: list[str] | None = None
    q: Any = None
    geo_query: geo.GeoQuery | None = None
    geo_member: str = "location"
    temporal: TemporalQuery | None = None
    expand: Any = None  # the caller's term expansion (for q)


def parse_temporal(timerel: Any, time_at: Any, end_time_at: Any, timeproperty: Any) -> TemporalQuery | None:
    """A temporal query on registrations; None when there is none; BadRequestData when incomplete or invalid."""
    if timerel in (None, "") and time_at in (None, "") and end_time_at in (None, ""):
        return None
    if timerel not in TIMERELS:
        raise BadRequestData(f"timerel must be one of {', '.join(TIMERELS)}")
    start = parse_time(time_at, "timeAt")
    end = None
    if timerel == "between":
        end = parse_time(end_time_at, "endTimeAt")
        if end <= start:
            raise BadRequestData("endTimeAt must be after timeAt")
    prop = timeproperty or "observedAt"
    if prop not in TIME_PROPERTIES:
        raise BadRequestData(f"timeproperty must be one of {', '.join(TIME_PROPERTIES)}")
    return TemporalQuery(timerel, start, end, TIME_PROPERTIES[prop])


def geo_member(geoproperty: str | None, tm: TermMap) -> str:
    """The registration member a geo-query reads (location, observationSpace or operationSpace)."""
    iri = LOCATION if not geoproperty else tm.expand(check_name(geoproperty))
    for name, member_iri in GEO_MEMBERS.items():
        if iri in (member_iri, DEFAULT_VOCAB + name):
            return name
    raise BadRequestData("geoproperty must be location, observationSpace or operationSpace for registrations")


def parse_ids(text: str | None) -> list[str] | None:
    if not text:
        return None
    ids = [i.strip() for i in text.split(",") if i.strip()]
    if not all(is_uri(i) for i in ids):
        raise BadRequestData("id must be a comma-separated list of URIs")
    return ids


def check_pattern(pattern: str | None) -> str | None:
    if pattern:
        try:
            re.compile(pattern)
        except re.error:
            raise BadRequestData("idPattern is not a valid regular expression") from None
    return pattern or None


# --- matching ------------------------------------------------------------------------------------


def _entity_matches(info_entity: dict[str, str], selector: Selector) -> bool:
    if selector.types is not None and not query.type_matches(selector.types, [info_entity["type"]]):
        return False
    own_id, own_pattern = info_entity.get("id"), info_entity.get("idPattern")
    if selector.ids is not None:
        if own_id is not None and own_id not in selector.ids:
            return False
        if own_id is None and own_pattern is not None and not any(
                re.fullmatch(own_pattern, i) for i in selector.ids):
            return False
    return selector.id_pattern is None or own_id is None or re.fullmatch(selector.id_pattern, own_id) is not None


def _info_matches(info: dict[str, Any], selectors: list[Selector], attrs: list[str] | None) -> bool:
    if selectors and "entities" in info and not any(
            _entity_matches(e, s) for e in info["entities"] for s in selectors):
        return False
    names = info.get("propertyNames", []) + info.get("relationshipNames", [])
    return not attrs or not names or bool(set(attrs) & set(names))


def relevant_information(definition: dict[str, Any], wanted: RegistrationQuery) -> list[dict[str, Any]]:
    """The registration's RegistrationInfo items that answer ``wanted``'s entities and attributes (all of them
    when it asks for none): what a context source notification carries (clause 5.11.7)."""
    information = definition["members"]["information"]
    if not wanted.selectors and not wanted.attrs:
        return list(information)
    return [info for info in information if _info_matches(info, wanted.selectors, wanted.attrs)]


def _pseudo_entity(reg_id: str, definition: dict[str, Any]) -> dict[str, Any]:
    """The registration as an entity whose Properties are its context source properties (for ``q``)."""
    entity: dict[str, Any] = {"id": reg_id, "type": [TYPE]}
    for iri, value in definition["properties"].items():
        entity[iri] = [{"type": "Property", "value": value}]
    return entity


def _temporal_matches(temporal: TemporalQuery, members: dict[str, Any]) -> bool:
    interval = members.get(temporal.member)
    if interval is None:
        return False
    start = parse_time(interval["startAt"], "startAt")
    end = parse_time(interval["endAt"], "endAt") if "endAt" in interval else None
    if temporal.timerel == "before":
        return start < temporal.time_at
    if temporal.timerel == "after":
        return end is None or end > temporal.time_at
    assert temporal.end_time_at is not None
    return start < temporal.end_time_at and (end is None or end > temporal.time_at)


def matches(reg_id: str, definition: dict[str, Any], wanted: RegistrationQuery) -> bool:
    """Whether a stored registration (its ``definition``) answers ``wanted``."""
    members = definition["members"]
    if expired(definition):
        return False
    if (wanted.selectors or wanted.attrs) and not any(
            _info_matches(info, wanted.selectors, wanted.attrs) for info in members["information"]):
        return False
    if wanted.q is not None and not query_language.evaluate(wanted.q, _pseudo_entity(reg_id, definition),
                                                            wanted.expand):
        return False
    if wanted.geo_query is not None:
        geometry = members.get(wanted.geo_member)
        if geometry is None or not geo.matches(wanted.geo_query, geometry):
            return False
    return wanted.temporal is None or _temporal_matches(wanted.temporal, members)


def run(session: Session, tenant: str, wanted: RegistrationQuery) -> list[NgsiCSourceRegistration]:
    """The tenant's registrations that answer ``wanted``, oldest first."""
    rows = session.scalars(select(NgsiCSourceRegistration).where(NgsiCSourceRegistration.tenant == tenant)
                           .order_by(NgsiCSourceRegistration.id)).all()
    return [r for r in rows if matches(r.reg_id, r.definition, wanted)]
