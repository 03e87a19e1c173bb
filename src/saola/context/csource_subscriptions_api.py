"""Routes of the context source registration subscriptions (clause 5.11): /ngsi-ld/v1/csourceSubscriptions."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from saola.context import csource_subscriptions as service
from saola.context.api import BODY, Text
from saola.context.http import JsonBody, Reader, Writer, accepted, answer, query_context, term_map
from saola.context.subscription_listing import paged_answer
from saola.core.deps import DbSession
from saola.core.session_route import SessionRoute

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"], route_class=SessionRoute)
PATH = "/ngsi-ld/v1/csourceSubscriptions"


@router.post("/csourceSubscriptions", status_code=201, openapi_extra=BODY,
             summary="Create a context source registration subscription")
def create_csource_subscription(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tm = term_map(request, session, body.context)
    row = service.create(session, tenant=caller.tenant, body=body.data, context=body.context, tm=tm)
    service.subscription_written(session, request, row)
    return Response(status_code=201, headers={"Location": f"{PATH}/{quote(row.sub_id, safe=':')}"})


@router.get("/csourceSubscriptions", summary="Query context source registration subscriptions")
def query_csource_subscriptions(
    request: Request, caller: Reader, session: DbSession, limit: Text = None, offset: Text = None, count: Text = None,
) -> Response:
    return paged_answer(request, session, caller.tenant, path=PATH, page=service.page,
                        render=service.render, limit=limit, offset=offset, count=count)


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
