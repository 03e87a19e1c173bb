"""The background task that sends case reminders and escalations, started and stopped by the app's lifespan.

Every ``cases_reminder_seconds`` (the first run one interval after start-up; see
:class:`saola.core.periodic.PeriodicJob`) it runs :func:`saola.cases.reminders.send_reminders` in a
thread, in its own transaction; the messaging worker then delivers the e-mails queued. 0 turns it off.
"""

from __future__ import annotations

from fastapi import FastAPI

from saola.cases.reminders import ReminderRun, send_reminders
from saola.core.calendar import default_calendar
from saola.core.db import unit_of_work, utcnow
from saola.core.periodic import PeriodicJob


class ReminderWorker(PeriodicJob):
    """Runs :func:`send_reminders` every ``interval_seconds`` (default: the ``cases_reminder_seconds`` setting)."""

    name = "case reminder run"

    def __init__(self, app: FastAPI, *, interval_seconds: float | None = None,
                 first_delay_seconds: float | None = None) -> None:
        self.factory = app.state.session_factory
        self.settings = app.state.settings
        interval = self.settings.cases_reminder_seconds if interval_seconds is None else interval_seconds
        super().__init__(interval_seconds=interval,
                         first_delay_seconds=interval if first_delay_seconds is None else first_delay_seconds)

    def run_once(self) -> ReminderRun:
        """One run now (blocking)."""
        with unit_of_work(self.factory) as session:
            return send_reminders(session, now=utcnow(), calendar=default_calendar(), settings=self.settings)
