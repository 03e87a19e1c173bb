"""Routes of the context source registry (clauses 6.8, 6.9): /ngsi-ld/v1/csourceRegistrations.

Create, retrieve, query (discovery), merge-patch and delete registrations. Each write also queues the
notifications of the matching registration subscriptions (:mod:`saola.context.csource_subscriptions`).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response

from saola.context import csource_discovery as discovery
from saola.context import csource_registrations as service
from saola.context import csource_subscriptions as subscriptions
from saola.context import geo, query, query_language
from saola.context.api import BODY, Text, bool_param, flag_list
from saola.context.errors import BadRequestData, InvalidRequest
from saola.context.http import JsonBody, Reader, Writer, accepted, answer, query_context, term_map
from saola.context.jsonld import TermMap
from saola.context.subscription_listing import page_window
from saola.core.deps import DbSession
from saola.core.session_route import SessionRoute

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"], route_class=SessionRoute)
PATH = "/ngsi-ld/v1/csourceRegistrations"


def _sys_attrs(options: str | None) -> bool:
    flags = set(flag_list(options))
    if flags - {"sysAttrs"}:
        raise InvalidRequest("The only option of registrations is sysAttrs")
    return bool(flags)


@router.post("/csourceRegistrations", status_code=201, openapi_extra=BODY,
             summary="Create a context source registration")
def create_registration(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tm = term_map(request, session, body.context)
    row = service.create(session, tenant=caller.tenant, body=body.data, context=body.context, tm=tm)
    subscriptions.registration_changed(session, request, caller.tenant, row.reg_id, None, row.definition)
    return Response(status_code=201, headers={"Location": f"{PATH}/{quote(row.reg_id, safe=':')}"})


def _query(tm: TermMap, *, id: str | None, type: str | None, idPattern: str | None,
           attrs: str | None, q: str | None, csf: str | None, georel: str | None, geometry: str | None,
           coordinates: str | None, geoproperty: str | None, timeproperty: str | None, timerel: str | None,
           timeAt: str | None, endTimeAt: str | None) -> discovery.RegistrationQuery:
    wanted = discovery.RegistrationQuery(expand=tm.expand)
    ids = discovery.parse_ids(id)
    pattern = discovery.check_pattern(idPattern)
    types = query.parse_type_expression(type, tm) if type else None
    if types is not None or ids is not None or pattern is not None:
        wanted.selectors = [discovery.Selector(types, ids, pattern)]
    if attrs:
        wanted.attrs = [tm.expand(a) for a in flag_list(attrs)]
    conditions = [c for c in (q, csf) if c]
    if conditions:
        nodes = [query_language.parse_q(c) for c in conditions]
        for node in nodes:
            query_language.compile_q(node, tm.expand)
        wanted.q = nodes[0] if len(nodes) == 1 else query_language.parse_q(f"({q});({csf})")
    wanted.geo_query = geo.parse_geoquery(georel, geometry, coordinates, None)
    if wanted.geo_query is not None:
        wanted.geo_member = discovery.geo_member(geoproperty, tm)
    wanted.temporal = discovery.parse_temporal(timerel, timeAt, endTimeAt, timeproperty)
    if not (wanted.selectors or wanted.attrs or wanted.q is not None or wanted.geo_query or wanted.temporal):
        raise BadRequestData("A registration query needs at least one of type, id, idPattern, attrs, q, csf, "
                             "a geo-query or a temporal query")
    return wanted


def _page_links(request: Request, limit: int, offset: int, total: int) -> list[str]:
    """rel="prev"/"next" links keeping the request's other parameters (clause 5.5.9)."""
    others = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]

    def link(start: int, rel: str) -> str:
        text = urlencode([*others, ("limit", str(limit)), ("offset", str(start))], safe=",:;()|")
        return f'<{PATH}?{text}>; rel="{rel}"; type="application/ld+json"'

    links = []
    if offset > 0 and limit > 0:
        links.append(link(max(0, offset - limit), "prev"))
    if limit > 0 and offset + limit < total:
        links.append(link(offset + limit, "next"))
    return links


@router.get("/csourceRegistrations", summary="Query context source registrations (discovery)")
def query_registrations(
    request: Request, caller: Reader, session: DbSession, id: Text = None, type: Text = None,
    idPattern: Text = None, attrs: Text = None, q: Text = None, csf: Text = None, georel: Text = None,
    geometry: Text = None, coordinates: Text = None, geoproperty: Text = None, timeproperty: Text = None,
    timerel: Text = None, timeAt: Text = None, endTimeAt: Text = None, limit: Text = None, offset: Text = None,
    count: Text = None, options: Text = None,
) -> Response:
    kind = accepted(request, geo=False)
    size, start = page_window(request, limit, offset)
    sys_attrs = _sys_attrs(options)
    context = query_context(request)
    tm = term_map(request, session, context)
    wanted = _query(tm, id=id, type=type, idPattern=idPattern, attrs=attrs, q=q, csf=csf, georel=georel,
                    geometry=geometry, coordinates=coordinates, geoproperty=geoproperty, timeproperty=timeproperty,
                    timerel=timerel, timeAt=timeAt, endTimeAt=endTimeAt)
    rows = discovery.run(session, caller.tenant, wanted)
    headers = {"NGSILD-Results-Count": str(len(rows))} if bool_param(count, "count") else {}
    body = [service.render(r, tm, sys_attrs=sys_attrs) for r in rows[start:start + size]]
    response = answer(body, kind=kind, context=context, headers=headers)
    links = _page_links(request, size, start, len(rows))
    if links:
        response.headers["Link"] = ", ".join([*filter(None, [response.headers.get("Link")]), *links])
    return response


@router.get("/csourceRegistrations/{registration_id}", summary="Retrieve a context source registration")
def retrieve_registration(request: Request, registration_id: str, caller: Reader, session: DbSession,
                          options: Text = None) -> Response:
    kind = accepted(request, geo=False)
    sys_attrs = _sys_attrs(options)
    row = service.get(session, caller.tenant, registration_id)
    context = query_context(request)
    return answer(service.render(row, term_map(request, session, context), sys_attrs=sys_attrs), kind=kind,
                  context=context)


@router.patch("/csourceRegistrations/{registration_id}", status_code=204, openapi_extra=BODY,
              summary="Update a context source registration")
def update_registration(request: Request, registration_id: str, caller: Writer, body: JsonBody,
                        session: DbSession) -> Response:
    row = service.get(session, caller.tenant, registration_id)
    before = row.definition
    context = body.context if body.context is not None else before.get("context")
    service.update(session, row, body.data, term_map(request, session, context))
    subscriptions.registration_changed(session, request, caller.tenant, row.reg_id, before, row.definition)
    return Response(status_code=204)


@router.delete("/csourceRegistrations/{registration_id}", status_code=204,
               summary="Delete a context source registration")
def delete_registration(request: Request, registration_id: str, caller: Writer, session: DbSession) -> Response:
    row = service.get(session, caller.tenant, registration_id)
    subscriptions.registration_changed(session, request, caller.tenant, row.reg_id, row.definition, None)
    session.delete(row)
    return Response(status_code=204)
