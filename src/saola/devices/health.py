"""Device health: message rate, offline detection and the ``device.offline`` / ``device.online`` events.

The ingest core keeps ``last_seen``, the counters, battery and signal up to date and marks a device
online (publishing ``device.online`` when it was offline). :func:`check_devices` — run every
``devices_health_check_seconds`` by :class:`HealthMonitor` in the application's lifespan, and
callable from tests with an explicit ``now`` — computes each device's message rate (messages per
minute since the previous check) and marks offline every device with an expected reporting interval
that has been silent for more than twice that interval (since it was last seen, or provisioned if
never), queuing ``device.offline`` for the rules engine. Events are returned to the caller, which
publishes them on the event bus after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from saola.core.db import queue_event, unit_of_work, utcnow
from saola.devices import rollups
from saola.devices.models import Device

log = logging.getLogger("saola.devices.health")
DEVICES = Device.__table__
RATE_WINDOW = timedelta(seconds=60)  # the shortest span a rate is measured over
PURGE_EVERY = timedelta(hours=1)


def _silent_since(row: Any) -> datetime:
    return row.last_seen or row.created_at


def _update_rates(session: Session, now: datetime) -> None:
    rows = session.execute(select(DEVICES.c.id, DEVICES.c.message_count, DEVICES.c.rate_mark_count,
                                  DEVICES.c.rate_mark_at).order_by(DEVICES.c.id))  # updated in id order, as ingest
    params = []
    for row in rows:
        if row.rate_mark_at is None:
            params.append({"pk": row.id, "rate": 0.0, "mark": row.message_count, "at": now})
        elif now - row.rate_mark_at >= RATE_WINDOW:
            minutes = (now - row.rate_mark_at).total_seconds() / 60
            params.append({"pk": row.id, "rate": round((row.message_count - row.rate_mark_count) / minutes, 3),
                           "mark": row.message_count, "at": now})
    if params:
        c = DEVICES.c
        session.connection().execute(update(DEVICES).where(c.id == bindparam("pk")).values(
            message_rate=bindparam("rate"), rate_mark_count=bindparam("mark"),
            rate_mark_at=bindparam("at", type_=c.rate_mark_at.type)), params)


def _mark_offline(session: Session, now: datetime) -> int:
    candidates = session.execute(select(DEVICES.c.id, DEVICES.c.last_seen, DEVICES.c.created_at,
                                        DEVICES.c.expected_interval)
                                 .where(DEVICES.c.online.is_not(False), DEVICES.c.expected_interval.is_not(None)))
    stale = [r.id for r in candidates if now - _silent_since(r) > timedelta(seconds=2 * r.expected_interval)]
    if not stale:
        return 0
    # re-read under lock: a batch being stored may have just seen the device
    locked = session.execute(select(DEVICES).where(DEVICES.c.id.in_(stale), DEVICES.c.online.is_not(False))
                             .order_by(DEVICES.c.id).with_for_update()).all()
    marked = []
    for row in locked:
        if now - _silent_since(row) > timedelta(seconds=2 * row.expected_interval):
            marked.append(row.id)
            queue_event(session, "device.offline", {
                "tenant": row.tenant, "device_id": row.device_id, "entity_id": row.entity_id,
                "entity_type": row.entity_type, "expected_interval": row.expected_interval,
                "last_seen": row.last_seen.isoformat() if row.last_seen else None, "at": now.isoformat()})
    if marked:
        session.execute(update(DEVICES).where(DEVICES.c.id.in_(marked)).values(online=False))
    return len(marked)


def check_devices(factory: sessionmaker[Session], *, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """One health pass (rates, offline devices) in one transaction; the events to publish."""
    events: list[tuple[str, dict[str, Any]]] = []
    with unit_of_work(factory, events=events) as session:
        _update_rates(session, now)
        _mark_offline(session, now)
    return events


class HealthMonitor:
    """Runs :func:`check_devices` periodically (and the rollup retention hourly) inside the app."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.settings = app.state.settings
        self.task: asyncio.Task[None] | None = None
        self.last_purge: datetime | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.devices_health_check_seconds)
            try:
                await self.tick(utcnow())
            except Exception:  # the database may be down: try again at the next tick
                log.exception("device health check failed")

    async def tick(self, now: datetime) -> None:
        factory = self.app.state.session_factory
        events = await run_in_threadpool(check_devices, factory, now=now)
        for topic, payload in events:
            await self.app.state.event_bus.publish(topic, payload)
        if self.last_purge is None or now - self.last_purge >= PURGE_EVERY:
            self.last_purge = now
            await run_in_threadpool(self._purge, now)

    def _purge(self, now: datetime) -> None:
        with unit_of_work(self.app.state.session_factory) as session:
            deleted = rollups.purge(session, now=now, days_1m=self.settings.devices_rollup_retention_days_1m,
                                    days_1h=self.settings.devices_rollup_retention_days_1h)
        if deleted:
            log.info("device rollups purged", extra={"rows": deleted})
