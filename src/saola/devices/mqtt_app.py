"""The MQTT ingest worker and the command listener inside the application (``saola serve``/``make run``).

``SAOLA_MQTT_INGEST``: ``auto`` starts the worker when the broker (``SAOLA_MQTT_URL``, else
``mqtt://127.0.0.1:1883``) answers and says clearly in the log when it does not (never with
``SAOLA_ENV=test``, so test apps do not connect by accident); ``on`` starts it and keeps trying to
connect; ``off`` leaves ingestion to ``saola ingest`` processes. The command listener (NGSI-LD writes
of command attributes → commands) always runs: a separate ``saola ingest`` sends what it queues.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from fastapi import FastAPI

from saola.devices.commands import CommandListener
from saola.devices.mqtt_worker import BrokerConfig, MqttWorker

log = logging.getLogger("saola.devices.mqtt")


@dataclass
class InApp:
    listener: CommandListener
    worker: MqttWorker | None


def include_routers(app: FastAPI) -> None:
    from saola.devices import commands_api

    app.include_router(commands_api.router)


async def start_in_app(app: FastAPI) -> InApp:
    settings = app.state.settings
    listener = CommandListener(app)
    await listener.start()
    mode = settings.mqtt_ingest
    if mode == "off" or (mode == "auto" and settings.env == "test"):
        log.info("MQTT ingestion is off in this process", extra={"mqtt_ingest": mode})
        return InApp(listener, None)
    broker = BrokerConfig.of(settings)
    where = f"{broker.host}:{broker.port}"
    if mode == "auto" and not await asyncio.to_thread(broker.reachable):
        log.warning(f"no MQTT broker at {where}: MQTT ingestion is OFF (start Mosquitto, set SAOLA_MQTT_URL, or run "
                    "`saola ingest` later); HTTP ingestion (/iot/json, /iot/d) works", extra={"broker": where})
        return InApp(listener, None)
    worker = MqttWorker(settings=settings, session_factory=app.state.session_factory, event_bus=app.state.event_bus,
                        role="app", ingestor=getattr(app.state, "ingestor", None))
    app.state.ingestor = worker.ingestor
    await worker.start(wait_connected=False)
    app.state.mqtt_worker = worker
    app.state.command_wake = worker.command_wake
    log.info(f"MQTT ingestion on: subscribing at {where}", extra={"broker": where})
    return InApp(listener, worker)


async def stop_in_app(app: FastAPI, running: InApp) -> None:
    if running.worker is not None:
        await running.worker.stop()
        app.state.mqtt_worker = None
    await running.listener.stop()
