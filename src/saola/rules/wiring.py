"""What the application mounts from the rules store: the ``/api/v1/rules`` API and the console's rule pages.

The store has no background work of its own (the engine, :mod:`saola.rules.engine_wiring`, runs the rules).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    """Mount the rules API and the console pages."""
    from saola.rules import api, pages

    app.include_router(api.router)
    app.include_router(pages.router, include_in_schema=False)


async def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Nothing to start: return a stop that does nothing."""

    async def stop() -> None:
        return None

    return stop
