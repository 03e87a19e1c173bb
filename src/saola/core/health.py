"""``/healthz`` (the process is alive) and ``/readyz`` (database and broker reachable)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from saola.core.checks import check_broker, check_database

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database (and broker, when configured) reachable", response_model=None)
async def readyz(request: Request) -> Any:
    settings = request.app.state.settings
    checks = {"database": await run_in_threadpool(check_database, request.app.state.engine)}
    if settings.mqtt_url:
        checks["broker"] = await run_in_threadpool(check_broker, settings.mqtt_url)
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse({"status": "ready" if ready else "not-ready", "checks": checks},
                        status_code=200 if ready else 503)
