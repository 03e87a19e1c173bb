"""The operator console's JSON API: map layers, KPI values and chart series (``alerts:read``).

* ``GET /api/v1/ioc/layers`` — the layers the console can draw, with their statuses and colours.
* ``GET /api/v1/ioc/layers/{layer}.geojson?bbox=minLon,minLat,maxLon,maxLat`` — one layer's features.
* ``GET /api/v1/ioc/kpis`` — every KPI tile's value (the same as the console's live stream sends).
* ``GET /api/v1/ioc/charts`` — alerts per hour and the average VN_AQI over the last 24 hours.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.ioc import kpis, layers

router = APIRouter(prefix="/api/v1/ioc", tags=["ioc"])
Reader = Annotated[Principal, Depends(require("alerts:read"))]
BboxParam = Annotated[str | None, Query(max_length=200, description="minLon,minLat,maxLon,maxLat (WGS84)")]
Tenant = Annotated[str, Query(max_length=255, description="The tenant of the city database (default: the "
                                                            "default tenant)")]


@router.get("/layers", summary="The map layers of the operations console")
def list_layers(_: Reader) -> dict[str, Any]:
    return {"layers": [layer.describe() for layer in layers.LAYERS]}


@router.get("/layers/{layer}.geojson", summary="One map layer as GeoJSON, optionally within a bounding box",
            response_class=JSONResponse)
def layer_geojson(layer: str, session: DbSession, principal: Reader, bbox: BboxParam = None, tenant: Tenant = "") \
        -> JSONResponse:
    box = layers.parse_bbox(bbox)
    body = layers.layer_geojson(session, key=layer, actor=principal, tenant=tenant, bbox=box)
    return JSONResponse(body, media_type="application/geo+json", headers={"Cache-Control": "no-store"})


@router.get("/kpis", summary="The values of the console's KPI tiles")
def kpi_values(request: Request, session: DbSession, _: Reader) -> dict[str, Any]:
    values = kpis.compute(session, now=utcnow(), tz=request.app.state.settings.timezone)
    return {"kpis": values, "labels": {k.key: k.label for k in kpis.KPIS}}


@router.get("/charts", summary="Alerts per hour and average AQI over the last 24 hours")
def chart_series(session: DbSession, _: Reader) -> dict[str, Any]:
    return kpis.charts(session, now=utcnow())
