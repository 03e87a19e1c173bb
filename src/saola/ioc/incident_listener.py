"""Incidents opened by rules: ``alert.raised`` with an ``incident_type`` and severity critical or major → an incident.

The incident is opened by ``system: rule <id>``, linked to the alert (and to its subject entity) and
remembers the alert in ``source_alert_id``, which is unique: handling the same alert twice (a
redelivered event, two workers, the catch-up at start-up) opens one incident, never two. An alert an
operator already linked to an incident by hand opens nothing. At start the listener also catches up
on open alerts raised while it was not listening (the in-process bus does not keep events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saola.cases.actors import SystemActor
from saola.core.db import unit_of_work, utcnow, write_intent
from saola.core.directory.models import Agency
from saola.ioc import incidents
from saola.ioc.incident_drafts import draft_from_alert
from saola.ioc.incident_models import Incident, IncidentLink

log = logging.getLogger("saola.ioc.incidents")

AUTO_SEVERITIES = frozenset({"critical", "major"})
TOPIC = "alert.raised"
CATCH_UP_LIMIT = 500


def wants_incident(payload: dict[str, Any]) -> bool:
    return bool(payload.get("incident_type")) and payload.get("severity") in AUTO_SEVERITIES


def _existing(session: Session, alert_id: int) -> Incident | None:
    found = session.scalar(select(Incident).where(Incident.source_alert_id == alert_id))
    if found is not None:
        return found
    return session.scalar(select(Incident).join(IncidentLink, IncidentLink.incident_id == Incident.id)
                          .where(IncidentLink.kind == "alert", IncidentLink.ref == str(alert_id)).limit(1))


def open_from_alert(session: Session, *, alert_id: int, now: Any = None) -> Incident | None:
    """Open the incident of alert ``alert_id`` (or return the one it already has); None if it wants none."""
    from saola.rules import alerts

    existing = _existing(session, alert_id)
    if existing is not None:
        return existing
    alert = alerts.get_alert(session, alert_id=alert_id)
    if not wants_incident({"incident_type": alert.incident_type, "severity": alert.severity}):
        return None
    draft = draft_from_alert(session, alert_id=alert_id)
    actor = SystemActor(name=f"system: rule {alert.rule_id}")
    fields = dict(incident_type=draft.incident_type, title=draft.title, severity=draft.severity, actor=actor,
                  now=now or utcnow(), location=draft.location, ward_code=draft.ward_code,
                  description=draft.description, source_alert_id=alert.id)
    incident = incidents.open_incident(session, owner_agency=_known_agency(session, draft.owner_agency), **fields)
    incidents.link_alert(session, incident_id=incident.id, alert_id=alert.id, actor=actor, now=fields["now"])
    for entity_id in draft.entity_ids:
        incidents.link_entity(session, incident_id=incident.id, entity_id=entity_id, actor=actor, now=fields["now"],
                              verify=False)
    return incident


def _known_agency(session: Session, code: str | None) -> str | None:
    """The rule's owner agency if it exists; otherwise none (the IOC owns the incident until someone assigns it)."""
    if code and session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        return code
    if code:
        log.warning("incident from an alert: unknown owner agency %r", code)
    return None


class IncidentListener:
    """Hears ``alert.raised`` on the app's bus and opens incidents, each in its own transaction."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.factory = app.state.session_factory
        self.bus = app.state.event_bus
        self.task: asyncio.Task[None] | None = None
        self.subscription: Any = None

    async def start(self) -> None:
        self.subscription = self.bus.subscribe(TOPIC, max_queue=10_000, group="incident-listener")
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.subscription is not None:
            await self.subscription.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def handle(self, alert_id: int) -> list[tuple[str, dict[str, Any]]]:
        """Open the alert's incident in one transaction; the events to publish once committed."""
        published: list[tuple[str, dict[str, Any]]] = []
        try:
            with write_intent(), unit_of_work(self.factory, events=published) as session:
                open_from_alert(session, alert_id=alert_id)
        except IntegrityError:  # another worker opened it at the same moment: theirs stands
            return []
        return published

    def catch_up(self) -> list[int]:
        """Alerts still open that want an incident and have none (raised while nobody listened)."""
        from saola.rules import alerts

        with unit_of_work(self.factory) as session:
            rows = alerts.list_alerts(session, states=["active", "acknowledged"], severity=sorted(AUTO_SEVERITIES),
                                      limit=CATCH_UP_LIMIT)
            return [a.id for a in rows if a.incident_type and _existing(session, a.id) is None]

    async def _publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for topic, payload in events:
            await self.bus.publish(topic, payload)

    async def _one(self, alert_id: int) -> None:
        try:
            await self._publish(await asyncio.to_thread(self.handle, alert_id))
        except Exception:  # one bad alert must not stop the listener
            log.exception("opening an incident for alert %s failed", alert_id)

    async def _run(self) -> None:
        try:
            for alert_id in await asyncio.to_thread(self.catch_up):
                await self._one(alert_id)
        except Exception:
            log.exception("catching up on alerts that want an incident failed")
        async for event in self.subscription:
            if wants_incident(event.payload) and isinstance(event.payload.get("id"), int):
                await self._one(event.payload["id"])
