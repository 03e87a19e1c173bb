"""Temporal representations of an entity (clause 4.5.7-4.5.9, 4.5.19): normalized, temporalValues, aggregated."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from saola.context.errors import BadRequestData
from saola.context.jsonld import TermMap
from saola.context.normalize import now_iso
from saola.context.render import _compact_value, _instance
from saola.context.representation import VALUE_MEMBER, StoredEntity, value_of
from saola.context.temporal import Instance, TemporalQuery

# The member holding the list of [value, time] pairs in the simplified representation, per attribute type.
VALUES_MEMBER = {
    "Property": "values", "GeoProperty": "values", "Relationship": "objects", "LanguageProperty": "languageMaps",
    "VocabProperty": "vocabs", "ListProperty": "valueLists", "ListRelationship": "objectLists",
    "JsonProperty": "jsons",
}
def iso(moment: datetime) -> str:
    """A UTC dateTime, with milliseconds only when it has a fraction of a second (as the instances are written)."""
    if moment.microsecond:
        return now_iso(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _by_dataset(items: list[Instance]) -> dict[str | None, list[Instance]]:
    groups: dict[str | None, list[Instance]] = defaultdict(list)
    for item in items:
        groups[item.dataset_id].append(item)
    return dict(sorted(groups.items(), key=lambda kv: kv[0] is not None))


def _one_or_many(items: list[dict[str, Any]]) -> Any:
    return items[0] if len(items) == 1 else items


def _normalized(items: list[Instance], tm: TermMap, sys_attrs: bool) -> Any:
    out = []
    for item in items:
        rendered = _instance(item.data, tm, "normalized", sys_attrs)
        rendered["instanceId"] = item.instance_id
        out.append(rendered)
    return out  # an attribute of the temporal representation is always an array of instances (clause 4.5.7)


def _simple_value(kind: str, data: dict[str, Any], tm: TermMap) -> Any:
    """A value of the simplified representation: plain for (Geo)Property and Relationship, else wrapped in
    its member (``{"languageMap": ...}``, ``{"json": ...}``...), as in the conformance suite's expectations."""
    value = _compact_value(kind, value_of(data), tm)
    if kind in ("Property", "GeoProperty", "Relationship"):
        return value
    return {VALUE_MEMBER.get(kind, "value"): value}


def _time_text(item: Instance, timeproperty: str) -> str | None:
    """The instance's own timestamp text (as written), else the recorded time."""
    text = item.data.get(timeproperty)
    if isinstance(text, str):
        return text
    return iso(item.at) if item.at else None


def _simplified(items: list[Instance], tm: TermMap, timeproperty: str) -> Any:
    out = []
    for dataset, group in _by_dataset(items).items():
        kind = group[0].data.get("type", "Property")
        member = VALUES_MEMBER.get(kind, "values")
        pairs = [[_simple_value(kind, i.data, tm), _time_text(i, timeproperty)] for i in group]
        block: dict[str, Any] = {"type": kind, member: pairs}
        if dataset is not None:
            block["datasetId"] = dataset
        out.append(block)
    return _one_or_many(out)


# --- aggregation ---------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _finite(result: Any) -> Any:
    """A result that JSON can carry: an overflow to infinity is dropped."""
    return None if isinstance(result, float) and not math.isfinite(result) else result


def aggregate(method: str, values: list[Any]) -> Any:
    """One aggregation function (clause 4.5.19) over the values of one period; None when it does not apply."""
    if method == "totalCount":
        return len(values)
    if method == "distinctCount":
        return len({json.dumps(v, sort_keys=True, default=str) for v in values})
    numbers = [n for n in (_number(v) for v in values) if n is not None]
    if method in ("min", "max"):
        if numbers:
            return min(numbers) if method == "min" else max(numbers)
        texts = [v for v in values if isinstance(v, str)]
        return (min(texts) if method == "min" else max(texts)) if texts else None
    if not numbers:
        return None
    try:
        return _numeric(method, numbers)
    except OverflowError:
        return None


