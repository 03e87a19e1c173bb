"""The staff dashboard of the 1022 hotline: ``/console/feedback/dashboard`` (KPI tiles, tables per agency, field,
category and ward, the agency ranking, bars by channel and by hour, the overdue list, a period picker) and its
downloads ``/console/feedback/dashboard.csv`` / ``.xlsx``. ``feedback:read``; the figures are those of
``GET /api/v1/reports/stats`` (:func:`saola.feedback.stats_api.compute`), scoped to the user's agency.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.core.directory.models import Agency
from saola.feedback import categories as catalogue
from saola.feedback.models import CHANNELS
from saola.feedback.stats_api import Params, compute, export
from saola.feedback.stats_export import Table
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.feedback")
register_nav(NavItem("/console/feedback/dashboard", "Hotline dashboard", icon="chart", permission="feedback:read",
                     order=69))

PageReader = Annotated[Principal, Depends(require("feedback:read", page=True))]
CHANNEL_NAMES = {"web": "Web", "phone": "Phone", "sms": "SMS", "chat": "Chat app", "email": "E-mail",
                 "app": "Mobile app", "open311": "Open311"}


@router.get("/console/feedback/dashboard")
def dashboard(request: Request, session: DbSession, principal: PageReader, query: Params) -> Response:
    first, last, result = compute(session, principal, query)
    agencies = list(session.scalars(select(Agency).order_by(Agency.code))) if principal.sees_all_agencies() else []
    most_channel = max([r.received for r in result.groups["channel"]] + [1])
    most_hour = max([r.received for r in result.groups["hour"]] + [1])
    return render(request, "feedback/dashboard.html", {
        "stats": result, "start": first, "end": last, "query": query, "agencies": agencies,
        "categories": catalogue.list_categories(session), "channels": CHANNELS, "channel_names": CHANNEL_NAMES,
        "most_channel": most_channel, "most_hour": most_hour,
        "filters": {k: v for k, v in vars(query).items() if v and k not in ("start", "end")},
    })


@router.get("/console/feedback/dashboard.{kind}")
def dashboard_export(session: DbSession, principal: PageReader, query: Params, kind: Literal["csv", "xlsx"],
                     by: Table = "agency") -> Response:
    first, last, result = compute(session, principal, query)
    return export(result, first, last, kind, by)
