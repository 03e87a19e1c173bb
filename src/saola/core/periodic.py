"""A job the app runs in the background every so often: started and stopped by the app's lifespan.

Subclasses give :meth:`PeriodicJob.run_once` (blocking; run in a thread, in its own transactions) and a
name for the log. The first run comes ``first_delay_seconds`` after start-up, so a short-lived app (a
test client, a CLI command) does no background work; an interval of 0 or less turns the job off. A
failing run is logged and the next one tries again: a database hiccup must not end the job for the
app's lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Any

log = logging.getLogger(__name__)


class PeriodicJob(ABC):
    """Runs :meth:`run_once` every ``interval_seconds`` until :meth:`stop`."""

    name = "periodic job"

    def __init__(self, *, interval_seconds: float, first_delay_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self.first_delay_seconds = first_delay_seconds
        self.wake = asyncio.Event()
        self.stopping = False
        self.task: asyncio.Task[None] | None = None

    @abstractmethod
    def run_once(self) -> Any:
        """One run now (blocking)."""

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
            except Exception:
                log.exception("%s failed", self.name)
            await self._sleep(self.interval_seconds)
