"""JSON API of incidents: ``/api/v1/incidents`` for machine clients and the console's scripts.

Reading needs ``incidents:read``, every change ``incidents:write``; a user without ``agencies:all``
sees and changes only their own agency's incidents (others answer 404). Thin handlers over
:mod:`saola.ioc.incidents`; errors are problem+json with a stable ``code``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, request_language, require
from saola.ioc import after_action, incidents
from saola.ioc import incident_workflow as workflow
from saola.ioc.incident_schemas import (
    ChecklistIn,
    ChecklistItemOut,
    EventOut,
    IncidentDetail,
    IncidentIn,
    IncidentOut,
    IncidentPage,
    LinkIn,
    LinkOut,
    NoteIn,
    Severity,
    Status,
    StatusIn,
    UnitIn,
    UnitMoveIn,
    UnitOut,
    detail_out,
    incident_out,
)
from saola.ioc.incident_types import incident_types

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
Reader = Annotated[Principal, Depends(require("incidents:read"))]
Writer = Annotated[Principal, Depends(require("incidents:write"))]
NOT_FOUND = {404: {"description": "`incident-not-found` (missing or another agency's)"}}
MOVE_ERRORS = {**NOT_FOUND, 409: {"description": "`invalid-incident-transition`, `incident-closed`"},
               422: {"description": "`resolution-required`, `reason-required`"}}


def detail(session: Session, incident_id: int, principal: Principal) -> IncidentDetail:
    found = incidents.details(session, incident_id=incident_id, actor=principal)
    return detail_out(found, list(workflow.moves_from(found.incident.status)))


@router.get("", response_model=IncidentPage, summary="Incidents you may see, newest first, with filters")
def list_incidents(
    session: DbSession, principal: Reader,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    incident_type: Annotated[str | None, Query(alias="type", max_length=40)] = None,
    severity: Severity | None = None,
    ward_code: Annotated[str | None, Query(max_length=10)] = None,
    agency_id: Annotated[int | None, Query(ge=1, le=2_000_000_000)] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> IncidentPage:
    rows, total = incidents.list_incidents(session, actor=principal, status=status_, incident_type=incident_type,
                                           severity=severity, ward_code=ward_code, agency_id=agency_id,
                                           open_only=open_only, q=q, limit=limit, offset=offset)
    return IncidentPage(items=[incident_out(i) for i in rows], total=total)


@router.get("/types", summary="Incident types with their names and SOP checklists")
def list_types(_: Reader) -> list[dict[str, Any]]:
    return [{"code": t.code, "name_vi": t.name_vi, "name_en": t.name_en, "default_severity": t.default_severity,
             "suggested_units": list(t.suggested_units),
             "checklist": [{"key": s.key, "vi": s.vi, "en": s.en} for s in t.checklist]}
            for t in incident_types().values()]


@router.get("/map", summary="Open incidents with a location as a GeoJSON FeatureCollection")
def incidents_map(session: DbSession, principal: Reader) -> dict[str, Any]:
    return incidents.open_incidents_geojson(session, actor=principal)


@router.post("", response_model=IncidentDetail, status_code=status.HTTP_201_CREATED,
             summary="Open an incident (optionally linked to alerts, citizen reports and entities)",
             responses={422: {"description": "`invalid-incident`"},
                        404: {"description": "`incident-link-target-not-found`"}})
def open_incident(body: IncidentIn, session: DbSession, principal: Writer) -> IncidentDetail:
    incident = incidents.open_incident(
        session, incident_type=body.incident_type, title=body.title, severity=body.severity, actor=principal,
        now=utcnow(), location=body.location, ward_code=body.ward_code, owner_agency=body.owner_agency,
        alert_ids=body.alert_ids, report_codes=body.report_codes, entity_ids=body.entity_ids,
        description=body.description, address=body.address)
    return detail(session, incident.id, principal)


@router.get("/{incident_id}", response_model=IncidentDetail, responses=NOT_FOUND,
            summary="One incident with its timeline, links, units and checklist")
def get_incident(incident_id: int, session: DbSession, principal: Reader) -> IncidentDetail:
    return detail(session, incident_id, principal)


@router.post("/{incident_id}/status", response_model=IncidentOut, responses=MOVE_ERRORS,
             summary="Move the incident (dispatched, in_progress, resolved, closed; reopen: resolved → in_progress)")
def change_status(incident_id: int, body: StatusIn, session: DbSession, principal: Writer) -> IncidentOut:
    return incident_out(incidents.change_status(session, incident_id=incident_id, to=body.to, actor=principal,
                                                now=utcnow(), reason=body.reason, resolution=body.resolution))


@router.post("/{incident_id}/notes", response_model=EventOut, status_code=status.HTTP_201_CREATED,
             responses=MOVE_ERRORS, summary="Add a note to the timeline")
def add_note(incident_id: int, body: NoteIn, session: DbSession, principal: Writer) -> EventOut:
    note = incidents.add_note(session, incident_id=incident_id, text=body.text, actor=principal, now=utcnow())
    return EventOut.model_validate(note)


@router.post("/{incident_id}/units", response_model=UnitOut, status_code=status.HTTP_201_CREATED,
             responses=MOVE_ERRORS, summary="Dispatch a unit (the first one moves an open incident to dispatched)")
def dispatch_unit(incident_id: int, body: UnitIn, session: DbSession, principal: Writer) -> UnitOut:
    unit = incidents.dispatch_unit(session, incident_id=incident_id, name=body.name, kind=body.kind, note=body.note,
                                   actor=principal, now=utcnow())
    return UnitOut.model_validate(unit)


@router.post("/{incident_id}/units/{unit_id}", response_model=UnitOut, responses=MOVE_ERRORS,
             summary="A unit arrived on site or was released")
def mark_unit(incident_id: int, unit_id: int, body: UnitMoveIn, session: DbSession, principal: Writer) -> UnitOut:
    unit = incidents.mark_unit(session, incident_id=incident_id, unit_id=unit_id, action=body.action,
                               actor=principal, now=utcnow())
    return UnitOut.model_validate(unit)


@router.post("/{incident_id}/links", response_model=LinkOut, status_code=status.HTTP_201_CREATED,
             responses=MOVE_ERRORS, summary="Link an alert (id), a citizen report (tracking code) or an entity (id)")
def add_link(incident_id: int, body: LinkIn, session: DbSession, principal: Writer) -> LinkOut:
    now = utcnow()
    if body.kind == "alert":
        ref = body.ref.strip()
        link = incidents.link_alert(session, incident_id=incident_id, alert_id=int(ref) if ref.isdigit() else -1,
                                    actor=principal, now=now)
    elif body.kind == "report":
        link = incidents.link_report(session, incident_id=incident_id, tracking_code=body.ref, actor=principal,
                                     now=now)
    else:
        link = incidents.link_entity(session, incident_id=incident_id, entity_id=body.ref, actor=principal, now=now)
    return LinkOut.model_validate(link)


@router.delete("/{incident_id}/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT, responses=MOVE_ERRORS,
               summary="Remove a link made by mistake")
def remove_link(incident_id: int, link_id: int, session: DbSession, principal: Writer) -> Response:
    incidents.unlink(session, incident_id=incident_id, link_id=link_id, actor=principal, now=utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{incident_id}/checklist", response_model=ChecklistItemOut, responses=MOVE_ERRORS,
             summary="Tick (or untick) a step of the SOP checklist")
def tick(incident_id: int, body: ChecklistIn, session: DbSession, principal: Writer) -> ChecklistItemOut:
    item = incidents.tick_checklist_item(session, incident_id=incident_id, key=body.key, done=body.done,
                                         actor=principal, now=utcnow())
    return ChecklistItemOut.model_validate(item)


@router.get("/{incident_id}/report.pdf", responses={**NOT_FOUND, 200: {"content": {"application/pdf": {}}}},
            summary="The after-action report as PDF (in the request's language)")
def report_pdf(incident_id: int, request: Request, session: DbSession, principal: Reader) -> Response:
    return pdf_response(request, session, incident_id=incident_id, actor=principal)


def pdf_response(request: Request, session: Session, *, incident_id: int, actor: Any) -> Response:
    found = incidents.details(session, incident_id=incident_id, actor=actor)
    report = after_action.build(found, lang=request_language(request))
    data = after_action.pdf(report, tz=request.app.state.settings.timezone)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{report.code}.pdf"', "Cache-Control": "no-store"})
