"""``saola simulate``: send the demo city's telemetry through the real ingestion path until stopped.

Needs the demo city (``saola demo``: its entities and the devices of API key ``saola-demo-key``).
Defaults come from the ``SAOLA_SIMULATOR_*`` settings; options override them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from saola.core.settings import Settings
from saola.core.signals import stop_on_signals

if TYPE_CHECKING:
    from saola.sim.city import City
    from saola.sim.runner import Stats


def demo_devices(settings: Settings) -> set[str]:
    """The demo devices provisioned in the configured database (none before ``saola demo``)."""
    from saola.core.db import make_engine, make_session_factory, unit_of_work
    from saola.sim.load import demo_group_provisioned, provisioned_devices

    engine = make_engine(settings.effective_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return provisioned_devices(session) if demo_group_provisioned(session) else set()
    finally:
        engine.dispose()


def simulate_command(
    rate: Annotated[float | None, typer.Option(help="Messages per second (default SAOLA_SIMULATOR_RATE, 20)")] = None,
    acceleration: Annotated[float | None, typer.Option(
        help="Simulated day speed-up, e.g. 60: an hour a minute (default SAOLA_SIMULATOR_ACCELERATION, 1)")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of readings and events (default SAOLA_SIMULATOR_SEED)")] = None,
    transport: Annotated[str | None, typer.Option(help="auto, mqtt or http (default SAOLA_SIMULATOR_TRANSPORT)")] \
        = None,
    http_url: Annotated[str, typer.Option(help="Saola's address for the HTTP transport")] = "http://127.0.0.1:8000",
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C)")] = None,
    events: Annotated[bool | None, typer.Option("--events/--no-events",
                                                help="Inject faults and events (default SAOLA_SIMULATOR_EVENTS)")] \
        = None,
    start: Annotated[str | None, typer.Option(help="Simulated time at start, ISO 8601 (default: now)")] = None,
    wards: Annotated[str | None, typer.Option(help="Only these wards, by code, comma-separated (e.g. 09187,09190)")] \
        = None,
) -> None:
    """Send the demo devices' telemetry (daily cycles, injected faults) over MQTT, or HTTP without a broker."""
    from saola.cli import _settings

    settings = _settings()
    changes = {k: v for k, v in (("simulator_rate", rate), ("simulator_acceleration", acceleration),
                                 ("simulator_seed", seed), ("simulator_transport", transport),
                                 ("simulator_events", events)) if v is not None}
    try:
        settings = Settings.model_validate({**settings.model_dump(), **changes})
        model_start = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
    except ValueError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if model_start is not None and model_start.tzinfo is None:
        typer.echo("Error: --start needs a time zone (e.g. 2026-11-24T18:00:00+07:00)", err=True)
        raise typer.Exit(2)
    from saola.sim.load import demo_city

    city = demo_city()
    if wards:
        try:
            city = city.subset(code.strip() for code in wards.split(",") if code.strip())
        except ValueError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(2) from exc
    devices = demo_devices(settings)
    if not devices:
        typer.echo("Error: the demo devices are not provisioned: run `saola demo` first.", err=True)
        raise typer.Exit(1)
    city = city.with_devices(devices)
    if not city.entities:
        typer.echo("Error: no demo device is provisioned in these wards.", err=True)
        raise typer.Exit(1)
    stats = asyncio.run(_run(settings, http_url=http_url, duration=duration, model_start=model_start, city=city))
    typer.echo(f"Sent {stats.sent} messages in {stats.rounds} rounds.")


async def _run(settings: Settings, *, http_url: str, duration: float | None, model_start: datetime | None,
               city: City | None) -> Stats:
    from saola.sim.wiring import make_simulator

    stop = stop_on_signals()
    simulator = await make_simulator(settings, http_url=http_url, say=typer.echo, model_start=model_start, city=city)
    typer.echo(f"Simulating {len(simulator.devices)} devices at up to {settings.simulator_rate:g} messages/s "
               f"(acceleration ×{settings.simulator_acceleration:g}, seed {settings.simulator_seed}); Ctrl-C stops.")
    try:
        return await simulator.run(duration=duration, stop=stop)
    finally:
        await simulator.sender.close()
