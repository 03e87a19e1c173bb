"""The Temporal API's queries and retention (clauses 5.7.3, 5.7.4, 4.11): parameters, history, purge.

``ngsi_attribute_history`` is the source of temporal truth: every attribute instance written through
the normal API is recorded there by :mod:`saola.context.store` (deletions as marker rows), and temporal
provision (:mod:`saola.context.temporal_provision`) writes to it directly. This module reads it under a
temporal query (timerel, timeproperty including deletedAt, lastN) and purges it by retention.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.orm import Session

from saola.context import store
from saola.context.errors import BadRequestData
from saola.context.models import NgsiAttributeHistory, NgsiEntity, NgsiEntityType
from saola.context.normalize import now_iso
from saola.context.representation import SCOPE, VALUE_MEMBER, AttributeInstance

TIMERELS = ("before", "after", "between")
TIME_PROPERTIES = ("observedAt", "modifiedAt", "createdAt", "deletedAt")
NULL = "urn:ngsi-ld:null"
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
    if timeproperty in ("modifiedAt", "deletedAt"):
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
    if tq.timeproperty == "deletedAt":
        return _deletions(session, tenant=tenant, entity_ids=entity_ids, attrs=attrs, tq=tq)
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
    _order(out, tq)
    return out


def _deletions(
    session: Session, *, tenant: str, entity_ids: list[str], attrs: list[str] | None, tq: TemporalQuery,
) -> dict[str, dict[str, list[Instance]]]:
    """``timeproperty=deletedAt``: one instance per deletion, its value the NGSI-LD Null of the attribute's type
    (the type of the instance it deleted) and ``deletedAt`` the time of the deletion."""
    out: dict[str, dict[str, list[Instance]]] = defaultdict(lambda: defaultdict(list))
    h = NgsiAttributeHistory
    conditions: list[ColumnElement[bool]] = [h.tenant == tenant, h.entity_id.in_(entity_ids)]
    if attrs:
        conditions.append(h.attr_iri.in_(attrs))
    kinds: dict[tuple[str, str, str | None], str] = {}
    for row in session.scalars(select(h).where(*conditions).order_by(h.id).limit(MAX_HISTORY_ROWS)):
        key = (row.entity_id, row.attr_iri, row.dataset_id)
        if not row.deleted:
            kinds[key] = (row.instance or {}).get("type", "Property")
            continue
        moment = _as_utc(row.modified_at)
        if not tq.matches(moment):
            continue
        kind = kinds.get(key, "Property")
        null: Any = {"@none": NULL} if kind == "LanguageProperty" else [NULL] if kind.startswith("List") else NULL
        if row.attr_iri == SCOPE:  # a deleted scope is no scope: the empty list (scope is not an Attribute)
            null = []
        data: AttributeInstance = {"type": kind, VALUE_MEMBER.get(kind, "value"): null}
        if row.dataset_id is not None:
            data["datasetId"] = row.dataset_id
        data["deletedAt"] = now_iso(moment)
        out[row.entity_id][row.attr_iri].append(Instance(row.attr_iri, row.dataset_id, row.instance_id, moment, data))
    _order(out, tq)
    return out


def _order(out: dict[str, dict[str, list[Instance]]], tq: TemporalQuery) -> None:
    """Sort each attribute's instances in time order and keep the last N when lastN is asked for."""
    floor = datetime.min.replace(tzinfo=UTC)
    for attrs_of in out.values():
        for iri, items in attrs_of.items():
            items.sort(key=lambda i: i.at or floor)
            if tq.last_n is not None:
                attrs_of[iri] = items[-tq.last_n:]


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
