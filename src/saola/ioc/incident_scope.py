"""Helpers shared by the incident services: who acts, who sees what, locking, timeline rows, event payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases.actors import SystemActor
from saola.core.errors import PermissionDenied
from saola.ioc.errors import IncidentNotFound
from saola.ioc.incident_models import Incident, IncidentEvent


def actor_info(actor: Any) -> tuple[int | None, str]:
    """(user id, name) of a signed-in principal, or (None, name) of the system or a rule."""
    if isinstance(actor, SystemActor):
        return None, actor.name[:120]
    return int(actor.user.id), str(actor.user.username)[:120]


def require_writer(actor: Any) -> None:
    """The actor may change incidents (``incidents:write``); the system always may."""
    if isinstance(actor, SystemActor):
        return
    if not actor.can("incidents:write"):
        raise PermissionDenied("This needs the permission '{permission}'", permission="incidents:write")


def visible(actor: Any, incident: Incident) -> bool:
    """Whether the actor may see the incident: every agency's with ``agencies:all``, else only their own agency's."""
    return bool(actor.sees_all_agencies() or (incident.agency_id is not None and incident.agency_id == actor.agency_id))


MAX_ID = 2**31 - 1  # ids are 32-bit integers: a bigger one cannot exist (and would overflow PostgreSQL's integer)


def valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


def lock_incident(session: Session, *, incident_id: int, actor: Any) -> Incident:
    """The incident, locked for update (PostgreSQL) and re-read: concurrent moves are judged one after the other."""
    if not valid_id(incident_id):
        raise IncidentNotFound("No incident with id {id}", id=incident_id)
    stmt = select(Incident).where(Incident.id == incident_id).with_for_update().execution_options(
        populate_existing=True)
    incident = session.scalars(stmt).first()
    if incident is None or not visible(actor, incident):
        raise IncidentNotFound("No incident with id {id}", id=incident_id)
    return incident


def event(incident: Incident, actor: Any, now: datetime, kind: str, *, from_status: str | None = None,
          to_status: str | None = None, text: str = "", data: dict[str, Any] | None = None) -> IncidentEvent:
    who, name = actor_info(actor)
    return IncidentEvent(incident_id=incident.id, at=now, actor_id=who, actor_name=name, kind=kind,
                         from_status=from_status, to_status=to_status, text=text, data=dict(data or {}))


def payload(incident: Incident, *, change: str = "") -> dict[str, Any]:
    """The body of ``incident.opened`` / ``incident.updated`` events."""
    return {"id": incident.id, "code": incident.code, "type": incident.incident_type, "title": incident.title,
            "severity": incident.severity, "status": incident.status, "agency_id": incident.agency_id,
            "ward_code": incident.ward_code, "location": incident.location, "change": change,
            "source_alert_id": incident.source_alert_id}
