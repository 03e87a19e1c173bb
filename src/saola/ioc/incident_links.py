"""Linking an incident to what it is about: alerts (by id), citizen reports (by tracking code), entities (by id).

Other packages are read through their service functions only: :func:`saola.rules.alerts.get_alert`,
:func:`saola.feedback.reports.get_public` and :func:`saola.context.entities.retrieve_entity`. A link is
unique per incident; linking the same thing twice returns the existing link and records nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.db import queue_event
from saola.core.errors import DomainError
from saola.ioc import incident_workflow as workflow
from saola.ioc.errors import IncidentClosed, InvalidIncident, LinkNotFound
from saola.ioc.incident_models import LINK_KINDS, Incident, IncidentLink
from saola.ioc.incident_scope import actor_info, event, lock_incident, payload, require_writer, valid_id

NAME_SUFFIXES = ("/name", "#name")


def _add(session: Session, incident: Incident, *, kind: str, ref: str, label: str, actor: Any,
         now: datetime) -> IncidentLink:
    existing = session.scalar(select(IncidentLink).where(IncidentLink.incident_id == incident.id,
                                                         IncidentLink.kind == kind, IncidentLink.ref == ref))
    if existing is not None:
        return existing
    _who, name = actor_info(actor)
    link = IncidentLink(incident_id=incident.id, kind=kind, ref=ref, label=label[:300], created_at=now,
                        created_by_name=name)
    session.add(link)
    session.add(event(incident, actor, now, "linked", text=label[:300], data={"kind": kind, "ref": ref}))
    incident.updated_at = now
    session.flush()
    queue_event(session, "incident.updated", payload(incident, change="link"))
    return link


def _incident(session: Session, incident_id: int, actor: Any) -> Incident:
    require_writer(actor)
    incident = lock_incident(session, incident_id=incident_id, actor=actor)
    if incident.status in workflow.TERMINAL:
        raise IncidentClosed()
    return incident


def link_alert(session: Session, *, incident_id: int, alert_id: int, actor: Any, now: datetime) -> IncidentLink:
    """Link the IOC alert ``alert_id``; an unknown alert is :class:`LinkNotFound`."""
    from saola.rules import alerts

    incident = _incident(session, incident_id, actor)
    try:
        if not valid_id(int(alert_id)):
            raise ValueError(alert_id)
        alert = alerts.get_alert(session, alert_id=int(alert_id))
    except (DomainError, ValueError, TypeError):
        raise LinkNotFound("No alert with id {id}", id=str(alert_id)[:20]) from None
    return _add(session, incident, kind="alert", ref=str(alert.id), label=alert.title_vi or alert.title_en,
                actor=actor, now=now)


def link_report(session: Session, *, incident_id: int, tracking_code: str, actor: Any, now: datetime) -> IncidentLink:
    """Link the 1022 citizen report with this tracking code (``PA-2026-000123``)."""
    from saola.feedback import reports

    incident = _incident(session, incident_id, actor)
    code = (tracking_code or "").strip().upper()
    try:
        report = reports.get_public(session, tracking_code=code) if code else None
    except DomainError:
        report = None
    if report is None:
        raise LinkNotFound("No citizen report with the tracking code '{code}'", code=code[:40])
    return _add(session, incident, kind="report", ref=report.case.code, label=report.case.title, actor=actor, now=now)


def _entity_name(stored: dict[str, Any]) -> str:
    for key, instances in stored.items():
        if key.endswith(NAME_SUFFIXES) and isinstance(instances, list) and instances:
            value = instances[0].get("value") if isinstance(instances[0], dict) else None
            if isinstance(value, str):
                return value
    return ""


def link_entity(session: Session, *, incident_id: int, entity_id: str, actor: Any, now: datetime,
                verify: bool = True, tenant: str = "") -> IncidentLink:
    """Link the NGSI-LD entity ``entity_id`` (a lamp, a road segment...); with ``verify`` it must exist."""
    from saola.context.entities import retrieve_entity
    from saola.context.errors import NgsiLdError

    incident = _incident(session, incident_id, actor)
    entity_id = (entity_id or "").strip()
    if not entity_id or len(entity_id) > 500 or ":" not in entity_id or any(c.isspace() for c in entity_id):
        raise InvalidIncident("An entity id is a URI such as urn:ngsi-ld:Streetlight:bn-09190-0042",
                              field="entity_id")
    label = entity_id
    if verify:
        try:
            stored = retrieve_entity(session, tenant=tenant, entity_id=entity_id)
        except NgsiLdError:
            raise LinkNotFound("No entity '{id}'", id=entity_id[:200]) from None
        label = _entity_name(stored) or entity_id
    return _add(session, incident, kind="entity", ref=entity_id, label=label, actor=actor, now=now)


def unlink(session: Session, *, incident_id: int, link_id: int, actor: Any, now: datetime) -> None:
    """Remove a link made by mistake (recorded in the timeline)."""
    incident = _incident(session, incident_id, actor)
    link = session.get(IncidentLink, link_id) if valid_id(link_id) else None
    if link is None or link.incident_id != incident.id or link.kind not in LINK_KINDS:
        raise LinkNotFound("No such link on this incident")
    session.add(event(incident, actor, now, "unlinked", text=link.label, data={"kind": link.kind, "ref": link.ref}))
    session.delete(link)
    incident.updated_at = now
    session.flush()
    queue_event(session, "incident.updated", payload(incident, change="link"))
