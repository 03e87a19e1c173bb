"""NGSI-LD API routes under /ngsi-ld/v1 (ETSI GS CIM 009 V1.8.1): entities and their attributes.

Thin handlers: read the request (body, @context, options), call a service, render. Batch
operations, types/attributes and @context routes are in :mod:`saola.context.api_ops`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from saola.context import attrs as attrs_service
from saola.context import entities as entity_service
from saola.context import query as query_service
from saola.context import store
from saola.context.errors import BadRequestData, InvalidRequest, ResourceNotFound
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
from saola.context.linked import Projection, expand_projection, parse_join, parse_projection, relationship_targets
from saola.context.normalize import check_name
from saola.context.render import render_entity, render_feature
from saola.context.representation import ENTITY_CORE_KEYS, LOCATION, attributes, is_attribute_key
from saola.core.deps import DbSession
from saola.core.session_route import SessionRoute

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"], route_class=SessionRoute)

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


OPTIONS = {"keyValues", "simplified", "concise", "normalized", "sysAttrs", "noOverwrite"}
FORMATS = {"keyValues": "keyValues", "simplified": "keyValues", "concise": "concise", "normalized": "normalized"}
Loader = Callable[[list[str]], dict[str, dict[str, Any]]]


class Rendering:
    """How to render entities for one request: format, sysAttrs, projection, joins and media type."""

    def __init__(self, request: Request, tm: TermMap, *, options: str | None, format: str | None,
                 attrs: str | None, pick: str | None, omit: str | None, geometry_property: str | None,
                 lang: str | None = None, join: str | None = None, join_level: str | None = None,
                 dataset_id: str | None = None) -> None:
        self.lang = lang or None
        flags = set(flag_list(options))
        unknown = flags - OPTIONS
        if unknown:
            raise InvalidRequest(f"Unknown options: {', '.join(sorted(unknown))}")
        self.fmt = "keyValues" if flags & {"keyValues", "simplified"} else "concise" if "concise" in flags \
            else "normalized"
        if format:
            if format not in FORMATS:
                raise InvalidRequest(f"Unknown format {format!r}")
            self.fmt = FORMATS[format]
        self.sys_attrs = "sysAttrs" in flags
        self.tm = tm
        if attrs and (pick or omit):
            raise BadRequestData("attrs cannot be combined with pick or omit")
        if pick and omit:
            raise BadRequestData("pick and omit cannot be used together")
        expand = tm.expand
        self.pick_tree: Projection | None = None
        if pick:
            self.pick_tree = expand_projection(parse_projection(pick, "pick"), expand)
        elif attrs:
            self.pick_tree = {**{expand(check_name(a)): None for a in flag_list(attrs)},
                              "id": None, "type": None, "scope": None}
        self.omit_tree: Projection = expand_projection(parse_projection(omit, "omit"), expand) if omit else {}
        self.pick = set(self.pick_tree) if self.pick_tree is not None else None
        # ``x{...}`` in omit projects the entities linked through x and keeps x itself
        self.omit = {name for name, child in self.omit_tree.items() if child is None}
        self.kind = accepted(request)
        self.geometry = tm.expand(check_name(geometry_property)) if geometry_property else LOCATION
        self.join, self.join_level = parse_join(join, join_level)
        self.dataset_ids: set[str | None] | None = None
        if dataset_id:
            self.dataset_ids = {None if d == "@none" else d for d in flag_list(dataset_id)}
        self.loader: Loader | None = None

    def _render(self, entity: dict[str, Any], pick: set[str] | None, omit: set[str]) -> dict[str, Any]:
        if self.dataset_ids is not None:
            entity = select_datasets(entity, self.dataset_ids)
        if self.kind == GEO_JSON:
            return render_feature(entity, self.tm, fmt=self.fmt, sys_attrs=self.sys_attrs, pick=pick,
                                  omit=omit, geometry_property=self.geometry, lang=self.lang)
        return render_entity(entity, self.tm, fmt=self.fmt, sys_attrs=self.sys_attrs, pick=pick, omit=omit,
                             lang=self.lang)

    def _linked(self, entity: dict[str, Any], out: dict[str, Any], pick_tree: Projection | None,
                omit_tree: Projection, level: int, flat: list[dict[str, Any]], seen: set[str]) -> None:
        """Follow the rendered Relationships of ``entity`` (join=inline: into ``out``; flat: into ``flat``)."""
        if self.loader is None or level < 1:
            return
        for iri, instances in attributes(entity):
            name = self.tm.compact(iri)
            if name not in out:
                continue
            targets = relationship_targets(instances)
            if not targets:
                continue
            child_pick = (pick_tree or {}).get(iri)
            child_omit = omit_tree.get(iri) or {}
            found = self.loader(targets)
            rendered: dict[str, Any] = {}
            for target in dict.fromkeys(targets):
                linked = found.get(target)
                if linked is None:
                    continue
                body = self._render(linked, set(child_pick) if child_pick is not None else None,
                                    {n for n, c in child_omit.items() if c is None})
                if self.join == "flat":
                    if target not in seen:
                        seen.add(target)
                        flat.append(body)
                        self._linked(linked, body, child_pick, child_omit, level - 1, flat, seen)
                else:
                    self._linked(linked, body, child_pick, child_omit, level - 1, flat, seen)
                    rendered[target] = body
            if self.join == "inline" and rendered:
                out[name] = _inline(out[name], rendered, self.fmt)

    def one(self, entity: dict[str, Any]) -> Any:
        out = self._render(entity, self.pick, self.omit)
        if self.join is None or self.kind == GEO_JSON:
            return out
        flat: list[dict[str, Any]] = []
        self._linked(entity, out, self.pick_tree, self.omit_tree, self.join_level, flat, {entity["id"]})
        return [out, *flat] if self.join == "flat" and flat else out

    def many(self, entities: list[dict[str, Any]]) -> Any:
        if self.join == "flat" and self.kind != GEO_JSON:
            seen = {e["id"] for e in entities}
            roots: list[dict[str, Any]] = []
            linked: list[dict[str, Any]] = []
            for entity in entities:
                out = self._render(entity, self.pick, self.omit)
                self._linked(entity, out, self.pick_tree, self.omit_tree, self.join_level, linked, seen)
                roots.append(out)
            return [r for r in roots if r] + linked
        # an entity with nothing left after pick/omit is not part of the answer (clause 4.21)
        rendered = [r for r in (self.one(e) for e in entities) if r]
        if self.kind == GEO_JSON:
            return {"type": "FeatureCollection", "features": rendered}
        return rendered


def _inline(value: Any, linked: dict[str, dict[str, Any]], fmt: str) -> Any:
    """A rendered Relationship with its linked entities: ``entity`` member, or in place of the id (keyValues)."""
    if isinstance(value, list):
        return [_inline(v, linked, fmt) for v in value]
    if fmt == "keyValues":
        return linked.get(value, value) if isinstance(value, str) else value
    if isinstance(value, dict):
        target = value.get("object")
        if isinstance(target, str) and target in linked:
            return {**value, "entity": linked[target]}
        if isinstance(target, list):
            found = [linked[t] for t in target if isinstance(t, str) and t in linked]
            if found:
                return {**value, "entity": found if len(found) > 1 else found[0]}
    return value


def select_datasets(entity: dict[str, Any], wanted: set[str | None]) -> dict[str, Any]:
    """The entity with only the attribute instances of the given datasetIds (None: the default instance)."""
    out = {}
    for key, value in entity.items():
        if is_attribute_key(key) and key not in ENTITY_CORE_KEYS:
            kept = [i for i in value if i.get("datasetId") in wanted]
            if kept:
                out[key] = kept
        else:
            out[key] = value
    return out


def loader_for(session: Session, tenant: str) -> Loader:
    def load(ids: list[str]) -> dict[str, dict[str, Any]]:
        return {entity_id: row.data for entity_id, row in store.load_many(session, tenant, ids).items()}
    return load


def _tm(request: Request, session: Session, context: Any = None) -> TermMap:
    return term_map(request, session, context if context is not None else query_context(request))


def _update_answer(result: attrs_service.UpdateResult, tm: TermMap) -> Response:
    if result.not_updated:  # attribute names are compacted with the request's @context, named in Link
        return answer(result.body(), kind="application/json", context=tm.context, status=207)
    return Response(status_code=204)


# --- entities ------------------------------------------------------------------------------------


@router.post("/entities/", status_code=201, include_in_schema=False)  # as /entities (clients add the slash)
@router.post("/entities", status_code=201, openapi_extra=BODY, summary="Create an entity")
def create_entity(request: Request, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tm = _tm(request, session, body.context)
    entity_id = entity_service.create_entity(session, tenant=caller.tenant, body=body.data, tm=tm)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/entities/{quote(entity_id, safe=':')}"})


@router.get("/entities/", include_in_schema=False)
@router.get("/entities", summary="Query entities")
def query_entities(
    request: Request, caller: Reader, session: DbSession, type: Text = None, id: Text = None,
    idPattern: Text = None, attrs: Text = None, pick: Text = None, omit: Text = None, q: Text = None,
    scopeQ: Text = None, georel: Text = None, geometry: Text = None, coordinates: Text = None,
    geoproperty: Text = None, geometryProperty: Text = None, options: Text = None, format: Text = None,
    limit: Text = None, offset: Text = None, count: Text = None, lang: Text = None, join: Text = None,
    joinLevel: Text = None, datasetId: Text = None, local: Text = None, csf: Text = None,
    containedBy: Text = None,
) -> Response:
    tm = _tm(request, session)
    rendering = Rendering(request, tm, options=options, format=format, attrs=attrs, pick=pick, omit=omit,
                          geometry_property=geometryProperty, lang=lang, join=join, join_level=joinLevel,
                          dataset_id=datasetId)
    query = query_service.build_query(
        tm, type=type, id=id, id_pattern=idPattern, attrs=flag_list(attrs) or None, q=q, scope_q=scopeQ,
        georel=georel, geometry=geometry, coordinates=coordinates, geoproperty=geoproperty,
        limit=int_param(limit, "limit"), offset=int_param(offset, "offset"), count=bool_param(count, "count"),
        max_limit=request.app.state.settings.ngsi_ld_max_limit, require_filter=not bool_param(local, "local"),
    )
    if not tenant_known(session, caller):
        return answer(rendering.many([]), kind=rendering.kind, context=tm.context, headers=count_header(query, 0))
    rendering.loader = loader_for(session, caller.tenant)
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
    lang: Text = None, type: Text = None, join: Text = None, joinLevel: Text = None, datasetId: Text = None,
    local: Text = None, containedBy: Text = None,
) -> Response:
    tm = _tm(request, session)
    rendering = Rendering(request, tm, options=options, format=format, attrs=attrs, pick=pick, omit=omit,
                          geometry_property=geometryProperty, lang=lang, join=join, join_level=joinLevel,
                          dataset_id=datasetId)
    bool_param(local, "local")
    tenant = existing_tenant(session, caller)
    entity = entity_service.retrieve_entity(session, tenant=tenant, entity_id=entity_id)
    wanted = [tm.expand(check_name(a)) for a in flag_list(attrs)]
    if wanted and not any(a in entity for a in wanted):
        raise ResourceNotFound("The entity has none of the requested attributes")
    rendering.loader = loader_for(session, tenant)
    body = rendering.one(entity)
    if rendering.kind != GEO_JSON and body == {}:
        raise ResourceNotFound("Nothing of the entity is left after pick/omit")
    return answer(body, kind=rendering.kind, context=tm.context)


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
    return _update_answer(result, tm)


@router.patch("/entities/{entity_id}/attrs", status_code=204, openapi_extra=BODY, summary="Update attributes")
def update_attributes(request: Request, entity_id: str, caller: Writer, body: JsonBody, session: DbSession) -> Response:
    tenant = existing_tenant(session, caller)
    tm = _tm(request, session, body.context)
    result = attrs_service.update_attributes(session, tenant=tenant, entity_id=entity_id, body=body.data, tm=tm)
    return _update_answer(result, tm)


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


@router.api_route("/entities/", methods=["PATCH", "PUT", "DELETE"], include_in_schema=False)
def empty_entity_id() -> Response:
    """``/entities/`` is an entity operation without an entity id (not a redirect to the collection)."""
    raise BadRequestData("The entity id is missing from the path")
