"""NGSI-LD subscription routes (clause 6.10, 6.11): /ngsi-ld/v1/subscriptions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from saola.context import subscriptions as service
from saola.context.api import BODY, Text
from saola.context.http import JsonBody, Reader, Writer, accepted, answer, query_context, term_map
from saola.context.subscription_listing import paged_answer
from saola.core.deps import DbSession
from saola.core.session_route import SessionRoute

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"], route_class=SessionRoute)


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
    return paged_answer(request, session, caller.tenant, path="/ngsi-ld/v1/subscriptions", page=service.page,
                        render=service.render, limit=limit, offset=offset, count=count)


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
