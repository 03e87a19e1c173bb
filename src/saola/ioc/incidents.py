"""Use cases of incidents: open, read, list, move through the workflow, close, dispatch units, notes, checklist.

Every function takes the session first and keyword arguments after and flushes, never commits (the
request's unit of work does). ``actor`` is a signed-in :class:`~saola.core.auth.service.Principal` or a
:class:`~saola.cases.actors.SystemActor` (``system: rule 7`` for an incident a rule opened). A user
without ``agencies:all`` sees and changes only the incidents of their own agency (others are "not
found", as for citizen reports). Links to alerts, citizen reports and entities live in
:mod:`saola.ioc.incident_links` and are re-exported here. Events ``incident.opened`` and
``incident.updated`` are queued in the transaction and published after commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.cases.codes import next_code
from saola.core.db import queue_event
from saola.core.directory.models import Agency
from saola.core.errors import PermissionDenied
from saola.core.scoping import scope_to_agency
from saola.ioc import incident_workflow as workflow
from saola.ioc.errors import (
    ChecklistItemNotFound,
    IncidentClosed,
    IncidentNotFound,
    InvalidIncident,
    InvalidUnitMove,
    UnitNotFound,
)
from saola.ioc.incident_links import link_alert, link_entity, link_report, unlink  # re-exported
from saola.ioc.incident_models import (
    Incident,
    IncidentChecklistItem,
    IncidentEvent,
    IncidentLink,
    IncidentUnit,
)
from saola.ioc.incident_scope import actor_info, event, lock_incident, payload, require_writer, valid_id, visible
from saola.ioc.incident_types import SEVERITIES, UNIT_KINDS, get_type

__all__ = ["add_note", "change_status", "close", "dispatch_unit", "get_incident", "incidents_for_entity",
           "link_alert", "link_entity", "link_report", "list_incidents", "mark_unit", "open_count", "open_incident",
           "open_incidents_geojson", "tick_checklist_item", "unlink"]

CODE_PREFIX = "SC"  # sự cố: SC-2026-000012
_WARD = re.compile(r"^\d{5}$")
_GEOMETRIES = frozenset({"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"})
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class IncidentDetails:
    """An incident with everything its page, API answer and after-action report show, loaded once."""

    incident: Incident
    agency: Agency | None
    events: list[IncidentEvent]
    links: list[IncidentLink]
    units: list[IncidentUnit]
    checklist: list[IncidentChecklistItem]


def _agency(session: Session, owner: int | str | None) -> Agency | None:
    if owner is None or owner == "":
        return None
    if isinstance(owner, int):
        found = session.get(Agency, owner)
    else:
        found = session.scalar(select(Agency).where(Agency.code == owner.strip()))
    if found is None:
        raise InvalidIncident("No agency '{agency}'", field="owner_agency", agency=str(owner)[:40])
    return found


def _check_location(location: dict[str, Any] | None) -> dict[str, Any] | None:
    if location is None:
        return None
    coordinates = location.get("coordinates") if isinstance(location, dict) else None
    if not isinstance(location, dict) or location.get("type") not in _GEOMETRIES or not isinstance(coordinates, list) \
            or not coordinates:
        raise InvalidIncident("The location must be a GeoJSON geometry", field="location")
    if location["type"] == "Point" and not (
            len(coordinates) in (2, 3) and all(isinstance(c, int | float) for c in coordinates)
            and -180 <= coordinates[0] <= 180 and -90 <= coordinates[1] <= 90):
        raise InvalidIncident("The point must be [longitude, latitude]", field="location")
    return {"type": location["type"], "coordinates": coordinates}


def open_incident(session: Session, *, incident_type: str, title: str, severity: str, actor: Any, now: datetime,
                  location: dict[str, Any] | None = None, ward_code: str | None = None,
                  owner_agency: int | str | None = None, alert_ids: Iterable[int] = (),
                  report_codes: Iterable[str] = (), entity_ids: Iterable[str] = (), description: str = "",
                  address: str = "", source_alert_id: int | None = None) -> Incident:
    """A new incident in status ``open`` with its type's SOP checklist and its first links; nothing saved on error."""
    require_writer(actor)
    kind = get_type(incident_type)
    if kind is None:
        raise InvalidIncident("Unknown incident type '{type}'", field="incident_type", type=str(incident_type)[:40])
    if severity not in SEVERITIES:
        raise InvalidIncident("Unknown severity '{severity}'", field="severity", severity=str(severity)[:20])
    title = (title or "").strip()
    if not title or len(title) > 300:
        raise InvalidIncident("The title must have 1 to 300 characters", field="title")
    ward_code = (ward_code or "").strip() or None
    if ward_code is not None and not _WARD.match(ward_code):
        raise InvalidIncident("A ward code has 5 digits", field="ward_code")
    agency = _agency(session, owner_agency)
    if not actor.sees_all_agencies():
        if agency is None:
            agency = session.get(Agency, actor.agency_id) if actor.agency_id else None
        if agency is None or agency.id != actor.agency_id:
            raise PermissionDenied("You can only act for your own agency")
    who, name = actor_info(actor)
    incident = Incident(
        code=next_code(session, prefix=CODE_PREFIX, year=now.astimezone(LOCAL_TZ).year), incident_type=kind.code,
        title=title, description=(description or "").strip(), severity=severity, status=workflow.INITIAL,
        agency_id=agency.id if agency else None, ward_code=ward_code, location=_check_location(location),
        address=(address or "").strip()[:300], source_alert_id=source_alert_id, created_by_id=who,
        created_by_name=name, opened_at=now, updated_at=now)
    session.add(incident)
    session.flush()
    session.add_all(IncidentChecklistItem(incident_id=incident.id, position=i, key=step.key, text_vi=step.vi,
                                          text_en=step.en) for i, step in enumerate(kind.checklist, start=1))
    session.add(event(incident, actor, now, "created", to_status=incident.status,
                      data={"severity": severity, "type": kind.code, "source_alert_id": source_alert_id}))
    session.flush()
    for alert_id in alert_ids:
        link_alert(session, incident_id=incident.id, alert_id=alert_id, actor=actor, now=now)
    for code in report_codes:
        link_report(session, incident_id=incident.id, tracking_code=code, actor=actor, now=now)
    for entity_id in entity_ids:
        link_entity(session, incident_id=incident.id, entity_id=entity_id, actor=actor, now=now)
    queue_event(session, "incident.opened", payload(incident))
    return incident


