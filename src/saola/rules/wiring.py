"""What the application mounts from this part of the package: its routers and its background work.

Filled in by the feature; until then it mounts nothing and starts nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    """Mount this feature's API and page routers."""


async def start(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start this feature's background work; return the coroutine function that stops it."""

    async def stop() -> None:
        return None

    return stop
