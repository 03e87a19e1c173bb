"""The background task that sends case reminders and escalations, started and stopped by the app's lifespan.

Every ``cases_reminder_seconds`` (the first run one interval after start-up, so a short-lived app,
a test client or a CLI command, does no background work) it runs
:func:`saola.cases.reminders.send_reminders` in a thread, in its own transaction; the messaging
worker then delivers the e-mails queued. 0 turns it off. A failing run is logged and the next
one tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from saola.cases.reminders import ReminderRun, send_reminders
from saola.core.calendar import default_calendar
from saola.core.db import unit_of_work, utcnow

log = logging.getLogger(__name__)


class ReminderWorker:
    """Runs :func:`send_reminders` every ``interval_seconds`` (default: the ``cases_reminder_seconds`` setting)."""

    def __init__(self, app: FastAPI, *, interval_seconds: float | None = None,
                 first_delay_seconds: float | None = None) -> None:
        self.factory = app.state.session_factory
        self.settings = app.state.settings
        self.interval_seconds = self.settings.cases_reminder_seconds if interval_seconds is None else interval_seconds
        self.first_delay_seconds = self.interval_seconds if first_delay_seconds is None else first_delay_seconds
        self.wake = asyncio.Event()
        self.stopping = False
        self.task: asyncio.Task[None] | None = None

    def run_once(self) -> ReminderRun:
        """One run now (blocking)."""
        with unit_of_work(self.factory) as session:
            return send_reminders(session, now=utcnow(), calendar=default_calendar(), settings=self.settings)

    async def start(self) -> None:
        self.stopping = False
        if self.interval_seconds > 0:
            self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=seconds)

    async def _loop(self) -> None:
        await self._sleep(self.first_delay_seconds)
        while not self.stopping:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:  # a database hiccup must not end the reminders for the app's lifetime
                log.exception("case reminder run failed")
            await self._sleep(self.interval_seconds)