def _numeric(method: str, numbers: list[float]) -> float:
    if method == "sum":
        return math.fsum(numbers)
    if method == "sumsq":
        return math.fsum(n * n for n in numbers)
    mean = math.fsum(numbers) / len(numbers)
    if method == "avg":
        return mean
    # stddev: the population standard deviation of the period's values
    return math.sqrt(math.fsum((n - mean) ** 2 for n in numbers) / len(numbers))


def _bounds(items: list[Instance], tq: TemporalQuery) -> tuple[datetime, datetime] | None:
    """The requested time range: from timeAt (after, between) or the first instance, to endTimeAt, timeAt
    (before) or just after the last instance."""
    moments = [i.at for i in items if i.at is not None]
    if not moments:
        return None
    start = tq.time_at if tq.timerel in ("after", "between") and tq.time_at else min(moments)
    if tq.timerel == "between" and tq.end_time_at:
        return start, tq.end_time_at
    if tq.timerel == "before" and tq.time_at:
        return start, tq.time_at
    return start, max(moments) + timedelta(milliseconds=1)


def _buckets(items: list[Instance], tq: TemporalQuery) -> dict[tuple[datetime, datetime], list[Any]]:
    """The values of each non-empty period: periods of aggrPeriodDuration from the start, else the whole range."""
    bounds = _bounds(items, tq)
    out: dict[tuple[datetime, datetime], list[Any]] = {}
    if bounds is None:
        return out
    start, end = bounds
    step = tq.aggr_period
    for item in items:
        if item.at is None or not start <= item.at < end:
            continue
        if step is None:
            period = (start, end)
        else:
            index = (item.at - start) // step
            period = (start + index * step, start + (index + 1) * step)
        out.setdefault(period, []).append(value_of(item.data))
    return out


def _aggregated(items: list[Instance], tq: TemporalQuery) -> Any:
    out = []
    for dataset, group in _by_dataset(items).items():
        kind = group[0].data.get("type", "Property")
        block: dict[str, Any] = {"type": kind}
        if dataset is not None:
            block["datasetId"] = dataset
        try:
            buckets = _buckets(group, tq)
        except OverflowError:
            raise BadRequestData("The aggregation periods fall outside the supported dates") from None
        for method in tq.aggr_methods:
            triples = []
            for (first, last), values in sorted(buckets.items()):
                result = _finite(aggregate(method, values))
                if result is not None:
                    triples.append([result, iso(first), iso(last)])
            block[method] = triples
        out.append(block)
    return _one_or_many(out)


# --- the entity ----------------------------------------------------------------------------------------


def render_temporal(
    entity: StoredEntity, history: dict[str, list[Instance]], tm: TermMap, *, tq: TemporalQuery, mode: str,
    sys_attrs: bool = False, attrs: list[str] | None = None,
) -> dict[str, Any]:
    """The temporal representation of one entity; ``mode`` is normalized, temporalValues or aggregatedValues."""
    out: dict[str, Any] = {"id": entity["id"]}
    types = [tm.compact(t) for t in entity.get("type", [])]
    if types:
        out["type"] = types[0] if len(types) == 1 else types
    if "scope" in entity:
        out["scope"] = entity["scope"][0] if len(entity["scope"]) == 1 else entity["scope"]
    if sys_attrs and mode == "normalized":
        for key in ("createdAt", "modifiedAt"):
            if key in entity:
                out[key] = entity[key]
    for iri, items in history.items():
        if attrs and iri not in attrs:
            continue
        if not items:  # cut away by temporal pagination: on a later page
            if mode == "normalized":
                out[tm.compact(iri)] = []
            continue
        if mode == "temporalValues":
            out[tm.compact(iri)] = _simplified(items, tm, tq.timeproperty)
        elif mode == "aggregatedValues":
            out[tm.compact(iri)] = _aggregated(items, tq)
        else:
            out[tm.compact(iri)] = _normalized(items, tm, sys_attrs)
    return out
