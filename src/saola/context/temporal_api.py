"""NGSI-LD Temporal API routes under /ngsi-ld/v1/temporal (ETSI GS CIM 009 V1.8.1 clauses 5.6.11-5.6.16, 5.7.3-5.7.4).

Thin handlers over :mod:`saola.context.temporal` (history, provision) and
:mod:`saola.context.temporal_render` (temporal, simplified and aggregated representations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from saola.context import query as query_service
from saola.context import store
from saola.context import temporal as service
from saola.context import temporal_provision as provision
from saola.context.api import BODY, Text, bool_param, count_header, flag_list, int_param, tenant_known
from saola.context.errors import BadRequestData, InvalidRequest, ResourceNotFound
from saola.context.http import (
    JsonBody,
    MethodNotAllowed,
    Reader,
    Writer,
    accepted,
    answer,
    existing_tenant,
    problem_response,
    query_context,
    term_map,
)
from saola.context.jsonld import TermMap
from saola.context.normalize import check_entity_id, check_name
from saola.context.temporal_paging import TemporalPage, paginate
from saola.context.temporal_render import render_temporal
from saola.core.deps import DbSession
from saola.core.session_route import SessionRoute

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["ngsi-ld"], route_class=SessionRoute)

MODES = ("normalized", "temporalValues", "aggregatedValues")
CORE_MEMBERS = ("id", "type", "scope")


def _tm(request: Request, session: Session, context: Any = None) -> TermMap:
    return term_map(request, session, context if context is not None else query_context(request))


def _mode(options: str | None, format: str | None) -> tuple[str, bool]:
    """The representation (normalized, temporalValues or aggregatedValues) and sysAttrs; ``format`` takes
    precedence over the representation named in ``options``."""
    flags = set(flag_list(options))
    unknown = flags - {"temporalValues", "aggregatedValues", "sysAttrs", "normalized"}
    if unknown:
        raise InvalidRequest(f"Unknown options: {', '.join(sorted(unknown))}")
    if format:
        if format not in (*MODES, "simplified"):
            raise InvalidRequest(f"Unknown format {format!r}")
        return ("temporalValues" if format == "simplified" else format), "sysAttrs" in flags
    modes = [m for m in MODES[1:] if m in flags]
    if len(modes) > 1:
        raise BadRequestData("temporalValues and aggregatedValues cannot be combined")
    return (modes[0] if modes else "normalized"), "sysAttrs" in flags


@dataclass
class Selection:
    """Which members and attribute instances an answer shows: attrs, pick/omit (clause 4.21), datasetId."""

    attrs: list[str]
    pick: set[str] | None = None
    omit: frozenset[str] = frozenset()
    datasets: set[str | None] | None = None

    @classmethod
    def parse(cls, tm: TermMap, *, attrs: str | None, pick: str | None = None, omit: str | None = None,
              dataset_id: str | None = None) -> Selection:
        if attrs and (pick or omit):
            raise BadRequestData("attrs cannot be combined with pick or omit")
        if pick and omit:
            raise BadRequestData("pick and omit cannot be used together")

        def names(text: str | None) -> set[str]:
            return {n if n in CORE_MEMBERS else tm.expand(check_name(n)) for n in flag_list(text)}

        datasets = {None if d == "@none" else d for d in flag_list(dataset_id)} if dataset_id else None
        return cls(flag_list(attrs), names(pick) if pick else None, frozenset(names(omit)), datasets)

    @property
    def projected(self) -> bool:
        return self.pick is not None or bool(self.omit)

    def apply(self, rendered: dict[str, Any], tm: TermMap) -> dict[str, Any]:
        if not self.projected:
            return rendered
        out = {}
        for key, value in rendered.items():
            name = key if key in CORE_MEMBERS or key in ("createdAt", "modifiedAt") else tm.expand(key)
            if (self.pick is None or name in self.pick) and name not in self.omit:
                out[key] = value
        return out


def _temporal_query(mode: str, *, timerel: Any, timeAt: Any, endTimeAt: Any, timeproperty: Any, lastN: Any,
                    aggrMethods: Any, aggrPeriodDuration: Any, options: str | None = None) -> service.TemporalQuery:
    if mode != "aggregatedValues" and "aggregatedValues" in flag_list(options):
        aggrMethods = aggrPeriodDuration = None  # format took precedence over options=aggregatedValues
    values = [timerel, timeAt, endTimeAt, timeproperty, aggrMethods, aggrPeriodDuration]
    if not all(v is None or isinstance(v, str) for v in values):
        raise BadRequestData("Temporal query members must be strings")
    if isinstance(lastN, bool) or (lastN is not None and not isinstance(lastN, (str, int))):
        raise BadRequestData("lastN must be an integer")
    return service.build_temporal_query(
        timerel=timerel or None, time_at=timeAt or None, end_time_at=endTimeAt or None,
        timeproperty=timeproperty or None, last_n=int_param(str(lastN), "lastN") if lastN is not None else None,
        aggregated=mode == "aggregatedValues", aggr_methods=flag_list(aggrMethods) or None,
        aggr_period=aggrPeriodDuration or None,
    )


def _render_page(request: Request, session: Session, tenant: str, entities: list[dict[str, Any]], tm: TermMap, *,
                 selection: Selection, tq: service.TemporalQuery, mode: str, sys_attrs: bool,
                 query: bool = True) -> tuple[list[dict[str, Any]], TemporalPage]:
    """The temporal representations of ``entities`` and the page they form (206 when instances were left out)."""
    iris = [tm.expand(check_name(a)) for a in selection.attrs] or None
    found = service.history(session, tenant=tenant, entity_ids=[e["id"] for e in entities], attrs=iris, tq=tq)
    if selection.datasets is not None:
        found = {eid: {iri: kept for iri, items in attrs.items()
                       if (kept := [i for i in items if i.dataset_id in selection.datasets])}
                 for eid, attrs in found.items()}
    page = TemporalPage(found) if mode == "aggregatedValues" else paginate(
        found, tq, request.app.state.settings.ngsi_ld_temporal_max_instances)
    body = [selection.apply(render_temporal(e, page.history.get(e["id"], {}), tm, tq=tq, mode=mode,
                                            sys_attrs=sys_attrs, attrs=iris), tm) for e in entities]
    if query and (tq.timerel is not None or selection.datasets is not None or selection.attrs):
        # a query answers the entities that have instances in the time range, attributes and datasets asked for
        with_instances = {eid for eid, attrs in found.items() if any(attrs.values())}
        body = [b for b, e in zip(body, entities, strict=True) if e["id"] in with_instances]
    return body, page


# --- consumption ---------------------------------------------------------------------------------------


@router.get("/entities", summary="Query the temporal evolution of entities")
def query_temporal(
    request: Request, caller: Reader, session: DbSession, type: Text = None, id: Text = None,
    idPattern: Text = None, attrs: Text = None, q: Text = None, scopeQ: Text = None, georel: Text = None,
    geometry: Text = None, coordinates: Text = None, geoproperty: Text = None, timerel: Text = None,
    timeAt: Text = None, endTimeAt: Text = None, timeproperty: Text = None, lastN: Text = None,
    options: Text = None, format: Text = None, aggrMethods: Text = None, aggrPeriodDuration: Text = None,
    limit: Text = None, offset: Text = None, count: Text = None, pick: Text = None, omit: Text = None,
    datasetId: Text = None, local: Text = None, csf: Text = None,
) -> Response:
    tm = _tm(request, session)
    selection = Selection.parse(tm, attrs=attrs, pick=pick, omit=omit, dataset_id=datasetId)
    # Saola holds no context source registrations: every query is local (local=true only lifts the need for a
    # type, attrs, q or geo-query filter), and csf, which selects registrations, changes nothing.
    is_local = bool_param(local, "local")
    kind = accepted(request, geo=False)
    mode, sys_attrs = _mode(options, format)
    tq = _temporal_query(mode, timerel=timerel, timeAt=timeAt, endTimeAt=endTimeAt, timeproperty=timeproperty,
                         lastN=lastN, aggrMethods=aggrMethods, aggrPeriodDuration=aggrPeriodDuration, options=options)
    query = query_service.build_query(
        tm, type=type, id=id, id_pattern=idPattern, attrs=flag_list(attrs) or None, q=q, scope_q=scopeQ,
        georel=georel, geometry=geometry, coordinates=coordinates, geoproperty=geoproperty,
        limit=int_param(limit, "limit"), offset=int_param(offset, "offset"), count=bool_param(count, "count"),
        max_limit=request.app.state.settings.ngsi_ld_max_limit, require_filter=not is_local,
    )
    if not tenant_known(session, caller):
        return answer([], kind=kind, context=tm.context, headers=count_header(query, 0))
    page, total = query_service.run_query(session, tenant=caller.tenant, query=query)
    body, paged = _render_page(request, session, caller.tenant, page, tm, selection=selection, tq=tq, mode=mode,
                               sys_attrs=sys_attrs)
    return answer(body, kind=kind, context=tm.context, status=paged.status,
                  headers={**count_header(query, total), **paged.headers})


@router.get("/entities/{entity_id}", summary="Retrieve the temporal evolution of an entity")
def retrieve_temporal(
    request: Request, entity_id: str, caller: Reader, session: DbSession, attrs: Text = None,
    timerel: Text = None, timeAt: Text = None, endTimeAt: Text = None, timeproperty: Text = None,
    lastN: Text = None, options: Text = None, format: Text = None, aggrMethods: Text = None,
    aggrPeriodDuration: Text = None, type: Text = None, pick: Text = None, omit: Text = None, datasetId: Text = None,
    local: Text = None,
) -> Response:
    tm = _tm(request, session)
    selection = Selection.parse(tm, attrs=attrs, pick=pick, omit=omit, dataset_id=datasetId)
    bool_param(local, "local")
    kind = accepted(request, geo=False)
    mode, sys_attrs = _mode(options, format)
    tq = _temporal_query(mode, timerel=timerel, timeAt=timeAt, endTimeAt=endTimeAt, timeproperty=timeproperty,
                         lastN=lastN, aggrMethods=aggrMethods, aggrPeriodDuration=aggrPeriodDuration, options=options)
    tenant = existing_tenant(session, caller)
    row = store.load(session, tenant, check_entity_id(entity_id))
    if row is None:
        raise ResourceNotFound(f"No entity {entity_id}")
    body, paged = _render_page(request, session, tenant, [row.data], tm, selection=selection, tq=tq, mode=mode,
                               sys_attrs=sys_attrs, query=False)
    if selection.projected and not body[0]:
        raise ResourceNotFound(f"Nothing of {entity_id} is left after pick/omit")
    if selection.attrs and not set(body[0]) - {"id", "type", "scope", "createdAt", "modifiedAt"}:
        raise ResourceNotFound(f"{entity_id} has no temporal evolution of {', '.join(selection.attrs)[:200]}")
    return answer(body[0], kind=kind, context=tm.context, status=paged.status, headers=paged.headers)


@router.post("/entityOperations/query", openapi_extra=BODY, summary="Query the temporal evolution of entities (POST)")
def batch_query_temporal(
    request: Request, caller: Reader, body: JsonBody, session: DbSession, limit: Text = None, offset: Text = None,
    count: Text = None, options: Text = None, format: Text = None,
) -> Response:
    data = body.data
    tm = _tm(request, session, body.context)
    kind = accepted(request, geo=False)
    mode, sys_attrs = _mode(options, format)
    query, attrs = query_service.build_query_from_body(
        tm, data, limit=int_param(limit, "limit"), offset=int_param(offset, "offset"),
        count=bool_param(count, "count"), max_limit=request.app.state.settings.ngsi_ld_max_limit,
    )
    temporal_q = data.get("temporalQ") or {}
    if not isinstance(temporal_q, dict):
        raise BadRequestData("temporalQ must be an object")
    tq = _temporal_query(mode, timerel=temporal_q.get("timerel"), timeAt=temporal_q.get("timeAt"),
                         endTimeAt=temporal_q.get("endTimeAt"), timeproperty=temporal_q.get("timeproperty"),
                         lastN=temporal_q.get("lastN"), aggrMethods=_methods(data.get("aggrMethods")),
                         aggrPeriodDuration=data.get("aggrPeriodDuration"), options=options)
    if not tenant_known(session, caller):
        return answer([], kind=kind, context=tm.context, headers=count_header(query, 0))
    page, total = query_service.run_query(session, tenant=caller.tenant, query=query)
    selection = Selection(attrs or [])
    rendered, paged = _render_page(request, session, caller.tenant, page, tm, selection=selection,
                                   tq=tq, mode=mode, sys_attrs=sys_attrs)
    return answer(rendered, kind=kind, context=tm.context, status=paged.status,
                  headers={**count_header(query, total), **paged.headers})


def _methods(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return value


# --- provision -----------------------------------------------------------------------------------------


@router.post("/entities", status_code=201, openapi_extra=BODY, summary="Create or update a temporal representation")
def upsert_temporal(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tm = _tm(request, session, body.context)
    created = provision.upsert_temporal(session, tenant=caller.tenant, body=body.data, tm=tm)
    if not created:
        return Response(status_code=204)
    entity_id = body.data.get("id", body.data.get("@id"))
    return Response(status_code=201,
                    headers={"Location": f"/ngsi-ld/v1/temporal/entities/{quote(entity_id, safe=':')}"})


@router.post("/entities/{entity_id}/attrs", status_code=204, openapi_extra=BODY,
             summary="Add attribute instances to a temporal representation")
def append_temporal(request: Request, entity_id: str, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session, body.context)
    provision.append_temporal(session, tenant=tenant, entity_id=entity_id, body=body.data, tm=tm)
    return Response(status_code=204)


@router.delete("/entities/{entity_id}", status_code=204, summary="Delete a temporal representation")
def delete_temporal(entity_id: str, caller: Writer, session: DbSession) -> Response:
    tenant = existing_tenant(session, caller)
    provision.delete_temporal(session, tenant=tenant, entity_id=entity_id)
    return Response(status_code=204)


@router.delete("/entities/{entity_id}/attrs/{attr_id}", status_code=204,
               summary="Delete an attribute from a temporal representation")
def delete_temporal_attribute(
    request: Request, entity_id: str, attr_id: str, caller: Writer, session: DbSession, datasetId: Text = None,
    deleteAll: Text = None,
) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session)
    provision.delete_temporal_attribute(session, tenant=tenant, entity_id=entity_id, attr=attr_id, tm=tm,
                                      dataset_id=datasetId or None, delete_all=bool_param(deleteAll, "deleteAll"))
    return Response(status_code=204)


@router.patch("/entities/{entity_id}/attrs/{attr_id}/{instance_id}", status_code=204, openapi_extra=BODY,
              summary="Modify an attribute instance of a temporal representation")
def modify_instance(
    request: Request, entity_id: str, attr_id: str, instance_id: str, caller: Writer, body: JsonBody,
    session: DbSession,
) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session, body.context)
    provision.modify_instance(session, tenant=tenant, entity_id=entity_id, attr=attr_id, instance_id=instance_id,
                            body=body.data, tm=tm)
    return Response(status_code=204)


@router.delete("/entities/{entity_id}/attrs/{attr_id}/{instance_id}", status_code=204,
               summary="Delete an attribute instance of a temporal representation")
def delete_instance(
    request: Request, entity_id: str, attr_id: str, instance_id: str, caller: Writer, session: DbSession,
) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session)
    provision.delete_instance(session, tenant=tenant, entity_id=entity_id, attr=attr_id, instance_id=instance_id,
                            tm=tm)
    return Response(status_code=204)


@router.api_route("/entities/{entity_id}/attrs//{instance_id}", methods=["PATCH", "DELETE"], include_in_schema=False)
def empty_attribute_name(request: Request, entity_id: str, instance_id: str, caller: Writer) -> Response:
    """``.../attrs//{instanceId}``: the attribute name is missing from the path (otherwise a bare 404 of routing).

    Read as the resource tree of clause 6.2 reads it, ``attrs/{x}`` is the attribute of a temporal entity, which
    answers only DELETE: a PATCH gets 405 (with ``Allow``), a DELETE 400 BadRequestData, since deleting an attribute
    instance needs the attribute's name (clause 5.6.15).
    """
    if request.method == "PATCH":
        return problem_response(MethodNotAllowed("PATCH needs .../attrs/{attrId}/{instanceId}: the attribute name "
                                                 "is missing from the path"), {"Allow": "DELETE"})
    raise BadRequestData("The attribute name is missing from the path (.../attrs/{attrId}/{instanceId})")
