"""NGSI-LD subscription routes (clause 6.10, 6.11): /ngsi-ld/v1/subscriptions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from saola.context import subscriptions as service
from saola.context.api import BODY, Text, bool_param, int_param
from saola.context.errors import BadRequestData, TooManyResults
from saola.context.http import JsonBody, Reader, Writer, accepted, answer, query_context, term_map
from saola.core.deps import DbSession

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"])


def _check_jsonld_context(request: Request, session: Session, data: Any) -> None:
    """A jsonldContext that is a URI must be retrievable now (504 LdContextNotAvailable), not at notification time;
    one that is not a URI is refused by the service (400)."""
    url = data.get("jsonldContext") if isinstance(data, dict) else None
    if service.is_uri(url):
        term_map(request, session, url)


@router.post("/subscriptions", status_code=201, openapi_extra=BODY, summary="Create a subscription")
def create_subscription(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tm = term_map(request, session, body.context)
    _check_jsonld_context(request, session, body.data)
    sub_id = service.create(session, tenant=caller.tenant, body=body.data, context=body.context, tm=tm)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/subscriptions/{quote(sub_id, safe=':')}"})


@router.get("/subscriptions", summary="Query subscriptions")
def query_subscriptions(
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


def _page_links(limit: int, offset: int, total: int) -> list[str]:
    """rel="prev" and rel="next" links to the neighbouring pages (clause 5.5.9)."""
    links = []
    if offset > 0 and limit > 0:
        links.append(f'</ngsi-ld/v1/subscriptions?limit={limit}&offset={max(0, offset - limit)}>; rel="prev"; '
                     'type="application/ld+json"')
    if limit > 0 and offset + limit < total:
        links.append(f'</ngsi-ld/v1/subscriptions?limit={limit}&offset={offset + limit}>; rel="next"; '
                     'type="application/ld+json"')
    return links


@router.get("/subscriptions/{subscription_id}", summary="Retrieve a subscription")
def retrieve_subscription(request: Request, subscription_id: str, caller: Reader, session: DbSession) -> Response:
    kind = accepted(request, geo=False)
    row = service.get(session, caller.tenant, subscription_id)
    context = query_context(request)
    return answer(service.render(row, term_map(request, session, context)), kind=kind, context=context)


@router.patch("/subscriptions/{subscription_id}", status_code=204, openapi_extra=BODY,
              summary="Update a subscription")
def update_subscription(
    request: Request, subscription_id: str, caller: Writer, body: JsonBody, session: DbSession,
) -> Response:
    row = service.get(session, caller.tenant, subscription_id)
    stored = row.definition.get("context")
    tm = term_map(request, session, stored if stored is not None else body.context)
    _check_jsonld_context(request, session, body.data)
    service.update(session, tenant=caller.tenant, sub_id=subscription_id, patch=body.data, tm=tm)
    return Response(status_code=204)


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Delete a subscription")
def delete_subscription(subscription_id: str, caller: Writer, session: DbSession) -> Response:
    service.delete(session, caller.tenant, subscription_id)
    return Response(status_code=204)