def get_incident(session: Session, *, incident_id: int, actor: Any) -> Incident:
    """The incident, or :class:`IncidentNotFound` when missing or another agency's."""
    incident = session.get(Incident, incident_id) if valid_id(incident_id) else None
    if incident is None or not visible(actor, incident):
        raise IncidentNotFound("No incident with id {id}", id=incident_id)
    return incident


def details(session: Session, *, incident_id: int, actor: Any) -> IncidentDetails:
    incident = get_incident(session, incident_id=incident_id, actor=actor)

    def rows(model: Any, *order: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.incident_id == incident.id).order_by(*order)))

    return IncidentDetails(
        incident=incident, agency=session.get(Agency, incident.agency_id) if incident.agency_id else None,
        events=rows(IncidentEvent, IncidentEvent.at, IncidentEvent.id),
        links=rows(IncidentLink, IncidentLink.kind, IncidentLink.id),
        units=rows(IncidentUnit, IncidentUnit.dispatched_at, IncidentUnit.id),
        checklist=rows(IncidentChecklistItem, IncidentChecklistItem.position))


def _filtered(stmt: Any, actor: Any, *, status: Sequence[str] | None, incident_type: str | None,
              severity: str | None, ward_code: str | None, agency_id: int | None, open_only: bool,
              q: str | None) -> Any:
    stmt = scope_to_agency(stmt, Incident.agency_id, actor)
    if status:
        stmt = stmt.where(Incident.status.in_(list(status)))
    if open_only:
        stmt = stmt.where(Incident.status.in_(sorted(workflow.OPEN_STATUSES)))
    if incident_type:
        stmt = stmt.where(Incident.incident_type == incident_type)
    if severity:
        stmt = stmt.where(Incident.severity == severity)
    if ward_code:
        stmt = stmt.where(Incident.ward_code == ward_code)
    if agency_id is not None:
        stmt = stmt.where(Incident.agency_id == agency_id)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(func.lower(Incident.title).like(like) | func.lower(Incident.code).like(like))
    return stmt


