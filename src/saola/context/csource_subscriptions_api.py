"""Routes of the context source registration subscriptions (clause 5.11): /ngsi-ld/v1/csourceSubscriptions."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from saola.context import csource_subscriptions as service
from saola.context.api import BODY, Text, bool_param, int_param
from saola.context.errors import BadRequestData, TooManyResults
from saola.context.http import JsonBody, Reader, Writer, accepted, answer, query_context, term_map
from saola.core.deps import DbSession

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"])
PATH = "/ngsi-ld/v1/csourceSubscriptions"


@router.post("/csourceSubscriptions", status_code=201, openapi_extra=BODY,
             summary="Create a context source registration subscription")
def create_csource_subscription(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tm = term_map(request, session, body.context)
    row = service.create(session, tenant=caller.tenant, body=body.data, context=body.context, tm=tm)
    service.subscription_written(session, request, row)
    return Response(status_code=201, headers={"Location": f"{PATH}/{quote(row.sub_id, safe=':')}"})


def _page_links(limit: int, offset: int, total: int) -> list[str]:
    """rel="prev" and rel="next" links to the neighbouring pages (clause 5.5.9)."""
    links = []
    if offset > 0 and limit > 0:
        links.append(f'<{PATH}?limit={limit}&offset={max(0, offset - limit)}>; rel="prev"; type="application/ld+json"')
    if limit > 0 and offset + limit < total:
        links.append(f'<{PATH}?limit={limit}&offset={offset + limit}>; rel="next"; type="application/ld+json"')
    return links


@router.get("/csourceSubscriptions", summary="Query context source registration subscriptions")
def query_csource_subscriptions(
    request: Request, caller: Reader, session: DbSession, limit: Text = None, offset: Text = None, count: Text = None,
) -> Response:
    kind = accepted(request, geo=False)
    size = int_param(limit, "limit")
    size = 20 if size is None else size
    start = int_param(offset, "offset") or 0
    if size < 0 or start < 0:
        raise BadRequestData("limit and offset must not be negative")
    if size > request.app.state.settings.ngsi_ld_max_limit:
        raise TooManyResults("limit is larger than the broker allows")
    rows, total = service.page(session, caller.tenant, size, start)
    headers = {"NGSILD-Results-Count": str(total)} if bool_param(count, "count") else {}
    context = query_context(request)
    tm = term_map(request, session, context)
    response = answer([service.render(r, tm) for r in rows], kind=kind, context=context, headers=headers)
    links = _page_links(size, start, total)
    if links:
        response.headers["Link"] = ", ".join([*filter(None, [response.headers.get("Link")]), *links])
    return response


@router.get("/csourceSubscriptions/{subscription_id}", summary="Retrieve a context source registration subscription")
def retrieve_csource_subscription(request: Request, subscription_id: str, caller: Reader,
                                  session: DbSession) -> Response:
    kind = accepted(request, geo=False)
    row = service.get(session, caller.tenant, subscription_id)
    context = query_context(request)
    return answer(service.render(row, term_map(request, session, context)), kind=kind, context=context)


@router.patch("/csourceSubscriptions/{subscription_id}", status_code=204, openapi_extra=BODY,
              summary="Update a context source registration subscription")
def update_csource_subscription(request: Request, subscription_id: str, caller: Writer, body: JsonBody,
                                session: DbSession) -> Response:
    row = service.get(session, caller.tenant, subscription_id)
    stored = row.definition.get("context")
    service.update(session, row, body.data, term_map(request, session, stored if stored is not None else body.context))
    service.subscription_written(session, request, row)
    return Response(status_code=204)


@router.delete("/csourceSubscriptions/{subscription_id}", status_code=204,
               summary="Delete a context source registration subscription")
def delete_csource_subscription(subscription_id: str, caller: Writer, session: DbSession) -> Response:
    session.delete(service.get(session, caller.tenant, subscription_id))
    return Response(status_code=204)
