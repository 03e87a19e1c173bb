"""Console pages of incidents: the list, the form to open one (prefilled from ``?alert=<id>`` or
``?report=<tracking code>``), the incident's page (timeline, checklist, units, links, notes, status buttons,
closing with a resolution note), the printable after-action report and its PDF.

Thin handlers over :mod:`saola.ioc.incidents`, the functions the JSON API uses, so visibility and the
checks of every move are the same. A rejected form answers with a 4xx page naming the problem; the
request's transaction is rolled back, so nothing of it is saved.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, request_language, require
from saola.core.directory import service as directory
from saola.ioc import after_action, incidents
from saola.ioc import incident_workflow as workflow
from saola.ioc.errors import InvalidIncident
from saola.ioc.incident_drafts import Draft, safe_draft
from saola.ioc.incident_schemas import Severity, Status, UnitKind
from saola.ioc.incident_types import SEVERITIES, SEVERITY_LABELS, UNIT_KINDS, incident_types
from saola.ioc.incidents_api import pdf_response
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.ioc")
register_nav(NavItem("/console/incidents", "Incidents", icon="alert", permission="incidents:read", order=6))

Reader = Annotated[Principal, Depends(require("incidents:read", page=True))]
Writer = Annotated[Principal, Depends(require("incidents:write", page=True))]
NOTICES = {"opened": "The incident was opened", "moved": "The incident's status was changed",
           "note": "The note was added", "unit": "The unit was recorded", "link": "The link was added",
           "unlinked": "The link was removed", "checklist": "The checklist was updated"}
LABELS = {"statuses": workflow.STATUS_LABELS, "actions": workflow.ACTION_LABELS, "severities": SEVERITY_LABELS,
          "unit_kinds": UNIT_KINDS, "types": incident_types()}


class IncidentForm(BaseModel):
    incident_type: str = Field(max_length=40)
    title: str = Field(max_length=300)
    severity: Severity
    description: str = Field("", max_length=10_000)
    ward_code: str = Field("", max_length=10)
    address: str = Field("", max_length=300)
    owner_agency_id: int | None = Field(None, ge=1, le=2_000_000_000)
    lat: str = Field("", max_length=30)
    lon: str = Field("", max_length=30)
    alert_ids: str = Field("", max_length=2000)
    report_codes: str = Field("", max_length=2000)
    entity_ids: str = Field("", max_length=10_000)


class StatusForm(BaseModel):
    to: Status
    reason: str = Field("", max_length=2000)
    resolution: str = Field("", max_length=10_000)


class NoteForm(BaseModel):
    text: str = Field(max_length=4000)


class UnitForm(BaseModel):
    name: str = Field(max_length=200)
    kind: UnitKind
    note: str = Field("", max_length=2000)


class UnitMoveForm(BaseModel):
    action: str = Field(pattern="^(arrived|released)$")


class LinkForm(BaseModel):
    kind: str = Field(pattern="^(alert|report|entity)$")
    ref: str = Field(max_length=500)


class ChecklistForm(BaseModel):
    key: str = Field(max_length=60)
    done: bool = True


def _page(request: Request, template: str, context: dict[str, Any]) -> Response:
    return render(request, template, {**LABELS, **context})


def _items(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


def _location(form: IncidentForm) -> dict[str, Any] | None:
    if not form.lat.strip() and not form.lon.strip():
        return None
    try:
        lat, lon = float(form.lat.replace(",", ".")), float(form.lon.replace(",", "."))
    except ValueError:
        raise InvalidIncident("Latitude and longitude must be numbers", field="lat") from None
    return {"type": "Point", "coordinates": [lon, lat]}


def _back(incident_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/incidents/{incident_id}?done={done}", status_code=303)


@router.get("/console/incidents")
def incidents_page(
    request: Request, session: DbSession, principal: Reader,
    status: Annotated[Status | None, Query()] = None,
    incident_type: Annotated[str | None, Query(alias="type", max_length=40)] = None,
    severity: Annotated[Severity | None, Query()] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    rows, total = incidents.list_incidents(session, actor=principal, status=[status] if status else None,
                                           incident_type=incident_type or None, severity=severity,
                                           open_only=open_only, q=q or None, limit=50, offset=(page - 1) * 50)
    return _page(request, "incidents/list.html", {
        "rows": rows, "total": total, "page": page, "status": status or "", "incident_type": incident_type or "",
        "severity": severity or "", "open_only": open_only, "q": q or "",
        "can_write": principal.can("incidents:write"), "open_count": incidents.open_count(session, actor=principal)})


@router.get("/console/incidents/new")
def new_incident_page(
    request: Request, session: DbSession, principal: Writer,
    alert: Annotated[int | None, Query(ge=1, le=2_000_000_000)] = None,
    report: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    draft = safe_draft(session, alert_id=alert, tracking_code=report)
    missing = (alert is not None or bool(report)) and draft is None
    draft = draft or Draft()
    agencies = directory.writable_agencies(session, actor=principal)
    owner = next((a.id for a in agencies if a.code == draft.owner_agency), principal.agency_id)
    point = draft.location.get("coordinates") if draft.location and draft.location.get("type") == "Point" else None
    return _page(request, "incidents/new.html", {
        "draft": draft, "missing": missing, "agencies": agencies, "owner_id": owner, "severity_list": SEVERITIES,
        "lat": point[1] if point else "", "lon": point[0] if point else "", "source_alert": alert,
        "source_report": report or ""}, )


@router.post("/console/incidents")
def create_incident(session: DbSession, principal: Writer, form: Annotated[IncidentForm, Form()]) -> Response:
    alert_ids = []
    for item in _items(form.alert_ids):
        if not item.isdigit():
            raise InvalidIncident("Alert ids are numbers", field="alert_ids")
        alert_ids.append(int(item))
    incident = incidents.open_incident(
        session, incident_type=form.incident_type, title=form.title, severity=form.severity, actor=principal,
        now=utcnow(), location=_location(form), ward_code=form.ward_code or None,
        owner_agency=form.owner_agency_id, alert_ids=alert_ids, report_codes=_items(form.report_codes),
        entity_ids=_items(form.entity_ids), description=form.description, address=form.address)
    return _back(incident.id, "opened")


@router.get("/console/incidents/{incident_id}")
def incident_page(
    request: Request, session: DbSession, principal: Reader, incident_id: int,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    found = incidents.details(session, incident_id=incident_id, actor=principal)
    status = found.incident.status
    return _page(request, "incidents/incident.html", {
        "d": found, "i": found.incident, "moves": workflow.moves_from(status),
        "reopen_to": next((t for t in workflow.moves_from(status) if workflow.is_reopen(status, t)), None),
        "active": status in workflow.ACTIVE_STATUSES, "can_write": principal.can("incidents:write"),
        "notice": NOTICES.get(done or ""), "checked": sum(1 for c in found.checklist if c.done_at),
        "type_name": found.incident.incident_type})


@router.post("/console/incidents/{incident_id}/status")
def change_status(session: DbSession, principal: Writer, incident_id: int,
                  form: Annotated[StatusForm, Form()]) -> Response:
    incidents.change_status(session, incident_id=incident_id, to=form.to, actor=principal, now=utcnow(),
                            reason=form.reason, resolution=form.resolution or None)
    return _back(incident_id, "moved")


@router.post("/console/incidents/{incident_id}/notes")
def add_note(session: DbSession, principal: Writer, incident_id: int, form: Annotated[NoteForm, Form()]) -> Response:
    incidents.add_note(session, incident_id=incident_id, text=form.text, actor=principal, now=utcnow())
    return _back(incident_id, "note")


@router.post("/console/incidents/{incident_id}/units")
def dispatch_unit(session: DbSession, principal: Writer, incident_id: int,
                  form: Annotated[UnitForm, Form()]) -> Response:
    incidents.dispatch_unit(session, incident_id=incident_id, name=form.name, kind=form.kind, note=form.note,
                            actor=principal, now=utcnow())
    return _back(incident_id, "unit")


@router.post("/console/incidents/{incident_id}/units/{unit_id}")
def mark_unit(session: DbSession, principal: Writer, incident_id: int, unit_id: int,
              form: Annotated[UnitMoveForm, Form()]) -> Response:
    incidents.mark_unit(session, incident_id=incident_id, unit_id=unit_id, action=form.action, actor=principal,
                        now=utcnow())
    return _back(incident_id, "unit")


@router.post("/console/incidents/{incident_id}/links")
def add_link(session: DbSession, principal: Writer, incident_id: int, form: Annotated[LinkForm, Form()]) -> Response:
    now, ref = utcnow(), form.ref.strip()
    if form.kind == "alert":
        incidents.link_alert(session, incident_id=incident_id, alert_id=int(ref) if ref.isdigit() else -1,
                             actor=principal, now=now)
    elif form.kind == "report":
        incidents.link_report(session, incident_id=incident_id, tracking_code=ref, actor=principal, now=now)
    else:
        incidents.link_entity(session, incident_id=incident_id, entity_id=ref, actor=principal, now=now)
    return _back(incident_id, "link")


@router.post("/console/incidents/{incident_id}/links/{link_id}/delete")
def remove_link(session: DbSession, principal: Writer, incident_id: int, link_id: int) -> Response:
    incidents.unlink(session, incident_id=incident_id, link_id=link_id, actor=principal, now=utcnow())
    return _back(incident_id, "unlinked")


@router.post("/console/incidents/{incident_id}/checklist")
def tick(session: DbSession, principal: Writer, incident_id: int, form: Annotated[ChecklistForm, Form()]) -> Response:
    incidents.tick_checklist_item(session, incident_id=incident_id, key=form.key, done=form.done, actor=principal,
                                  now=utcnow())
    return _back(incident_id, "checklist")


@router.get("/console/incidents/{incident_id}/print")
def print_page(request: Request, session: DbSession, principal: Reader, incident_id: int) -> Response:
    found = incidents.details(session, incident_id=incident_id, actor=principal)
    report = after_action.build(found, lang=request_language(request))
    return _page(request, "incidents/print.html", {"r": report, "i": found.incident})


@router.get("/console/incidents/{incident_id}/report.pdf")
def report_pdf(request: Request, session: DbSession, principal: Reader, incident_id: int) -> Response:
    return pdf_response(request, session, incident_id=incident_id, actor=principal)