def list_incidents(session: Session, *, actor: Any, status: Sequence[str] | None = None,
                   incident_type: str | None = None, severity: str | None = None, ward_code: str | None = None,
                   agency_id: int | None = None, open_only: bool = False, q: str | None = None, limit: int = 50,
                   offset: int = 0) -> tuple[list[Incident], int]:
    """Incidents the actor may see, newest first, and how many match in all."""
    filters = dict(status=status, incident_type=incident_type, severity=severity, ward_code=ward_code,
                   agency_id=agency_id, open_only=open_only, q=q)
    total = session.scalar(_filtered(select(func.count(Incident.id)), actor, **filters)) or 0
    stmt = _filtered(select(Incident), actor, **filters).order_by(Incident.opened_at.desc(), Incident.id.desc())
    rows = list(session.scalars(stmt.limit(min(max(limit, 1), 500)).offset(max(offset, 0))))
    return rows, int(total)


def change_status(session: Session, *, incident_id: int, to: str, actor: Any, now: datetime, reason: str = "",
                  resolution: str | None = None) -> Incident:
    """Move the incident to ``to``; every check (move allowed, resolution note, reason) runs before any change."""
    require_writer(actor)
    incident = lock_incident(session, incident_id=incident_id, actor=actor)
    reason = (reason or "").strip()
    new_resolution = (resolution or "").strip()
    move = workflow.check(incident.status, to, resolution=new_resolution or incident.resolution, reason=reason)
    source = incident.status
    if new_resolution:
        incident.resolution = new_resolution
    for effect in move.effects:
        if effect == workflow.SET_DISPATCHED and incident.dispatched_at is None:
            incident.dispatched_at = now
        elif effect == workflow.SET_RESOLVED:
            incident.resolved_at = now
        elif effect == workflow.SET_CLOSED:
            incident.closed_at = now
        elif effect == workflow.REOPEN:
            incident.resolved_at = None
    incident.status = to
    incident.updated_at = now
    session.add(event(incident, actor, now, "reopened" if workflow.REOPEN in move.effects else "transition",
                      from_status=source, to_status=to, text=reason or new_resolution))
    session.flush()
    queue_event(session, "incident.updated", payload(incident, change="status"))
    return incident


def close(session: Session, *, incident_id: int, resolution: str, actor: Any, now: datetime) -> Incident:
    """Close the incident with its resolution note (required: what was done, what the outcome was)."""
    return change_status(session, incident_id=incident_id, to="closed", actor=actor, now=now, resolution=resolution)


def _writable(session: Session, incident_id: int, actor: Any) -> Incident:
    require_writer(actor)
    incident = lock_incident(session, incident_id=incident_id, actor=actor)
    if incident.status in workflow.TERMINAL:
        raise IncidentClosed()
    return incident


def add_note(session: Session, *, incident_id: int, text: str, actor: Any, now: datetime) -> IncidentEvent:
    """A note in the incident's timeline (what was seen, who was called)."""
    incident = _writable(session, incident_id, actor)
    text = (text or "").strip()
    if not text or len(text) > 4000:
        raise InvalidIncident("A note has 1 to 4000 characters", field="text")
    note = event(incident, actor, now, "note", text=text)
    session.add(note)
    incident.updated_at = now
    session.flush()
    queue_event(session, "incident.updated", payload(incident, change="note"))
    return note


def dispatch_unit(session: Session, *, incident_id: int, name: str, kind: str, actor: Any, now: datetime,
                  note: str = "") -> IncidentUnit:
    """Record a unit sent to the incident; the first one moves an ``open`` incident to ``dispatched``."""
    incident = _writable(session, incident_id, actor)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidIncident("The unit's name must have 1 to 200 characters", field="name")
    if kind not in UNIT_KINDS:
        raise InvalidIncident("Unknown kind of unit '{kind}'", field="kind", kind=str(kind)[:30])
    unit = IncidentUnit(incident_id=incident.id, name=name, kind=kind, note=(note or "").strip()[:2000],
                        dispatched_at=now)
    session.add(unit)
    session.flush()
    session.add(event(incident, actor, now, "unit-dispatched", text=name, data={"unit_id": unit.id, "kind": kind}))
    session.flush()
    if incident.status == "open":
        change_status(session, incident_id=incident.id, to="dispatched", actor=actor, now=now)
    else:
        incident.updated_at = now
        queue_event(session, "incident.updated", payload(incident, change="unit"))
    return unit


