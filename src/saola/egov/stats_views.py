"""Dossier statistics: ``GET /api/v1/dossiers/stats`` (JSON or CSV) and the console page
``/console/dossiers/stats`` with its CSV download. Both call :func:`saola.egov.stats.dossier_stats`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from saola.core.auth.service import Principal
from saola.core.calendar import default_calendar
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.directory.models import Agency
from saola.core.errors import BadRequest
from saola.egov import dossiers, stats
from saola.egov.labels import LABELS
from saola.web.templating import render

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
pages_router = APIRouter()
Reader = Annotated[Principal, Depends(require("dossiers:read"))]
PageReader = Annotated[Principal, Depends(require("dossiers:read", page=True))]
MAX_DAYS = 3700


class StatsRow(BaseModel):
    group: str
    name: str
    received: int
    online: int
    resolved: int
    early: int
    on_time: int
    late: int
    early_rate: float | None
    on_time_rate: float | None
    late_rate: float | None
    avg_days: float | None


class StatsOut(BaseModel):
    start: date
    end: date
    by: str
    rows: list[StatsRow]
    total: StatsRow


def _period(start: date | None, end: date | None) -> tuple[date, date, datetime, datetime]:
    """The days asked (default: this month so far), and the instants ``[start 00:00, end+1 00:00)`` local time."""
    tz = default_calendar().tz
    today = utcnow().astimezone(tz).date()
    start = start or today.replace(day=1)
    end = end or today
    if end < start or (end - start).days > MAX_DAYS:
        raise BadRequest("The period must end after it starts and last at most {days} days", field="end",
                         days=MAX_DAYS)
    return (start, end, datetime.combine(start, time(), tzinfo=tz),
            datetime.combine(end + timedelta(days=1), time(), tzinfo=tz))


def _row(row: stats.Row) -> StatsRow:
    return StatsRow(group=row.key, name=row.name, received=row.received, online=row.online, resolved=row.resolved,
                    early=row.counts.early, on_time=row.counts.on_time, late=row.counts.late,
                    early_rate=row.rate("early"), on_time_rate=row.rate("on_time"), late_rate=row.rate("late"),
                    avg_days=row.avg_days)


def _csv(rows: list[stats.Row], total: stats.Row, start: date, end: date) -> Response:
    return Response(stats.to_csv(rows, total), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="dossiers-{start.isoformat()}-{end.isoformat()}.csv"'})


@router.get("/dossiers/stats", response_model=StatsOut,
            summary="Received, resolved, early/on-time/late counts and rates by procedure, agency or level",
            responses={200: {"content": {"text/csv": {}}}})
def dossier_stats(
    session: DbSession, principal: Reader,
    start: date | None = None, end: date | None = None,
    by: stats.GroupBy = "procedure",
    format: Literal["json", "csv"] = "json",
) -> StatsOut | Response:
    first, last, since, until = _period(start, end)
    rows, total = stats.dossier_stats(session, actor=principal, start=since, end=until, by=by)
    if format == "csv":
        return _csv(rows, total, first, last)
    return StatsOut(start=first, end=last, by=by, rows=[_row(r) for r in rows], total=_row(total))


@pages_router.get("/console/dossiers/stats")
def stats_page(
    request: Request, session: DbSession, principal: PageReader,
    start: Annotated[date | None, Query()] = None, end: Annotated[date | None, Query()] = None,
    by: stats.GroupBy = "procedure",
) -> Response:
    first, last, since, until = _period(start, end)
    rows, total = stats.dossier_stats(session, actor=principal, start=since, end=until, by=by)
    return render(request, "egov/stats.html", {**LABELS, "rows": rows, "total": total, "start": first, "end": last,
                                               "by": by})


@pages_router.get("/console/dossiers/stats.csv")
def stats_csv(
    session: DbSession, principal: PageReader,
    start: Annotated[date | None, Query()] = None, end: Annotated[date | None, Query()] = None,
    by: stats.GroupBy = "procedure",
) -> Response:
    first, last, since, until = _period(start, end)
    rows, total = stats.dossier_stats(session, actor=principal, start=since, end=until, by=by)
    return _csv(rows, total, first, last)


@pages_router.get("/console/dossiers/register")
def register_page(
    request: Request, session: DbSession, principal: PageReader,
    start: Annotated[date | None, Query()] = None, end: Annotated[date | None, Query()] = None,
) -> Response:
    """The register book of dossiers (form 07 of Circular 03/2025/TT-VPCP), printable."""
    first, last, since, until = _period(start, end)
    rows = dossiers.register(session, actor=principal, start=since, end=until)
    agencies = {a.id: a.code for a in session.scalars(select(Agency))}
    return render(request, "egov/register.html", {**LABELS, "rows": rows, "start": first, "end": last,
                                                  "agencies": agencies})
