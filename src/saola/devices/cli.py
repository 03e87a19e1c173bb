"""``saola ingest``: the MQTT ingest worker alone, so ingestion scales apart from the web app.

Several processes (on one machine or many) share the subscription group ``SAOLA_MQTT_SHARED_GROUP``
and split the devices' messages; give each a stable ``--client-id`` so the broker keeps what it had
sent it (not yet stored) across a restart. The process also publishes due downlink commands. It stops
on SIGINT/SIGTERM; messages not yet stored stay with the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from saola.core.signals import stop_on_signals

if TYPE_CHECKING:
    from saola.core.events import EventBus

log = logging.getLogger("saola.devices.mqtt")


def ingest_command(
    client_id: Annotated[str | None, typer.Option(help="MQTT client id (default: SAOLA_MQTT_CLIENT_ID, else "
                                                       "saola-ingest-<hostname>)")] = None,
    group: Annotated[str | None, typer.Option(help="Shared subscription group (default: SAOLA_MQTT_SHARED_GROUP)")]
    = None,
    report_every: Annotated[float, typer.Option(help="Seconds between two counter lines in the log (0: none)")] = 60.0,
    store_concurrency: Annotated[int | None, typer.Option(
        min=1, max=8, help="Batches stored at once, each in its own transaction (default: 2 on PostgreSQL, 1 on "
                           "SQLite)")] = None,
) -> None:
    """Run the MQTT ingest worker (subscribe, store, acknowledge; send device commands) until stopped."""
    from saola.core.logs import configure_logging
    from saola.core.settings import load_settings

    overrides = {"mqtt_shared_group": group} if group is not None else {}
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_json)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        runner = asyncio.run
    from saola.core.events import EventBusUnavailable, make_event_bus

    try:
        bus = make_event_bus(settings)  # redis/nats: the web app's notifier, rules and console get our events
    except EventBusUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    runner(_run(settings, client_id, report_every, bus, store_concurrency))


async def _run(settings: object, client_id: str | None, report_every: float, bus: EventBus,
               store_concurrency: int | None = None) -> None:
    from saola.core.db import make_engine, make_session_factory
    from saola.core.settings import Settings
    from saola.devices.mqtt_worker import MqttWorker

    assert isinstance(settings, Settings)
    engine = make_engine(settings.effective_database_url)
    worker = MqttWorker(settings=settings, session_factory=make_session_factory(engine), event_bus=bus,
                        client_id=client_id, role="ingest", store_concurrency=store_concurrency)
    stop = stop_on_signals()
    await worker.start(wait_connected=False)
    log.info("saola ingest started", extra={"client_id": worker.client_id, "broker": worker.status()["broker"],
                                            "group": settings.mqtt_shared_group or None})
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), report_every if report_every > 0 else None)
            if report_every > 0 and not stop.is_set():
                log.info("saola ingest counters", extra=worker.status())
    finally:
        await worker.stop()
        await bus.close()
        engine.dispose()
        log.info("saola ingest stopped", extra=worker.status())
