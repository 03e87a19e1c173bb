"""The console's live feed: KPI updates and alert events pushed to browsers over server-sent events.

One :class:`LiveHub` per application listens to the event bus. An event marks the KPIs it concerns stale
(:func:`saola.ioc.kpis.stale_keys`); at most once per ``SAOLA_IOC_CONSOLE_COALESCE_SECONDS`` the stale ones are
recomputed (in a worker thread, one session) and pushed to every connected browser as an ``event: kpis``
message; every ``SAOLA_IOC_CONSOLE_REFRESH_SECONDS`` all KPIs are recomputed anyway. ``alert.*`` events are
forwarded at once as ``event: alert`` (the feed puts new alerts on top), ``incident.*`` as ``event: incident``.
Nothing is computed while no browser listens. A comment line every 15 seconds keeps proxies from closing
the stream. A hub that was not started (an application run without its lifespan) sends the snapshot and ends
the stream; the browser reconnects after the ``retry`` delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import FastAPI

from saola.core.db import utcnow
from saola.ioc import kpis

log = logging.getLogger("saola.ioc.live")

PATTERNS = ("alert.*", "incident.*", "ngsi.entity.*", "case.*", "device.*")
KEEPALIVE_SECONDS = 15.0
CLIENT_QUEUE = 200


def sse(event: str, data: Any) -> str:
    """One server-sent event message."""
    body = json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))
    return f"event: {event}\ndata: {body}\n\n"


class LiveHub:
    """Fans bus events out to the connected console streams, with coalesced KPI recomputation."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        settings = app.state.settings
        self.coalesce = float(settings.ioc_console_coalesce_seconds)
        self.refresh = float(settings.ioc_console_refresh_seconds)
        self.clients: set[asyncio.Queue[str]] = set()
        self.stale: set[str] = set()
        self.latest: dict[str, Any] = {}
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.subscriptions: list[Any] = []
        self.computed = 0  # how many KPI computations ran (tests, diagnostics)
        self.loop: asyncio.AbstractEventLoop | None = None  # the application's loop, once started

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        bus = self.app.state.event_bus
        for pattern in PATTERNS:
            sub = bus.subscribe(pattern, max_queue=10_000)
            self.subscriptions.append(sub)
            self.tasks.append(asyncio.create_task(self._listen(sub), name=f"ioc-live-{pattern}"))
        self.tasks.append(asyncio.create_task(self._compute_loop(), name="ioc-live-kpis"))

    async def stop(self) -> None:
        self.loop = None
        for sub in self.subscriptions:
            await sub.close()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for queue in list(self.clients):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait("")  # the end marker: streams finish

    async def _listen(self, sub: Any) -> None:
        async for event in sub:
            try:
                self.on_event(event.topic, event.payload)
            except Exception:  # a bad payload must not stop the feed
                log.exception("console live feed: event not handled", extra={"topic": event.topic})

    def on_event(self, topic: str, payload: dict[str, Any]) -> None:
        if topic.startswith("alert."):
            self.broadcast(sse("alert", {"topic": topic, **_alert_view(payload)}))
        elif topic.startswith("incident."):
            self.broadcast(sse("incident", {"topic": topic, "id": payload.get("id"),
                                            "status": payload.get("status"), "title": payload.get("title")}))
        keys = kpis.stale_keys(topic, payload)
        if keys:
            self.stale |= keys
            self.wake.set()

    # --- KPIs -----------------------------------------------------------------------------------------------

    async def _compute_loop(self) -> None:
        last_full = time.monotonic()
        while True:
            timeout = max(0.05, self.refresh - (time.monotonic() - last_full))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=timeout)
            self.wake.clear()
            if not self.clients:
                continue  # nobody listens: the snapshot is computed when someone connects
            full = time.monotonic() - last_full >= self.refresh
            keys = None if full else set(self.stale)
            self.stale.clear()
            if full:
                last_full = time.monotonic()
            if keys is not None and not keys:
                continue
            try:
                values = await anyio.to_thread.run_sync(self.compute, keys)
            except Exception:  # logged; the next event or refresh tries again
                log.exception("console KPIs could not be computed")
                values = {}
            if values:
                self.broadcast(sse("kpis", values))
            await asyncio.sleep(self.coalesce)  # at most one push per coalescing window

    def compute(self, keys: set[str] | None = None) -> dict[str, Any]:
        """The KPIs (all, or ``keys``) in one session; also kept as the latest snapshot."""
        settings = self.app.state.settings
        with self.app.state.session_factory() as session:
            values = kpis.compute(session, now=utcnow(), tz=settings.timezone, keys=keys)
            session.rollback()
        self.computed += 1
        self.latest.update(values)
        return values

    # --- clients --------------------------------------------------------------------------------------------

    def broadcast(self, message: str) -> None:
        for queue in list(self.clients):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # a stalled browser: drop it, it reconnects and gets a fresh snapshot
                self.clients.discard(queue)

    async def stream(self) -> AsyncIterator[str]:
        """The messages of one browser: a full snapshot first, then updates as they come."""
        queue: asyncio.Queue[str] = asyncio.Queue(CLIENT_QUEUE)
        self.clients.add(queue)
        try:
            yield "retry: 3000\n\n"
            snapshot = await anyio.to_thread.run_sync(self.compute, None)
            yield sse("kpis", snapshot)
            if self.loop is None:  # not started (an app without its lifespan): nothing would follow
                return
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if message == "":
                    return
                yield message
        finally:
            self.clients.discard(queue)


def _alert_view(payload: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "rule_id", "subject", "entity_type", "severity", "state", "title_vi", "title_en", "at",
            "location", "owner_agency", "incident_type", "acknowledged_at", "acknowledged_by", "value", "occurrences")
    return {k: payload.get(k) for k in keys if k in payload}


def hub_of(app: FastAPI) -> LiveHub:
    hub = getattr(app.state, "ioc_live", None)
    if hub is None:  # the app was built without its lifespan (TestClient without ``with``): a hub on demand
        hub = LiveHub(app)
        app.state.ioc_live = hub
    return hub
