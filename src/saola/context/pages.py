"""The staff console's entity browser (issue 3): entity types, entity lists, one entity, its history.

Thin handlers over :mod:`saola.context.browse`, which calls the broker's services, so the pages
see exactly what the NGSI-LD API answers. Names are shown through the core @context (a term when
the context has one, else the last segment of the IRI). A bad ``q``, ``id`` or ``idPattern``
answers 400 with the list page and the broker's message; an unknown tenant or entity answers a
404 page; a bad time range answers 400. The chart reads ``/console/entities/{id}/history`` (JSON).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRouter
from sqlalchemy.orm import Session

from saola.context import browse
from saola.context.errors import NgsiLdError, ResourceNotFound
from saola.context.http import term_map
from saola.context.jsonld import TermMap
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, request_language, require
from saola.core.errors import BadRequest, NotFound
from saola.core.i18n import translator
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.context")
register_nav(NavItem("/console/entities", "City entities", icon="pulse", permission="context:read", order=30))

Reader = Annotated[Principal, Depends(require("context:read", page=True))]
Tenant = Annotated[str | None, Query(max_length=255)]
Filter = Annotated[str | None, Query(max_length=2000)]

# Time ranges of the history chart (English labels are message ids).
RANGES = {"hour": "Last hour", "day": "Last day", "week": "Last week", "custom": "Custom range"}


def _tenant(session: Session, tenant: str | None) -> tuple[str, list[str]]:
    tenants = browse.list_tenants(session)
    name = (tenant or "").strip()
    if name in ("default", "-"):
        name = ""
    if name not in tenants:
        raise NotFound("There is no tenant named '{tenant}'", field="tenant", tenant=name[:100])
    return name, tenants


def _tm(request: Request, session: Session) -> TermMap:
    return term_map(request, session, None)


def _broker_message(request: Request, exc: NgsiLdError) -> dict[str, str]:
    """An NGSI-LD error for the page: a translated title and the broker's (English) detail."""
    _ = translator(request_language(request))
    return {"title": _(exc.title), "detail": exc.detail, "code": type(exc).__name__}


# --- types and entity lists ------------------------------------------------------------------------


@router.get("/console/entities")
def entities_page(
    request: Request,
    session: DbSession,
    _: Reader,
    tenant: Tenant = None,
    type: Filter = None,
    id: Filter = None,
    idPattern: Filter = None,
    q: Filter = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    name, tenants = _tenant(session, tenant)
    tm = _tm(request, session)
    filters = {"tenant": name, "type": type or "", "id": id or "", "idPattern": idPattern or "", "q": q or ""}
    error: dict[str, str] | None = None
    found: browse.EntityPage | None = None
    if any(filters[k] for k in ("type", "id", "idPattern", "q")):
        try:
            found = browse.find_entities(
                session, tenant=name, tm=tm, type=type, id=id, id_pattern=idPattern, q=q, page=page,
                max_limit=request.app.state.settings.ngsi_ld_max_limit)
        except NgsiLdError as exc:
            error = _broker_message(request, exc)
    kept = {k: v for k, v in filters.items() if v}
    return render(request, "entities/list.html", {
        "tenants": tenants, "tenant": name, "types": browse.type_counts(session, tenant=name, tm=tm),
        "filters": filters, "found": found, "error": error,
        "features": browse.map_features(found.rows) if found else [],
        "page_query": urlencode(kept), "tenant_query": urlencode({"tenant": name}) if name else "",
    }, status_code=400 if error else 200)


# --- one entity --------------------------------------------------------------------------------------


def _entity(session: Session, tenant: str, entity_id: str, tm: TermMap) -> browse.EntityView:
    try:
        return browse.entity_view(session, tenant=tenant, entity_id=entity_id, tm=tm)
    except ResourceNotFound:
        raise NotFound("There is no entity with the id '{entity_id}'", entity_id=entity_id[:200]) from None
    except NgsiLdError:
        raise BadRequest("An entity id is a URI, such as urn:ngsi-ld:Streetlight:bn-001", field="entity_id") \
            from None


def _chart_attribute(entity: browse.EntityView, attr: str | None) -> browse.AttributeView | None:
    if not attr:
        numeric = entity.numeric_attributes
        return numeric[0] if numeric else None
    chosen = entity.attribute(attr)
    if chosen is None or not chosen.numeric:
        raise BadRequest("The entity has no numeric attribute named '{attr}'", field="attr", attr=attr[:100])
    return chosen


def _window(request: Request, range_: str, start: str | None, end: str | None) -> browse.TimeRange:
    tz = ZoneInfo(request.app.state.settings.timezone)
    return browse.time_range(name=range_, start=start, end=end, now=utcnow(), tz=tz)


Range = Annotated[str, Query(alias="range", max_length=10)]
Moment = Annotated[str | None, Query(max_length=40)]
Attr = Annotated[str | None, Query(max_length=512)]


@router.get("/console/entities/{entity_id}/history")
def entity_history(
    request: Request,
    session: DbSession,
    _: Reader,
    entity_id: str,
    tenant: Tenant = None,
    attr: Attr = None,
    range_: Range = "day",
    start: Moment = None,
    end: Moment = None,
) -> Response:
    """The chart's data: ``{attribute, unit, from, to, total, points: [{t, v, d}]}`` (400 problem on bad input)."""
    name, _tenants = _tenant(session, tenant)
    tm = _tm(request, session)
    entity = _entity(session, name, entity_id, tm)
    chosen = _chart_attribute(entity, attr)
    if chosen is None:
        raise BadRequest("The entity has no numeric attribute to chart", field="attr")
    window = _window(request, range_, start, end)
    series = browse.attribute_series(session, tenant=name, entity_id=entity.id, attr_iri=chosen.iri,
                                     window=window, tm=tm)
    body: dict[str, Any] = {
        "attribute": series.attribute, "unit": series.unit, "total": series.total, "points": series.points,
        "from": window.start.isoformat(), "to": window.end.isoformat(),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/console/entities/{entity_id}")
def entity_page(
    request: Request,
    session: DbSession,
    _: Reader,
    entity_id: str,
    tenant: Tenant = None,
    attr: Attr = None,
    range_: Range = "day",
    start: Moment = None,
    end: Moment = None,
) -> Response:
    name, _tenants = _tenant(session, tenant)
    tm = _tm(request, session)
    entity = _entity(session, name, entity_id, tm)
    chosen = _chart_attribute(entity, attr)
    window = _window(request, range_, start, end)
    feature = {"type": "Feature", "id": entity.id, "geometry": entity.geometry,
               "properties": {"name": entity.name or entity.id, "type": ", ".join(entity.types), "url": ""}}
    back = {"tenant": name, "type": entity.type_params[0] if entity.type_params else ""}
    return render(request, "entities/entity.html", {
        "entity": entity, "tenant": name, "features": [feature] if entity.geometry else [],
        "chosen": chosen, "ranges": RANGES, "range": range_, "start": start or "", "end": end or "",
        "window": window, "history_url": browse.entity_url(entity.id, "") + "/history",
        "back_query": urlencode({k: v for k, v in back.items() if v}),
    })
