"""What the application mounts for incidents: the ``/api/v1/incidents`` API, the console pages, and the
listener that opens incidents from ``alert.raised`` (:mod:`saola.ioc.incident_listener`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    """Mount this feature's API and page routers."""
    from saola.ioc.incident_pages import router as pages
    from saola.ioc.incidents_api import router as api

    app.include_router(api)
    app.include_router(pages)


async def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start the listener that opens incidents for alerts of rules with ``open_incident``; return its stop."""
    from saola.ioc.incident_listener import IncidentListener

    listener = IncidentListener(app)
    await listener.start()
    return listener.stop