def mark_unit(session: Session, *, incident_id: int, unit_id: int, action: str, actor: Any,
              now: datetime) -> IncidentUnit:
    """``arrived`` (on site; moves a ``dispatched`` incident to ``in_progress``) or ``released`` (back to base)."""
    incident = _writable(session, incident_id, actor)
    unit = session.get(IncidentUnit, unit_id) if valid_id(unit_id) else None
    if unit is None or unit.incident_id != incident.id:
        raise UnitNotFound()
    if action == "arrived" and unit.arrived_at is None and unit.released_at is None:
        unit.arrived_at = now
    elif action == "released" and unit.released_at is None:
        unit.released_at = now
    else:
        raise InvalidUnitMove("The unit cannot be marked '{action}' now", action=str(action)[:20])
    session.add(event(incident, actor, now, f"unit-{action}", text=unit.name, data={"unit_id": unit.id}))
    session.flush()
    if action == "arrived" and incident.status == "dispatched":
        change_status(session, incident_id=incident.id, to="in_progress", actor=actor, now=now)
    else:
        incident.updated_at = now
        queue_event(session, "incident.updated", payload(incident, change="unit"))
    return unit


def tick_checklist_item(session: Session, *, incident_id: int, key: str, done: bool, actor: Any,
                        now: datetime) -> IncidentChecklistItem:
    """Mark a step of the SOP checklist done (or not done again)."""
    incident = _writable(session, incident_id, actor)
    item = session.scalar(select(IncidentChecklistItem).where(IncidentChecklistItem.incident_id == incident.id,
                                                              IncidentChecklistItem.key == key))
    if item is None:
        raise ChecklistItemNotFound()
    _who, name = actor_info(actor)
    if done and item.done_at is None:
        item.done_at, item.done_by_name = now, name
    elif not done and item.done_at is not None:
        item.done_at, item.done_by_name = None, ""
    else:
        return item
    session.add(event(incident, actor, now, "checklist", text=item.text_vi, data={"key": key, "done": done}))
    incident.updated_at = now
    session.flush()
    queue_event(session, "incident.updated", payload(incident, change="checklist"))
    return item


def incidents_for_entity(session: Session, *, entity_id: str, actor: Any | None = None,
                         limit: int = 50) -> list[Incident]:
    """Incidents linked to the NGSI-LD entity ``entity_id``, newest first (only the actor's, when one is given)."""
    stmt = (select(Incident).join(IncidentLink, IncidentLink.incident_id == Incident.id)
            .where(IncidentLink.kind == "entity", IncidentLink.ref == entity_id))
    if actor is not None:
        stmt = scope_to_agency(stmt, Incident.agency_id, actor)
    return list(session.scalars(stmt.order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit)))


def open_incidents_geojson(session: Session, *, actor: Any | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the open incidents that have a location (for the console's map)."""
    stmt = select(Incident).where(Incident.status.in_(sorted(workflow.OPEN_STATUSES)), Incident.location.is_not(None))
    if actor is not None:
        stmt = scope_to_agency(stmt, Incident.agency_id, actor)
    features = [{"type": "Feature", "id": i.id, "geometry": i.location, "properties": {
        "id": i.id, "code": i.code, "type": i.incident_type, "severity": i.severity, "status": i.status,
        "title": i.title, "url": f"/console/incidents/{i.id}"}}
        for i in session.scalars(stmt.order_by(Incident.opened_at.desc()).limit(5000)) if i.location]
    return {"type": "FeatureCollection", "features": features}


def open_count(session: Session, *, actor: Any | None = None) -> int:
    """How many incidents still need work (open, dispatched, in progress)."""
    stmt = select(func.count(Incident.id)).where(Incident.status.in_(sorted(workflow.OPEN_STATUSES)))
    if actor is not None:
        stmt = scope_to_agency(stmt, Incident.agency_id, actor)
    return int(session.scalar(stmt) or 0)
