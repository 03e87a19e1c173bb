"""Pages of the web shell: the public portal home, the staff console overview and the map layers."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, page_principal
from saola.core.errors import NotFound
from saola.web import service
from saola.web.templating import NavItem, register_nav, render

router = APIRouter()
register_nav(NavItem("/", "Home", icon="home", area="portal", order=0))
register_nav(NavItem("/console", "Overview", icon="map", permission="console:access", order=0))


@router.get("/")
def portal_home(request: Request) -> Response:
    return render(request, "portal/home.html", {"province": service.province_info()})


@router.get("/console")
def console_home(
    request: Request, session: DbSession, principal: Annotated[Principal, Depends(page_principal)]
) -> Response:
    settings = request.app.state.settings
    figures = service.overview(session, now=utcnow(), tz=settings.timezone, province_code=settings.province_code)
    return render(request, "console/home.html", {"figures": figures, "province": service.province_info()})


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return RedirectResponse("/static/saola.svg", status_code=301)


GEO_FILES = {
    "provinces.geojson": "provinces.geojson",
    "province.geojson": "bac_ninh_province.geojson",
    "wards.geojson": "bac_ninh_wards.geojson",
}


@router.get("/geo/{name}", include_in_schema=False)
def geo_file(name: str) -> Response:
    """The offline basemap layers (shipped GeoJSON), cached by the browser for a day."""
    if name not in GEO_FILES:
        raise NotFound(f"No map layer named '{name}'")
    path = resources.files("saola") / "data" / "geo" / GEO_FILES[name]
    return FileResponse(str(path), media_type="application/geo+json",
                        headers={"Cache-Control": "public, max-age=86400"})
