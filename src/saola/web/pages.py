"""Pages of the web shell: the public portal home, the staff console home and the map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from saola.core.auth.service import Principal
from saola.core.deps import page_principal
from saola.web.templating import NavItem, register_nav, render

router = APIRouter()
register_nav(NavItem("/", "Home", icon="🏠", area="portal", order=0))
register_nav(NavItem("/console", "Overview", icon="🗺️", permission="console:access", order=0))


@router.get("/")
def portal_home(request: Request) -> Response:
    return render(request, "portal/home.html")


@router.get("/console")
def console_home(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    return render(request, "console/home.html")


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
    from importlib import resources

    from fastapi.responses import FileResponse

    from saola.core.errors import NotFound

    if name not in GEO_FILES:
        raise NotFound(f"No map layer named '{name}'")
    path = resources.files("saola") / "data" / "geo" / GEO_FILES[name]
    return FileResponse(str(path), media_type="application/geo+json",
                        headers={"Cache-Control": "public, max-age=86400"})
