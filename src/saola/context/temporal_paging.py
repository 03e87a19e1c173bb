"""Temporal pagination (ETSI GS CIM 009 V1.8.1 clause 6.3.10): bounding the instances of a temporal answer.

An attribute of one entity carries at most ``limit`` instances (``SAOLA_NGSI_LD_TEMPORAL_MAX_INSTANCES``, or
``lastN`` when smaller). When some attribute has more, the answer is partial (HTTP 206): without ``lastN`` the
page runs forwards from the least recent instance, with ``lastN`` backwards from the most recent one. Within an
entity every attribute is cut at the same instant, so the next page (``timerel=after`` the range end, or
``before`` it when going backwards) misses nothing; an attribute whose instances all fall on later pages is
shown as an empty array. The ``Content-Range`` header names that range:
``date-time <start>-<end>/<size>`` where ``size`` is ``lastN`` or ``*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saola.context.temporal import Instance, TemporalQuery
from saola.context.temporal_render import iso

History = dict[str, dict[str, list[Instance]]]


@dataclass
class TemporalPage:
    history: History
    content_range: str | None = None  # None: the answer is complete

    @property
    def status(self) -> int:
        return 200 if self.content_range is None else 206

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.content_range is None else {"Content-Range": self.content_range}


def _cut_entity(attrs: dict[str, list[Instance]], limit: int, backwards: bool) -> tuple[dict[str, list[Instance]],
                                                                                            bool]:
    """The instances of one entity's attributes on the first page (items are in time order); whether cut."""
    edge: datetime | None = None
    kept: dict[str, list[Instance]] = {}
    cut = False
    for iri, items in attrs.items():
        if len(items) <= limit:
            kept[iri] = items
            continue
        cut = True
        part = items[-limit:] if backwards else items[:limit]
        kept[iri] = part
        moment = part[0].at if backwards else part[-1].at
        if moment is not None:
            edge = moment if edge is None else max(edge, moment) if backwards else min(edge, moment)
    if not cut:
        return kept, False
    if edge is not None:
        kept = {iri: [i for i in items if i.at is not None and (i.at >= edge if backwards else i.at <= edge)]
                for iri, items in kept.items()}
    return kept, True  # an attribute cut away entirely stays, empty: it has instances on a later page


def paginate(found: History, tq: TemporalQuery, limit: int) -> TemporalPage:
    """The first page of ``found`` (``{entity id: {attribute IRI: instances}}``) under an instance limit."""
    backwards = tq.last_n is not None
    out: History = {}
    partial = False
    for entity_id, attrs in found.items():
        out[entity_id], cut = _cut_entity(attrs, limit, backwards)
        partial = partial or cut
    if not partial:
        return TemporalPage(found)
    moments = [i.at for attrs in out.values() for items in attrs.values() for i in items if i.at is not None]
    if not moments:
        return TemporalPage(out)
    if backwards:
        start = tq.end_time_at if tq.timerel == "between" else tq.time_at if tq.timerel == "before" else None
        first, last = start or max(moments), min(moments)
    else:
        start = tq.time_at if tq.timerel in ("after", "between") else None
        first, last = start or min(moments), max(moments)
    size = str(tq.last_n) if backwards else "*"
    return TemporalPage(out, f"date-time {iso(first)}-{iso(last)}/{size}")
