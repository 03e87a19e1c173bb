"""What the application mounts from :mod:`saola.devices`: its routers (one place, so ``app.py`` names
the package once) and its background work for the lifespan."""

from __future__ import annotations

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    from saola.devices import api, http_api, pages, provisioning_api

    for module in (provisioning_api, http_api, api):
        app.include_router(module.router)
    app.include_router(pages.router, include_in_schema=False)
