"""The audit log browser in the staff console (administrators)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime

from saola.core.audit import service
from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.core.errors import BadRequest
from saola.web.templating import NavItem, register_nav, render

router = APIRouter()
register_nav(NavItem("/console/audit", "Audit log", icon="📜", permission="audit:read", order=90))

PAGE_SIZE = 50
# A local calendar day from an <input type="date">, or empty; years 2000-2999 keep datetimes in range.
DAY_PATTERN = r"^(2\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))?$"


@router.get("/console/audit")
def audit_page(
    request: Request,
    session: DbSession,
    _: Annotated[Principal, Depends(require("audit:read", page=True))],
    actor: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    object_type: Annotated[str | None, Query(max_length=60)] = None,
    object_id: Annotated[str | None, Query(max_length=80)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    day_from: Annotated[str, Query(pattern=DAY_PATTERN)] = "",
    day_to: Annotated[str, Query(pattern=DAY_PATTERN)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    tz = ZoneInfo(request.app.state.settings.timezone)
    try:
        if day_from:
            since = datetime.combine(date.fromisoformat(day_from), time.min, tz)
        if day_to:  # inclusive: up to the end of that local day
            until = datetime.combine(date.fromisoformat(day_to) + timedelta(days=1), time.min, tz)
    except ValueError as exc:
        raise BadRequest("{day} is not a date", field="day_from" if day_from else "day_to",
                         day=day_from or day_to) from exc
    flt = service.AuditFilter(actor=actor or None, action=action or None, object_type=object_type or None,
                              object_id=object_id or None, since=since, until=until)
    rows, total = service.search(session, flt=flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(request, "audit/list.html", {
        "entries": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "flt": flt, "object_types": service.object_types(session), "day_from": day_from, "day_to": day_to,
    })
