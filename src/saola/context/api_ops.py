"""NGSI-LD routes beyond single entities: batch operations, types, attributes, @contexts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from saola.context import batch
from saola.context import contexts_service as contexts
from saola.context import query as query_service
from saola.context import types as types_service
from saola.context.api import (
    BODY,
    Rendering,
    bool_param,
    count_header,
    flag_list,
    int_param,
    loader_for,
    tenant_known,
)
from saola.context.errors import BadRequestData
from saola.context.http import (
    JSON,
    JSON_LD,
    ContextDocumentBody,
    JsonBody,
    Reader,
    Writer,
    accepted,
    answer,
    existing_tenant,
    forget_context,
    query_context,
)
from saola.context.http import term_map as make_term_map
from saola.context.jsonld import TermMap
from saola.core.deps import DbSession
from saola.core.session_route import SessionRoute

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"], route_class=SessionRoute)
Text = Annotated[str | None, Query()]


def _batch_answer(result: batch.BatchResult, *, created: bool = False) -> Response:
    """207 with successes and errors when any entity failed; else 201 with the ids (create) or 204."""
    if result.errors:
        return answer(result.body(), kind=JSON, context=None, status=207)
    if created:
        return answer(result.success, kind=JSON, context=None, status=201)
    return Response(status_code=204)


def _tm(request: Request, session: Session, context: Any) -> TermMap:
    return make_term_map(request, session, context)


def _entity_tms(request: Request, session: Session, body: Any) -> Callable[[Any], TermMap]:
    """The term map of each entity of a batch: its own @context (ld+json), else the request's.

    A @context that cannot be loaded fails that entity only (in the 207 answer)."""
    def of(item: Any) -> TermMap:
        has_context = isinstance(item, dict) and item.get("@context") is not None
        if body.kind == JSON_LD:
            if not has_context:
                raise BadRequestData("With application/ld+json each entity needs an @context")
            return make_term_map(request, session, item["@context"])
        if isinstance(item, dict) and "@context" in item:
            raise BadRequestData("With application/json the @context goes in a Link header, not in the body")
        return make_term_map(request, session, body.context)
    return of


@router.post("/entityOperations/create", openapi_extra=BODY, summary="Batch create entities")
def batch_create(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    result = batch.batch_create(session, tenant=caller.tenant, body=body.data, tm=_entity_tms(request, session, body))
    return _batch_answer(result, created=True)


@router.post("/entityOperations/upsert", openapi_extra=BODY, summary="Batch upsert entities")
def batch_upsert(
    request: Request, caller: Writer, body: JsonBody, session: DbSession, options: Text = None,
) -> Response:
    flags = set(flag_list(options))
    if flags - {"replace", "update"}:
        raise BadRequestData("options must be replace or update")
    result = batch.batch_upsert(session, tenant=caller.tenant, body=body.data, tm=_entity_tms(request, session, body),
                                replace="update" not in flags)
    if result.errors:
        return answer(result.body(), kind=JSON, context=None, status=207)
    if result.created:
        return answer(result.created, kind=JSON, context=None, status=201)
    return Response(status_code=204)


@router.post("/entityOperations/update", openapi_extra=BODY, summary="Batch update entities")
def batch_update(
    request: Request, caller: Writer, body: JsonBody, session: DbSession, options: Text = None,
) -> Response:
    flags = set(flag_list(options))
    if flags - {"noOverwrite"}:
        raise BadRequestData("Only options=noOverwrite is allowed here")
    result = batch.batch_update(session, tenant=existing_tenant(session, caller), body=body.data,
                                tm=_entity_tms(request, session, body), no_overwrite="noOverwrite" in flags)
    return _batch_answer(result)


@router.post("/entityOperations/merge", openapi_extra=BODY, summary="Batch merge entities")
def batch_merge(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    result = batch.batch_merge(session, tenant=existing_tenant(session, caller), body=body.data,
                               tm=_entity_tms(request, session, body))
    return _batch_answer(result)


@router.post("/entityOperations/delete", openapi_extra=BODY, summary="Batch delete entities")
def batch_delete(caller: Writer, body: JsonBody, session: DbSession) -> Response:
    result = batch.batch_delete(session, tenant=existing_tenant(session, caller), body=body.data)
    return _batch_answer(result)


@router.post("/entityOperations/query", openapi_extra=BODY, summary="Query entities (POST)")
def batch_query(
    request: Request, caller: Reader, body: JsonBody, session: DbSession, limit: Text = None, offset: Text = None,
    count: Text = None, options: Text = None, format: Text = None, local: Text = None,
) -> Response:
    tm = _tm(request, session, body.context)
    bool_param(local, "local")
    query, attrs = query_service.build_query_from_body(
        tm, body.data, limit=int_param(limit, "limit"), offset=int_param(offset, "offset"),
        count=bool_param(count, "count"), max_limit=request.app.state.settings.ngsi_ld_max_limit,
    )
    data = body.data
    extra = {key: data.get(key) for key in ("pick", "omit", "join", "joinLevel", "datasetId", "lang",
                                             "geometryProperty")}
    extra = {key: (",".join(map(str, v)) if isinstance(v, list) else None if v is None else str(v))
             for key, v in extra.items()}
    rendering = Rendering(request, tm, options=options, format=format, attrs=",".join(attrs) if attrs else None,
                          pick=extra["pick"], omit=extra["omit"], geometry_property=extra["geometryProperty"],
                          lang=extra["lang"], join=extra["join"], join_level=extra["joinLevel"],
                          dataset_id=extra["datasetId"])
    if not tenant_known(session, caller):
        return answer(rendering.many([]), kind=rendering.kind, context=tm.context, headers=count_header(query, 0))
    rendering.loader = loader_for(session, caller.tenant)
    page, total = query_service.run_query(session, tenant=caller.tenant, query=query)
    return answer(rendering.many(page), kind=rendering.kind, context=tm.context, headers=count_header(query, total))


# --- types and attributes ------------------------------------------------------------------------


@router.get("/types/", include_in_schema=False)  # before /types/{type_name:path}, which would take ""
@router.get("/types", summary="Entity types")
def list_types(request: Request, caller: Reader, session: DbSession, details: Text = None) -> Response:
    kind = accepted(request, geo=False)
    tm = _tm(request, session, _link(request))
    body = types_service.list_types(session, tenant=existing_tenant(session, caller), tm=tm,
                                    details=bool_param(details, "details"))
    return answer(body, kind=kind, context=tm.context)


@router.get("/types/{type_name:path}", summary="An entity type")
def type_info(request: Request, type_name: str, caller: Reader, session: DbSession) -> Response:
    kind = accepted(request, geo=False)
    tm = _tm(request, session, _link(request))
    body = types_service.type_info(session, tenant=existing_tenant(session, caller), tm=tm, type_name=type_name)
    return answer(body, kind=kind, context=tm.context)


@router.get("/attributes/", include_in_schema=False)
@router.get("/attributes", summary="Attributes")
def list_attributes(request: Request, caller: Reader, session: DbSession, details: Text = None) -> Response:
    kind = accepted(request, geo=False)
    tm = _tm(request, session, _link(request))
    body = types_service.list_attributes(session, tenant=existing_tenant(session, caller), tm=tm,
                                         details=bool_param(details, "details"))
    return answer(body, kind=kind, context=tm.context)


@router.get("/attributes/{attr_name:path}", summary="An attribute")
def attribute_info(request: Request, attr_name: str, caller: Reader, session: DbSession) -> Response:
    kind = accepted(request, geo=False)
    tm = _tm(request, session, _link(request))
    body = types_service.attribute_info(session, tenant=existing_tenant(session, caller), tm=tm,
                                        attr_name=attr_name)
    return answer(body, kind=kind, context=tm.context)


def _link(request: Request) -> Any:
    return query_context(request)


# --- @contexts -----------------------------------------------------------------------------------


@router.post("/jsonldContexts", status_code=201, openapi_extra=BODY, summary="Register an @context")
def register_context(caller: Writer, body: ContextDocumentBody, session: DbSession) -> Response:
    context_id = contexts.register(session, body=body.data)
    return Response(status_code=201, headers={"Location": contexts.PATH + context_id})


@router.get("/jsonldContexts", summary="List @contexts")
def list_contexts(
    request: Request, caller: Reader, session: DbSession, details: Text = None, kind: Text = None,
) -> Response:
    body = contexts.listing(session, base=str(request.base_url), details=bool_param(details, "details"), kind=kind)
    return Response(content=_dumps(body), media_type=JSON)


@router.get("/jsonldContexts/{context_id}", summary="Serve an @context")
def get_context(context_id: str, caller: Reader, session: DbSession) -> Response:
    return Response(content=_dumps(contexts.get(session, context_id=context_id)), media_type="application/ld+json")


@router.delete("/jsonldContexts/{context_id}", status_code=204, summary="Delete an @context")
def delete_context(request: Request, context_id: str, caller: Writer, session: DbSession) -> Response:
    row = contexts.delete(session, context_id=context_id)
    forget_context(request, contexts.url_of(row, str(request.base_url)))
    return Response(status_code=204)


def _dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()
