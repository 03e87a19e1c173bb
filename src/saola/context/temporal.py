"""The Temporal API's use cases (clauses 5.6.11-5.6.16, 5.7.3, 5.7.4): history queries, provision, retention.

``ngsi_attribute_history`` is the source of temporal truth: every attribute instance written through
the normal API is recorded there by :mod:`saola.context.store`, and temporal provision writes to it
directly. Temporal provision creates the current entity (with the latest instance of each attribute)
when it does not exist yet, so that the entity can be found by queries; afterwards it only adds,
changes or removes history rows and never rewrites the current entity.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, insert, or_, select
from sqlalchemy.orm import Session

from saola.context import store
from saola.context.entities import new_entity
from saola.context.errors import BadRequestData, InvalidRequest, ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.models import NgsiAttributeHistory, NgsiEntity, NgsiEntityType
from saola.context.normalize import ENTITY_MEMBERS, check_entity_id, check_name, now_iso, parse_instance
from saola.context.representation import AttributeInstance
from saola.core.db import utcnow

TIMERELS = ("before", "after", "between")
TIME_PROPERTIES = ("observedAt", "modifiedAt", "createdAt")
AGGR_METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
_DURATION = re.compile(r"P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                       r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")
MAX_HISTORY_ROWS = 100_000


# --- parameters --------------------------------------------------------------------------------------


def parse_instant(text: Any, name: str) -> datetime:
    """A dateTime parameter (UTC when no offset is given); 400 BadRequestData when it is not one."""
    if not isinstance(text, str) or not _DATETIME.fullmatch(text.strip()):
        raise BadRequestData(f"{name} must be an ISO 8601 dateTime")
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequestData(f"{name} must be an ISO 8601 dateTime") from None


def parse_duration(text: str | None) -> timedelta | None:
    """An ISO 8601 duration (a year counts 365 days, a month 30 days); None for none or zero."""
    if not text:
        return None
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groups()) or text.strip().endswith("T"):
        raise BadRequestData("aggrPeriodDuration must be an ISO 8601 duration such as PT1H or P1D")
    years, months, weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    try:
        span = timedelta(days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes,
                         seconds=seconds)
    except OverflowError:
        raise BadRequestData("aggrPeriodDuration is too long") from None
    return span if span.total_seconds() > 0 else None


@dataclass
class TemporalQuery:
    timerel: str | None = None
    time_at: datetime | None = None
    end_time_at: datetime | None = None
    timeproperty: str = "observedAt"
    last_n: int | None = None
    aggr_methods: list[str] = field(default_factory=list)
    aggr_period: timedelta | None = None

    def matches(self, moment: datetime | None) -> bool:
        if self.timerel is None:
            return True
        if moment is None:
            return False
        assert self.time_at is not None
        if self.timerel == "before":
            return moment < self.time_at
        if self.timerel == "after":
            return moment > self.time_at
        assert self.end_time_at is not None
        return self.time_at <= moment < self.end_time_at


def build_temporal_query(
    *, timerel: str | None, time_at: str | None, end_time_at: str | None, timeproperty: str | None,
    last_n: int | None, aggregated: bool = False, aggr_methods: list[str] | None = None,
    aggr_period: str | None = None,
) -> TemporalQuery:
    """Check the temporal query parameters (clause 4.11); 400 BadRequestData on a wrong combination."""
    tq = TemporalQuery(timeproperty=timeproperty or "observedAt", last_n=last_n)
    if tq.timeproperty not in TIME_PROPERTIES:
        raise BadRequestData(f"timeproperty must be one of {', '.join(TIME_PROPERTIES)}")
    if timerel:
        if timerel not in TIMERELS:
            raise BadRequestData("timerel must be before, after or between")
        if not time_at:
            raise BadRequestData("timerel needs timeAt")
        tq.timerel = timerel
        tq.time_at = parse_instant(time_at, "timeAt")
        if timerel == "between":
            if not end_time_at:
                raise BadRequestData("timerel=between needs endTimeAt")
            tq.end_time_at = parse_instant(end_time_at, "endTimeAt")
            if tq.end_time_at <= tq.time_at:
                raise BadRequestData("endTimeAt must be after timeAt")
        elif end_time_at:
            raise BadRequestData("endTimeAt is only allowed with timerel=between")
    elif time_at or end_time_at:
        raise BadRequestData("timeAt and endTimeAt need timerel")
    if last_n is not None and last_n < 1:
        raise BadRequestData("lastN must be a positive integer")
    if aggregated:
        methods = aggr_methods or []
        unknown = [m for m in methods if m not in AGGR_METHODS]
        if not methods or unknown:
            raise BadRequestData(f"aggrMethods must list some of {', '.join(AGGR_METHODS)}")
        tq.aggr_methods = list(dict.fromkeys(methods))
        tq.aggr_period = parse_duration(aggr_period)
    elif aggr_methods or aggr_period:
        raise BadRequestData("aggrMethods and aggrPeriodDuration need options=aggregatedValues")
    return tq


# --- reading history ---------------------------------------------------------------------------------


@dataclass
class Instance:
    """One recorded attribute instance and the time the temporal query looks at."""

    attr_iri: str
    dataset_id: str | None
    instance_id: str
    at: datetime | None
    data: AttributeInstance


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _moment(row: NgsiAttributeHistory, timeproperty: str) -> datetime | None:
    if timeproperty == "observedAt":
        return _as_utc(row.observed_at)
    if timeproperty == "modifiedAt":
        return _as_utc(row.modified_at)
    created = (row.instance or {}).get("createdAt")
    return store._parse_time(created) or _as_utc(row.modified_at)


def history(
    session: Session, *, tenant: str, entity_ids: list[str], attrs: list[str] | None, tq: TemporalQuery,
) -> dict[str, dict[str, list[Instance]]]:
    """``{entity id: {attribute IRI: [instances in time order]}}`` under the temporal query."""
    out: dict[str, dict[str, list[Instance]]] = defaultdict(lambda: defaultdict(list))
    if not entity_ids:
        return out
    h = NgsiAttributeHistory
    conditions: list[ColumnElement[bool]] = [h.tenant == tenant, h.entity_id.in_(entity_ids), h.deleted.is_(False)]
    if attrs:
        conditions.append(h.attr_iri.in_(attrs))
    column = {"observedAt": h.observed_at, "modifiedAt": h.modified_at}.get(tq.timeproperty)
    if column is not None and tq.timerel is not None:
        assert tq.time_at is not None
        if tq.timerel == "before":
            conditions.append(column < tq.time_at)
        elif tq.timerel == "after":
            conditions.append(column > tq.time_at)
        else:
            conditions += [column >= tq.time_at, column < tq.end_time_at]
    rows = session.scalars(select(h).where(*conditions).order_by(h.id).limit(MAX_HISTORY_ROWS))
    for row in rows:
        moment = _moment(row, tq.timeproperty)
        if not tq.matches(moment) or (tq.timeproperty == "observedAt" and moment is None):
            continue
        out[row.entity_id][row.attr_iri].append(
            Instance(row.attr_iri, row.dataset_id, row.instance_id, moment, row.instance or {}))
    floor = datetime.min.replace(tzinfo=UTC)
    for attrs_of in out.values():
        for iri, items in attrs_of.items():
            items.sort(key=lambda i: i.at or floor)
            if tq.last_n is not None:
                attrs_of[iri] = items[-tq.last_n:]
    return out


# --- provision --------------------------------------------------------------------------------------


def _parse_instances(body: dict[str, Any], tm: TermMap) -> dict[str, list[AttributeInstance]]:
    now = now_iso()
    out: dict[str, list[AttributeInstance]] = {}
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        iri = tm.expand(check_name(name))
        if iri in out:
            raise BadRequestData(f"Attribute {name!r} is given twice")
        raw = value if isinstance(value, list) else [value]
        if not raw:
            raise BadRequestData(f"Attribute {name!r} has no instances")
        instances = []
        for item in raw:
            inst = parse_instance(iri, item, tm, top=True)
            inst["createdAt"] = inst["modifiedAt"] = now
            instances.append(inst)
        out[iri] = instances
    return out


def _history_row(tenant: str, entity_id: str, iri: str, inst: AttributeInstance) -> dict[str, Any]:
    return {"tenant": tenant, "entity_id": entity_id, "attr_iri": iri, "dataset_id": inst.get("datasetId"),
            "instance_id": f"urn:ngsi-ld:{uuid.uuid4()}", "observed_at": store._parse_time(
                inst.get("observedAt")), "modified_at": utcnow(), "instance": inst, "deleted": False}


def _append(session: Session, tenant: str, entity_id: str, instances: dict[str, list[AttributeInstance]]) -> None:
    rows = [_history_row(tenant, entity_id, iri, inst) for iri, items in instances.items() for inst in items]
    if rows:
        session.execute(insert(NgsiAttributeHistory), rows)


def upsert_temporal(session: Session, *, tenant: str, body: Any, tm: TermMap) -> bool:
    """Create or update the temporal representation of an entity; True when the entity was created."""
    if not isinstance(body, dict):
        raise InvalidRequest("The entity must be a JSON object")
    entity_id = check_entity_id(body.get("id", body.get("@id")))
    if body.get("type", body.get("@type")) is None:
        raise BadRequestData("The entity has no type")
    instances = _parse_instances(body, tm)
    if store.load(session, tenant, entity_id, for_update=True) is not None:
        _append(session, tenant, entity_id, instances)
        return False
    latest: dict[str, Any] = {}
    older: dict[str, list[AttributeInstance]] = {}
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        iri = tm.expand(check_name(name))
        items = instances[iri]
        raw = value if isinstance(value, list) else [value]
        by_dataset: dict[Any, int] = {}
        for index, inst in enumerate(items):
            best = by_dataset.get(inst.get("datasetId"))
            if best is None or str(inst.get("observedAt", "")) >= str(items[best].get("observedAt", "")):
                by_dataset[inst.get("datasetId")] = index
        latest[name] = [raw[i] for i in by_dataset.values()]
        older[iri] = [inst for i, inst in enumerate(items) if i not in by_dataset.values()]
    current = {k: v for k, v in body.items() if k in ENTITY_MEMBERS}
    current.update({k: v[0] if len(v) == 1 else v for k, v in latest.items()})
    store.insert_entity(session, tenant, new_entity(current, tm))
    _append(session, tenant, entity_id, older)
    return True


def _has_history(session: Session, tenant: str, entity_id: str) -> bool:
    h = NgsiAttributeHistory
    return session.scalar(select(h.id).where(h.tenant == tenant, h.entity_id == entity_id).limit(1)) is not None


def append_temporal(session: Session, *, tenant: str, entity_id: str, body: Any, tm: TermMap) -> None:
    check_entity_id(entity_id)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object")
    if store.load(session, tenant, entity_id) is None and not _has_history(session, tenant, entity_id):
        raise ResourceNotFound(f"No entity {entity_id}")
    _append(session, tenant, entity_id, _parse_instances(body, tm))


def delete_temporal(session: Session, *, tenant: str, entity_id: str) -> None:
    check_entity_id(entity_id)
    row = store.load(session, tenant, entity_id, for_update=True)
    if row is None and not _has_history(session, tenant, entity_id):
        raise ResourceNotFound(f"No entity {entity_id}")
    if row is not None:
        store.remove_entity(session, row)
    h = NgsiAttributeHistory
    session.execute(delete(h).where(h.tenant == tenant, h.entity_id == entity_id))


def delete_temporal_attribute(
    session: Session, *, tenant: str, entity_id: str, attr: str, tm: TermMap, dataset_id: str | None,
    delete_all: bool,
) -> None:
    check_entity_id(entity_id)
    h = NgsiAttributeHistory
    conditions = [h.tenant == tenant, h.entity_id == entity_id, h.attr_iri == tm.expand(check_name(attr))]
    if not delete_all:
        conditions.append(h.dataset_id == dataset_id if dataset_id else h.dataset_id.is_(None))
    if session.scalar(select(h.id).where(*conditions).limit(1)) is None:
        raise ResourceNotFound(f"No temporal evolution of {attr!r} in {entity_id}")
    session.execute(delete(h).where(*conditions))


def _instance_row(session: Session, tenant: str, entity_id: str, iri: str, instance_id: str) -> NgsiAttributeHistory:
    h = NgsiAttributeHistory
    row = session.scalars(select(h).where(h.tenant == tenant, h.entity_id == entity_id, h.attr_iri == iri,
                                          h.instance_id == instance_id, h.deleted.is_(False))).first()
    if row is None:
        raise ResourceNotFound(f"No instance {instance_id} of that attribute in {entity_id}")
    return row


def modify_instance(session: Session, *, tenant: str, entity_id: str, attr: str, instance_id: str, body: Any,
                    tm: TermMap) -> None:
    """Replace one recorded instance (clause 5.6.15): the body holds the attribute as its only member."""
    check_entity_id(entity_id)
    iri = tm.expand(check_name(attr))
    row = _instance_row(session, tenant, entity_id, iri, instance_id)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object")
    fragment = {k: v for k, v in body.items() if k not in ENTITY_MEMBERS}
    if len(fragment) != 1 or tm.expand(check_name(next(iter(fragment)))) != iri:
        raise BadRequestData(f"The body must hold exactly the attribute {attr!r}")
    inst = parse_instance(iri, next(iter(fragment.values())), tm, top=True)
    inst["createdAt"] = (row.instance or {}).get("createdAt", now_iso())
    inst["modifiedAt"] = now_iso()
    row.instance = inst
    row.dataset_id = inst.get("datasetId")
    row.observed_at = store._parse_time(inst.get("observedAt"))
    row.modified_at = utcnow()
    session.flush()


def delete_instance(session: Session, *, tenant: str, entity_id: str, attr: str, instance_id: str,
                    tm: TermMap) -> None:
    check_entity_id(entity_id)
    row = _instance_row(session, tenant, entity_id, tm.expand(check_name(attr)), instance_id)
    session.delete(row)
    session.flush()


# --- retention ---------------------------------------------------------------------------------------


def parse_retention_overrides(text: str) -> dict[str, int]:
    """``TYPE=DAYS,...`` → ``{type: days}``; a type is a short name (last IRI segment) or a full IRI."""
    out: dict[str, int] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, days = item.strip().rpartition("=")
        if not sep or not name.strip() or not days.strip().isdigit():
            raise ValueError(f"Invalid retention override {item.strip()!r}: expected TYPE=DAYS")
        out[name.strip()] = int(days)
    return out


def _type_condition(names: list[str]) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    for name in names:
        clauses.append(NgsiEntityType.type_iri == name)
        if ":" not in name:
            clauses += [NgsiEntityType.type_iri.endswith("/" + name, autoescape=True),
                        NgsiEntityType.type_iri.endswith("#" + name, autoescape=True)]
    return or_(*clauses)


def _has_type(names: list[str]) -> ColumnElement[bool]:
    h = NgsiAttributeHistory
    return exists(select(NgsiEntityType.id).join(NgsiEntity, NgsiEntity.id == NgsiEntityType.entity_pk).where(
        NgsiEntity.tenant == h.tenant, NgsiEntity.entity_id == h.entity_id, _type_condition(names)))


def _older_than(cutoff: datetime) -> ColumnElement[bool]:
    h = NgsiAttributeHistory
    return or_(and_(h.observed_at.is_not(None), h.observed_at < cutoff),
               and_(h.observed_at.is_(None), h.modified_at < cutoff))


def purge_history(session: Session, *, now: datetime, days: int = 0, per_type: dict[str, int] | None = None) -> int:
    """Delete history rows older than the retention (``days`` for all, ``per_type`` overrides; 0 = keep).

    A row's age is its observedAt, else when it was recorded. Per-type overrides apply to entities that
    currently exist with that type; rows of deleted entities follow the default. Returns the rows deleted.
    """
    h = NgsiAttributeHistory
    overrides = per_type or {}
    deleted = 0
    for name, keep in overrides.items():
        if keep > 0:
            result = session.execute(delete(h).where(_older_than(now - timedelta(days=keep)), _has_type([name]))
                                     .execution_options(synchronize_session=False))
            deleted += result.rowcount or 0  # type: ignore[attr-defined]
    if days > 0:
        conditions = [_older_than(now - timedelta(days=days))]
        if overrides:
            conditions.append(~_has_type(list(overrides)))
        result = session.execute(delete(h).where(*conditions).execution_options(synchronize_session=False))
        deleted += result.rowcount or 0  # type: ignore[attr-defined]
    return deleted
