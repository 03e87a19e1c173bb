"""What the application mounts for the rule engine: its read-only API and the engine worker.

The worker (:class:`saola.rules.engine_worker.EngineWorker`) runs when ``SAOLA_RULES_ENGINE=on`` (the
default) and is kept on ``app.state.rules_engine`` for the status route and tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    """Mount ``/api/v1/rule-engine/status`` and ``/api/v1/rules/{rule_id}/errors``."""
    from saola.rules import engine_api

    app.include_router(engine_api.router)


async def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start the engine worker (unless switched off); return the coroutine function that stops it."""
    from saola.rules.engine_worker import EngineWorker

    app.state.rules_engine = None
    if app.state.settings.rules_engine != "on":
        async def nothing() -> None:
            return None

        return nothing
    worker = EngineWorker(app)
    await worker.start()
    app.state.rules_engine = worker

    async def stop() -> None:
        await worker.stop()
        app.state.rules_engine = None

    return stop
