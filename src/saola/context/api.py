"""NGSI-LD API routes under /ngsi-ld/v1 (ETSI GS CIM 009 V1.8.1): entities and their attributes.

Thin handlers: read the request (body, @context, options), call a service, render. Batch
operations, types/attributes and @context routes are in :mod:`saola.context.api_ops`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from saola.context import attrs as attrs_service
from saola.context import entities as entity_service
from saola.context import query as query_service
from saola.context.errors import BadRequestData, ResourceNotFound
from saola.context.http import (
    GEO_JSON,
    JsonBody,
    Reader,
    Writer,
    accepted,
    answer,
    existing_tenant,
    query_context,
    term_map,
)
from saola.context.jsonld import TermMap
from saola.context.normalize import check_name
from saola.context.render import render_entity, render_feature
from saola.context.representation import LOCATION
from saola.core.deps import DbSession

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"])

BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}}, "application/ld+json": {"schema": {"type": "object"}}}}}
Text = Annotated[str | None, Query()]


def flag_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def int_param(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequestData(f"{name} must be an integer") from None
    if abs(number) > 10**12:
        raise BadRequestData(f"{name} is out of range")
    return number


def bool_param(value: str | None, name: str) -> bool:
    if value in (None, "", "false"):
        return False
    if value == "true":
        return True
    raise BadRequestData(f"{name} must be true or false")


class Rendering:
    """How to render entities for one request: format, sysAttrs, projection and media type."""

    def __init__(self, request: Request, tm: TermMap, *, options: str | None, format: str | None,
                 attrs: str | None, pick: str | None, omit: str | None, geometry_property: str | None,
                 lang: str | None = None) -> None:
        self.lang = lang or None
        flags = set(flag_list(options))
        unknown = flags - {"keyValues", "concise", "normalized", "sysAttrs", "noOverwrite"}
        if unknown:
            raise BadRequestData(f"Unknown options: {', '.join(sorted(unknown))}")
        self.fmt = "keyValues" if "keyValues" in flags else "concise" if "concise" in flags else "normalized"
        if format:
            if format not in ("keyValues", "concise", "normalized", "simplified"):
                raise BadRequestData(f"Unknown format {format!r}")
            self.fmt = "keyValues" if format == "simplified" else format
        self.sys_attrs = "sysAttrs" in flags
        self.tm = tm
        picked = flag_list(pick) + flag_list(attrs)
        self.pick = {p if p in ("id", "type", "scope") else tm.expand(check_name(p)) for p in picked} or None
        if self.pick is not None and attrs and not pick:
            self.pick |= {"id", "type", "scope"}
        self.omit = {p if p in ("id", "type", "scope") else tm.expand(check_name(p)) for p in flag_list(omit)}
        if pick and omit:
            raise BadRequestData("pick and omit cannot be used together")
        self.kind = accepted(request)
        self.geometry = tm.expand(check_name(geometry_property)) if geometry_property else LOCATION

    def one(self, entity: dict[str, Any]) -> dict[str, Any]:
        if self.kind == GEO_JSON:
            return render_feature(entity, self.tm, fmt=self.fmt, sys_attrs=self.sys_attrs, pick=self.pick,
                                  omit=self.omit, geometry_property=self.geometry, lang=self.lang)
        return render_entity(entity, self.tm, fmt=self.fmt, sys_attrs=self.sys_attrs, pick=self.pick, omit=self.omit,
                             lang=self.lang)

    def many(self, entities: list[dict[str, Any]]) -> Any:
        rendered = [self.one(e) for e in entities]
        if self.kind == GEO_JSON:
            return {"type": "FeatureCollection", "features": rendered}
        return rendered


def _tm(request: Request, session: Session, context: Any = None) -> TermMap:
    return term_map(request, session, context if context is not None else query_context(request))


def _update_answer(result: attrs_service.UpdateResult) -> Response:
    if result.not_updated:
        return answer(result.body(), kind="application/json", context=None, status=207)
    return Response(status_code=204)


# --- entities ------------------------------------------------------------------------------------


@router.post("/entities", status_code=201, openapi_extra=BODY, summary="Create an entity")
def create_entity(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tm = _tm(request, session, body.context)
    entity_id = entity_service.create_entity(session, tenant=caller.tenant, body=body.data, tm=tm)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/entities/{quote(entity_id, safe=':')}"})


@router.get("/entities", summary="Query entities")
def query_entities(
    request: Request, caller: Reader, session: DbSession, type: Text = None, id: Text = None,
    idPattern: Text = None, attrs: Text = None, pick: Text = None, omit: Text = None, q: Text = None,
    scopeQ: Text = None, georel: Text = None, geometry: Text = None, coordinates: Text = None,
    geoproperty: Text = None, geometryProperty: Text = None, options: Text = None, format: Text = None,
    limit: Text = None, offset: Text = None, count: Text = None, lang: Text = None,
) -> Response:
    tm = _tm(request, session)
    rendering = Rendering(request, tm, options=options, format=format, attrs=attrs, pick=pick, omit=omit,
                          geometry_property=geometryProperty, lang=lang)
    query = query_service.build_query(
        tm, type=type, id=id, id_pattern=idPattern, attrs=flag_list(attrs) or None, q=q, scope_q=scopeQ,
        georel=georel, geometry=geometry, coordinates=coordinates, geoproperty=geoproperty,
        limit=int_param(limit, "limit"), offset=int_param(offset, "offset"), count=bool_param(count, "count"),
        max_limit=request.app.state.settings.ngsi_ld_max_limit,
    )
    if not tenant_known(session, caller):
        return answer(rendering.many([]), kind=rendering.kind, context=tm.context, headers=count_header(query, 0))
    page, total = query_service.run_query(session, tenant=caller.tenant, query=query)
    return answer(rendering.many(page), kind=rendering.kind, context=tm.context, headers=count_header(query, total))


def tenant_known(session: Session, caller: Any) -> bool:
    try:
        existing_tenant(session, caller)
    except ResourceNotFound:
        if caller.tenant:
            raise
        return False
    return True


def count_header(query: query_service.EntityQuery, total: int | None) -> dict[str, str]:
    return {"NGSILD-Results-Count": str(total)} if query.count and total is not None else {}


@router.get("/entities/{entity_id}", summary="Retrieve an entity")
def retrieve_entity(
    request: Request, entity_id: str, caller: Reader, session: DbSession, attrs: Text = None, pick: Text = None,
    omit: Text = None, options: Text = None, format: Text = None, geometryProperty: Text = None,
    lang: Text = None, type: Text = None,
) -> Response:
    tm = _tm(request, session)
    rendering = Rendering(request, tm, options=options, format=format, attrs=attrs, pick=pick, omit=omit,
                          geometry_property=geometryProperty, lang=lang)
    tenant = existing_tenant(session, caller)
    entity = entity_service.retrieve_entity(session, tenant=tenant, entity_id=entity_id)
    wanted = [tm.expand(check_name(a)) for a in flag_list(attrs)]
    if wanted and not any(a in entity for a in wanted):
        raise ResourceNotFound("The entity has none of the requested attributes")
    return answer(rendering.one(entity), kind=rendering.kind, context=tm.context)


@router.delete("/entities/{entity_id}", status_code=204, summary="Delete an entity")
def delete_entity(entity_id: str, caller: Writer, session: DbSession) -> Response:
    tenant = existing_tenant(session, caller)
    entity_service.delete_entity(session, tenant=tenant, entity_id=entity_id)
    return Response(status_code=204)


@router.put("/entities/{entity_id}", status_code=204, openapi_extra=BODY, summary="Replace an entity")
def replace_entity(request: Request, entity_id: str, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session, body.context)
    entity_service.replace_entity(session, tenant=tenant, entity_id=entity_id, body=body.data, tm=tm)
    return Response(status_code=204)


@router.patch("/entities/{entity_id}", status_code=204, openapi_extra=BODY, summary="Merge into an entity")
def merge_entity(request: Request, entity_id: str, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session, body.context)
    entity_service.merge_entity(session, tenant=tenant, entity_id=entity_id, body=body.data, tm=tm)
    return Response(status_code=204)


# --- attributes ----------------------------------------------------------------------------------


@router.post("/entities/{entity_id}/attrs", status_code=204, openapi_extra=BODY, summary="Append attributes")
def append_attributes(
    request: Request, entity_id: str, caller: Writer, body: JsonBody, session: DbSession, options: Text = None,
) -> Response:
    tenant = existing_tenant(session, caller)
    flags = set(flag_list(options))
    if flags - {"noOverwrite"}:
        raise BadRequestData("Only options=noOverwrite is allowed here")
    tm = _tm(request, session, body.context)
    result = attrs_service.append_attributes(session, tenant=tenant, entity_id=entity_id, body=body.data, tm=tm,
                                             no_overwrite="noOverwrite" in flags)
    return _update_answer(result)


@router.patch("/entities/{entity_id}/attrs", status_code=204, openapi_extra=BODY, summary="Update attributes")
def update_attributes(request: Request, entity_id: str, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session, body.context)
    result = attrs_service.update_attributes(session, tenant=tenant, entity_id=entity_id, body=body.data, tm=tm)
    return _update_answer(result)


@router.patch("/entities/{entity_id}/attrs/{attr_id}", status_code=204, openapi_extra=BODY,
              summary="Partially update an attribute")
def partial_update(
    request: Request, entity_id: str, attr_id: str, caller: Writer, body: JsonBody, session: DbSession,
) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session, body.context)
    attrs_service.partial_update(session, tenant=tenant, entity_id=entity_id, attr=attr_id, body=body.data, tm=tm)
    return Response(status_code=204)


@router.put("/entities/{entity_id}/attrs/{attr_id}", status_code=204, openapi_extra=BODY,
            summary="Replace an attribute")
def replace_attribute(
    request: Request, entity_id: str, attr_id: str, caller: Writer, body: JsonBody, session: DbSession,
) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session, body.context)
    attrs_service.replace_attribute(session, tenant=tenant, entity_id=entity_id, attr=attr_id, body=body.data,
                                    tm=tm)
    return Response(status_code=204)


@router.delete("/entities/{entity_id}/attrs/{attr_id}", status_code=204, summary="Delete an attribute")
def delete_attribute(
    request: Request, entity_id: str, attr_id: str, caller: Writer, session: DbSession, datasetId: Text = None,
    deleteAll: Text = None,
) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session)
    attrs_service.delete_attribute(session, tenant=tenant, entity_id=entity_id, attr=attr_id, tm=tm,
                                   dataset_id=datasetId or None, delete_all=bool_param(deleteAll, "deleteAll"))
    return Response(status_code=204)
