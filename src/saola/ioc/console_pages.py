"""The operator console pages: the live map with KPI tiles and the alert feed, its event stream, the
acknowledge action, and the IOC panel of an entity's page (alerts, linked incidents, device commands).

* ``GET /console/ioc`` (``alerts:read``) — full-screen map, KPI tiles, alert feed, charts.
  ``?wall=1&rotate=30`` is the video-wall mode (no chrome, large text, views rotating every 30 s).
* ``GET /console/ioc/stream`` — ``text/event-stream``: ``kpis``, ``alert`` and ``incident`` events.
* ``POST /console/ioc/alerts/{id}/acknowledge`` (``alerts:write``, CSRF) — JSON for scripts, else a redirect.
* ``GET /console/ioc/entity-panel?entity_id=`` — the fragment the entity page loads (htmx).
* ``POST /console/ioc/entity-command`` (``devices:write``, CSRF) — a downlink command to the entity's device.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import BadRequest, DomainError
from saola.core.http import wants_json
from saola.ioc import kpis, layers
from saola.ioc.incident_workflow import STATUS_LABELS
from saola.ioc.live import hub_of
from saola.web.templating import NavItem, form_error, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.ioc")
register_nav(NavItem("/console/ioc", "Operations centre", icon="bell", permission="alerts:read", order=5))

Viewer = Annotated[Principal, Depends(require("alerts:read", page=True))]
Acker = Annotated[Principal, Depends(require("alerts:write", page=True))]
Commander = Annotated[Principal, Depends(require("devices:write", page=True))]
FEED_STATES = ["active", "acknowledged", "cleared-unacknowledged"]
FEED_SIZE = 50
ROTATE_VIEWS = ("map", "charts", "feed")
OPEN = ("active", "acknowledged")


def alert_item(alert: Any) -> dict[str, Any]:
    """An alert as the feed shows it (the same keys as the stream's ``alert`` events)."""
    from saola.rules.alerts import display_state

    return {"id": alert.id, "rule_id": alert.rule_id, "subject": alert.subject, "entity_type": alert.entity_type,
            "severity": alert.severity, "state": alert.state, "display_state": display_state(alert),
            "title_vi": alert.title_vi, "title_en": alert.title_en, "value": alert.value,
            "occurrences": alert.occurrences, "at": alert.started_at.isoformat(),
            "acknowledged_by": alert.acknowledged_by, "location": alert.location,
            "incident_type": alert.incident_type}


def recent_alerts(session: Session) -> list[dict[str, Any]]:
    from saola.rules import alerts

    found = alerts.list_alerts(session, states=FEED_STATES, limit=FEED_SIZE)
    found.sort(key=lambda a: (a.started_at, a.id), reverse=True)
    return [alert_item(a) for a in found]


@router.get("/console/ioc")
def console_page(
    request: Request, session: DbSession, principal: Viewer,
    wall: Annotated[bool, Query()] = False,
    rotate: Annotated[int, Query(ge=0, le=3600)] = 0,
    large: Annotated[bool, Query()] = False,
) -> Response:
    return render(request, "console/ioc.html", {
        "layers": [layer.describe() for layer in layers.LAYERS],
        "kpis": kpis.KPIS, "feed": recent_alerts(session), "wall": wall, "rotate": rotate if wall else 0,
        "large": large or wall, "views": ROTATE_VIEWS, "severities": layers.SEVERITY_COLORS,
        "can_ack": principal.can("alerts:write"), "can_incident": principal.can("incidents:write"),
    })


@router.get("/console/ioc/stream")
async def console_stream(request: Request, _: Viewer) -> StreamingResponse:
    hub = hub_of(request.app)

    async def messages() -> Any:
        async for message in hub.stream():
            if await request.is_disconnected():
                return
            yield message

    return StreamingResponse(messages(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/console/ioc/alerts/{alert_id}/acknowledge")
def acknowledge_alert(request: Request, session: DbSession, principal: Acker, alert_id: int,
                      note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    from saola.rules import alerts

    alert = alerts.acknowledge(session, alert_id=alert_id, actor=principal, now=utcnow(), note=note)
    if wants_json(request):
        return JSONResponse(alert_item(alert))
    return RedirectResponse("/console/ioc", status_code=303)


# --- the entity page's IOC panel ---------------------------------------------------------------------------


def _device_of(session: Session, *, tenant: str, entity_id: str) -> Any:
    from saola.devices import service

    _total, found = service.list_devices(session, tenant=tenant, search=entity_id, limit=20, offset=0)
    return next((d for d in found if d.entity_id == entity_id), None)


def _commands_view(session: Session, device: Any) -> dict[str, Any]:
    from saola.devices import commands
    from saola.devices.commands_models import DeviceCommand
    from saola.devices.models import ServiceGroup

    group = session.get(ServiceGroup, device.group_id) if device.group_id else None
    recent = session.scalars(select(DeviceCommand).where(DeviceCommand.device_pk == device.id)
                             .order_by(DeviceCommand.id.desc()).limit(10))
    return {"device": device, "declared": commands.declared(device, group),
            "recent": [commands.view(c) for c in recent]}


def _panel(request: Request, session: Session, principal: Principal, *, entity_id: str, tenant: str,
           notice: str | None = None, error: dict[str, str] | None = None, status_code: int = 200) -> Response:
    from saola.ioc import incidents
    from saola.rules import alerts

    found = alerts.alerts_for_subject(session, subject=entity_id, limit=20)
    device = _device_of(session, tenant=tenant, entity_id=entity_id) if principal.can("devices:read") else None
    return render(request, "console/entity_panel.html", {
        "entity_id": entity_id, "tenant": tenant,
        "active": [alert_item(a) | {"started_at": a.started_at} for a in found if a.state in OPEN],
        "recent": [alert_item(a) | {"started_at": a.started_at} for a in found if a.state not in OPEN],
        "incidents": incidents.incidents_for_entity(session, entity_id=entity_id, actor=principal),
        "commands": _commands_view(session, device) if device is not None else None,
        "can_ack": principal.can("alerts:write"), "can_incident": principal.can("incidents:write"),
        "can_command": principal.can("devices:write"), "notice": notice, "error": error,
        "severities": layers.SEVERITY_COLORS, "incident_statuses": STATUS_LABELS,
    }, status_code=status_code)


EntityId = Annotated[str, Query(min_length=1, max_length=1024)]


@router.get("/console/ioc/entity-panel")
def entity_panel(request: Request, session: DbSession, principal: Viewer, entity_id: EntityId,
                 tenant: Annotated[str, Query(max_length=255)] = "") -> Response:
    return _panel(request, session, principal, entity_id=entity_id, tenant=tenant)


def parse_value(text: str) -> Any:
    """A command's value from the form: JSON when it parses (50, true, {"level": 3}), else the text; empty: None."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@router.post("/console/ioc/entity-command")
def entity_command(
    request: Request, session: DbSession, principal: Commander,
    entity_id: Annotated[str, Form(min_length=1, max_length=1024)],
    command: Annotated[str, Form(min_length=1, max_length=128)],
    tenant: Annotated[str, Form(max_length=255)] = "",
    value: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    from saola.devices import commands

    device = _device_of(session, tenant=tenant, entity_id=entity_id)
    notice, error, status_code = None, None, 200
    try:
        if device is None:
            raise BadRequest("No device is registered for this entity", field="command")
        with session.begin_nested():
            commands.request(session, device=device, name=command, value=parse_value(value),
                             settings=request.app.state.settings)
        worker = getattr(request.app.state, "mqtt_worker", None)
        if worker is not None:
            worker.command_wake.set()
        notice = "The command was queued for the device"
    except DomainError as exc:
        error, status_code = form_error(request, exc), exc.status
    if request.headers.get("hx-request") == "true":
        return _panel(request, session, principal, entity_id=entity_id, tenant=tenant, notice=notice, error=error,
                      status_code=status_code)
    if error is not None:
        return _panel(request, session, principal, entity_id=entity_id, tenant=tenant, error=error,
                      status_code=status_code)
    url = layers.entity_url(entity_id, tenant)
    return RedirectResponse(url + ("&" if "?" in url else "?") + "command=" + quote(command), status_code=303)
