"""The background job of the alerts: notifications of new alerts and escalation of unacknowledged critical ones.

Every ``SAOLA_ALERTS_POLL_SECONDS`` (and at once after an ``alert.raised`` event on the bus) it runs
:func:`run_alert_duties` in a thread, in its own transaction:

1. every alert not yet notified (``notified_at`` is NULL) gets its notices queued in the outbox
   (:func:`saola.rules.alert_notices.notify_raised`) and ``notified_at`` set, so a notice is sent
   once across restarts and worker processes (rows are claimed with ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL). An alert already cleared by then is marked without notices (a blip is not news);
2. every critical alert still ``active`` and unacknowledged ``SAOLA_ALERTS_ESCALATE_AFTER_SECONDS``
   after it started, not yet escalated, is escalated to level 1 (event ``alert.escalated``) and the
   owning agency's leadership is notified (:func:`saola.rules.alert_notices.notify_escalated`).

The messaging worker then delivers the queued e-mails, SMS and webhooks with its retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.db import unit_of_work, utcnow, write_intent
from saola.core.periodic import PeriodicJob
from saola.rules import alert_notices, alerts
from saola.rules.alert_models import OPEN_STATES, Alert

BATCH = 200
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertRun:
    notified: int = 0
    messages: int = 0
    escalated: int = 0


def _claim(session: Session, stmt: Any) -> list[Alert]:
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt.limit(BATCH)))


def run_alert_duties(session: Session, *, now: datetime, settings: Any) -> AlertRun:
    """Queue the notices of new alerts and escalate overdue critical ones (flushes; the caller commits)."""
    notified = messages = escalated = 0
    pending = _claim(session, select(Alert).where(Alert.notified_at.is_(None)).order_by(Alert.id))
    for alert in pending:
        if alert.state in OPEN_STATES:
            messages += alert_notices.notify_raised(session, alert=alert, now=now, settings=settings)
        alert.notified_at = now
        notified += 1
    cutoff = now - timedelta(seconds=settings.alerts_escalate_after_seconds)
    overdue = _claim(session, select(Alert).where(
        Alert.state == "active", Alert.severity == "critical", Alert.acknowledged_at.is_(None),
        Alert.escalation_level == 0, Alert.started_at <= cutoff).order_by(Alert.started_at, Alert.id))
    for alert in overdue:
        alerts.transition(session, alert=alert, action="escalate", actor="system", now=now,
                          note=f"unacknowledged for {(now - alert.started_at).total_seconds():.0f} s")
        messages += alert_notices.notify_escalated(session, alert=alert, now=now, settings=settings)
        escalated += 1
    session.flush()
    return AlertRun(notified=notified, messages=messages, escalated=escalated)


class AlertWorker(PeriodicJob):
    """Runs :func:`run_alert_duties` every ``SAOLA_ALERTS_POLL_SECONDS`` and after each ``alert.raised``."""

    name = "alert notifications and escalation"

    def __init__(self, app: FastAPI, *, interval_seconds: float | None = None,
                 first_delay_seconds: float | None = None) -> None:
        self.factory = app.state.session_factory
        self.settings = app.state.settings
        self.bus = app.state.event_bus
        self.listener: asyncio.Task[None] | None = None
        self.pending_events: list[tuple[str, dict[str, Any]]] = []
        interval = self.settings.alerts_poll_seconds if interval_seconds is None else interval_seconds
        # The first run one interval after start-up (or at the first alert.raised): a short-lived app does nothing.
        super().__init__(interval_seconds=interval,
                         first_delay_seconds=interval if first_delay_seconds is None else first_delay_seconds)

    def run_once(self, now: datetime | None = None) -> AlertRun:
        """One run at ``now`` (default: the current time); blocking."""
        events: list[tuple[str, dict[str, Any]]] = []
        with write_intent(), unit_of_work(self.factory, events=events) as session:
            run = run_alert_duties(session, now=now or utcnow(), settings=self.settings)
        self.pending_events = events
        return run

    async def _publish_after(self) -> None:
        for topic, body in self.pending_events:
            await self.bus.publish(topic, body)
        self.pending_events = []

    async def _loop(self) -> None:
        await self._sleep(self.first_delay_seconds)
        while not self.stopping:
            try:
                await asyncio.to_thread(self.run_once)
                await self._publish_after()
            except Exception:  # a database hiccup must not end the job for the app's lifetime
                log.exception("%s failed", self.name)
            await self._sleep(self.interval_seconds)
            self.wake.clear()

    async def start(self) -> None:
        await super().start()
        if self.interval_seconds > 0:
            self.listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        await super().stop()

    async def _listen(self) -> None:
        subscription = self.bus.subscribe("alert.raised", group="alert-notices")
        try:
            async for _event in subscription:
                self.wake.set()
        finally:
            await subscription.close()
