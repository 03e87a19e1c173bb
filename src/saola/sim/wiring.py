"""What the application mounts from the simulator: nothing to route; the simulator as a background task.

With ``SAOLA_SIMULATOR=on`` (``make run`` sets it) ``saola serve`` runs the demo city's simulator
in its lifespan, beside the server: over MQTT when the broker answers (the app's own MQTT ingest
worker or a ``saola ingest`` process stores the messages), else over HTTP to the application
itself, in-process (``/iot/json/bulk``, the same route devices use). It stops with the server — no
separate process is left behind on Ctrl-C. Run it in one server process only (``--workers 1``), or
use ``saola simulate`` beside a multi-worker server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from saola.core.db import unit_of_work
from saola.core.settings import Settings
from saola.devices.mqtt_worker import BrokerConfig
from saola.sim.city import City
from saola.sim.load import API_KEY, demo_city, demo_group_provisioned, provisioned_devices
from saola.sim.runner import Simulator, choose_sender
from saola.sim.scenario import Scenario

log = logging.getLogger("saola.sim")


def include_routers(app: FastAPI) -> None:
    """The simulator has no routes."""


async def make_simulator(settings: Settings, *, http_url: str = "http://127.0.0.1:8000", app: Any = None,
                         say: Callable[[str], None] = log.info, model_start: datetime | None = None,
                         city: City | None = None, api_key: str = API_KEY) -> Simulator:
    """A simulator of the demo city (or ``city``) with the settings' rate, acceleration, seed and transport."""
    city = city or await asyncio.to_thread(demo_city)
    sender = await choose_sender(transport=settings.simulator_transport, api_key=api_key,
                                 broker=BrokerConfig.of(settings), http_url=http_url, app=app, say=say)
    scenario = Scenario(city, settings.simulator_seed, enabled=settings.simulator_events)
    return Simulator(city, sender, rate=settings.simulator_rate, acceleration=settings.simulator_acceleration,
                     seed=settings.simulator_seed, scenario=scenario, model_start=model_start)


async def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start the simulator when ``SAOLA_SIMULATOR=on``; return the coroutine function that stops it."""
    settings: Settings = app.state.settings
    stop_event = asyncio.Event()
    task: asyncio.Task[None] | None = None
    if settings.simulator == "on":
        task = asyncio.create_task(_run(app, settings, stop_event), name="saola-simulator")

    async def stop() -> None:
        stop_event.set()
        if task is not None:
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    return stop


async def _run(app: FastAPI, settings: Settings, stop: asyncio.Event) -> None:
    def provisioned() -> set[str]:
        with unit_of_work(app.state.session_factory) as session:
            return provisioned_devices(session) if demo_group_provisioned(session) else set()

    try:
        devices = await asyncio.to_thread(provisioned)
        if not devices:
            log.warning("simulator: the demo devices are not provisioned (run `saola demo`); not simulating")
            return
        city = (await asyncio.to_thread(demo_city)).with_devices(devices)
        simulator = await make_simulator(settings, app=app, city=city)
    except Exception as exc:  # a broker that refuses us: the server still runs, the log says why
        log.error("simulator could not start", extra={"error": str(exc)[:300]})
        return
    app.state.simulator = simulator  # its stats: app.state.simulator.stats
    log.info(f"simulator: {len(simulator.devices)} demo devices, up to {settings.simulator_rate:g} messages/s")
    try:
        stats = await simulator.run(stop=stop)
        log.info("simulator stopped", extra=stats.as_json())
    finally:
        await simulator.sender.close()
