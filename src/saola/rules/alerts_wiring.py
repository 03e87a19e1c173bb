"""What the application mounts for the IOC's alerts: ``/api/v1/alerts``, the console pages under
``/console/alerts``, and the background job that sends notifications and escalates (see
:mod:`saola.rules.alert_worker`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    """Mount the alerts API and pages."""
    from saola.rules import alert_pages, alerts_api

    app.include_router(alerts_api.router)
    app.include_router(alert_pages.router, include_in_schema=False)


async def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start the notification and escalation job; return the coroutine function that stops it."""
    from saola.rules.alert_worker import AlertWorker

    worker = AlertWorker(app)
    await worker.start()
    return worker.stop
