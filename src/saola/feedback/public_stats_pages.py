"""Public open-data pages of the 1022 hotline, no sign-in: ``/feedback/map`` (reports of the last days on the offline
Leaflet map, clustered, coloured by public status), ``/feedback/reports`` (the list with filters and paging, with
the agency's public answer), ``/feedback/reports.geojson`` (what the map draws) and ``/feedback/figures`` (the
monthly figures of a year). Thin handlers over :mod:`saola.feedback.public_list`; no personal data anywhere.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from saola.core.calendar import default_calendar
from saola.core.db import utcnow
from saola.core.deps import DbSession
from saola.feedback import categories as catalogue
from saola.feedback import public_list
from saola.feedback.public_list import PAGE_SIZE, PUBLIC_STATUS, PublicQuery, PublicStatus
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.feedback")
register_nav(NavItem("/feedback/map", "Map of reports", icon="map", area="portal", order=32))

STATUS_NAMES = {"received": "Received", "in_progress": "Being handled", "resolved": "Answered",
                "rejected": "Rejected"}
STATUS_COLOURS = {"received": "#d97706", "in_progress": "#2563eb", "resolved": "#15803d", "rejected": "#6b7280"}
DEFAULT_DAYS = 90
Code = Annotated[str | None, Query(max_length=60, pattern=r"^[A-Za-z0-9._-]*$")]
Days = Annotated[int, Query(ge=1, le=366)]


def _query(days: int, category: str | None, status: PublicStatus | None, ward: str | None) -> PublicQuery:
    return PublicQuery(since=utcnow() - timedelta(days=days), category=category or None, status=status,
                       ward=ward or None)


@router.get("/feedback/reports.geojson")
def reports_geojson(session: DbSession, days: Days = DEFAULT_DAYS, category: Code = None,
                    status: PublicStatus | None = None, ward: Code = None) -> JSONResponse:
    data = public_list.geojson(session, query=_query(days, category, status, ward))
    return JSONResponse(data, media_type="application/geo+json")


@router.get("/feedback/map")
def map_page(request: Request, session: DbSession, days: Days = DEFAULT_DAYS, category: Code = None,
             status: PublicStatus | None = None) -> Response:
    params = {"days": str(days), **({"category": category} if category else {}), **({"status": status} if status
                                                                                     else {})}
    return render(request, "feedback/public/map.html", {
        "days": days, "category": category or "", "status": status or "", "params": params,
        "categories": catalogue.list_categories(session, active_only=True), "status_names": STATUS_NAMES,
        "colours": STATUS_COLOURS, "statuses": list(PUBLIC_STATUS), "max_points": public_list.MAX_MAP_POINTS,
    })


@router.get("/feedback/reports")
def reports_page(request: Request, session: DbSession, days: Days = DEFAULT_DAYS, category: Code = None,
                 status: PublicStatus | None = None, ward: Code = None,
                 page: Annotated[int, Query(ge=1, le=10000)] = 1) -> Response:
    items, total = public_list.list_reports(session, query=_query(days, category, status, ward), page=page)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    params = {k: v for k, v in {"days": str(days), "category": category, "status": status, "ward": ward}.items() if v}
    return render(request, "feedback/public/reports.html", {
        "items": items, "total": total, "page": page, "pages": pages, "params": params, "days": days,
        "category": category or "", "status": status or "", "ward": ward or "",
        "categories": catalogue.list_categories(session, active_only=True), "status_names": STATUS_NAMES,
        "colours": STATUS_COLOURS, "statuses": list(PUBLIC_STATUS),
    })


@router.get("/feedback/figures")
def figures_page(request: Request, session: DbSession,
                 year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    now = utcnow()
    this_year = now.astimezone(default_calendar().tz).year
    chosen = year or this_year
    months, agencies = public_list.monthly_figures(session, year=chosen, now=now)
    return render(request, "feedback/public/figures.html", {
        "year": chosen, "years": list(range(this_year, this_year - 5, -1)), "months": months, "agencies": agencies,
    })
