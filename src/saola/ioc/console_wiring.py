"""What the application mounts for the operator console: its API and page routers, and the live hub.

Routers: ``/api/v1/ioc/*`` (:mod:`saola.ioc.console_api`) and ``/console/ioc*`` (:mod:`saola.ioc.console_pages`).
Background work: :class:`saola.ioc.live.LiveHub`, which listens to the event bus and pushes KPI updates and
alerts to the consoles' event streams.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from saola.ioc.live import LiveHub


def include_routers(app: FastAPI) -> None:
    """Mount this feature's API and page routers."""
    from saola.ioc import console_api, console_pages

    app.include_router(console_api.router)
    app.include_router(console_pages.router, include_in_schema=False)


async def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start the live hub; return the coroutine function that stops it."""
    hub = LiveHub(app)
    app.state.ioc_live = hub
    await hub.start()

    async def stop() -> None:
        await hub.stop()

    return stop
