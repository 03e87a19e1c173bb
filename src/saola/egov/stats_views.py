"""Dossier statistics and the Decision 766 index over HTTP: ``GET /api/v1/dossiers/stats`` (JSON, CSV or
XLSX), ``GET /api/v1/dossiers/index``, the console pages ``/console/dossiers/stats`` (with CSV and XLSX
downloads) and ``/console/dossiers/index``, and the register book. They call :mod:`saola.egov.stats` and
:mod:`saola.egov.index`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from saola.cases.stats import period
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.directory.models import Agency
from saola.egov import dossiers, index, stats
from saola.egov.labels import LABELS
from saola.web.templating import render

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
pages_router = APIRouter()
Reader = Annotated[Principal, Depends(require("dossiers:read"))]
PageReader = Annotated[Principal, Depends(require("dossiers:read", page=True))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    open: int
    open_overdue: int
    official_late_rate: float | None
    online_rate: float | None
    digitised: int
    digitisation_rate: float | None
    avoided_visits: int
    hours_saved: float
    avg_days: float | None


class StatsOut(BaseModel):
    start: date
    end: date
    by: str
    hours_per_avoided_visit: float
    rows: list[StatsRow]
    total: StatsRow


class CriterionOut(BaseModel):
    key: str
    name_vi: str
    name_en: str
    computable: bool
    formula: str
    formula_vi: str
    rate: float | None


class GroupOut(BaseModel):
    key: str
    name_vi: str
    name_en: str
    maximum: int
    points: float | None
    criteria: list[CriterionOut]


class IndexOut(BaseModel):
    decision: str
    start: date
    end: date
    points: float
    out_of: int
    maximum: int
    groups: list[GroupOut]


def _compute(request: Request, session: DbSession, principal: Principal, start: date | None, end: date | None,
             by: stats.GroupBy) -> tuple[date, date, list[stats.Row], stats.Row]:
    first, last, since, until = period(start, end)
    rows, total = stats.dossier_stats(session, actor=principal, start=since, end=until, by=by, now=utcnow(),
                                      hours_per_visit=request.app.state.settings.egov_hours_per_avoided_visit)
    return first, last, rows, total


def _export(rows: list[stats.Row], total: stats.Row, start: date, end: date, kind: str) -> Response:
    name = f"dossiers-{start.isoformat()}-{end.isoformat()}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "xlsx":
        return Response(stats.to_xlsx(rows, total), media_type=XLSX, headers=headers)
    return Response(stats.to_csv(rows, total), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/dossiers/stats", response_model=StatsOut,
            summary="Received, resolved, early/on-time/late, official late rate, online, digitisation and hours "
            "saved by procedure, agency, level or month",
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
def dossier_stats(
    request: Request, session: DbSession, principal: Reader,
    start: date | None = None, end: date | None = None,
    by: stats.GroupBy = "procedure",
    format: Literal["json", "csv", "xlsx"] = "json",
) -> StatsOut | Response:
    first, last, rows, total = _compute(request, session, principal, start, end, by)
    if format != "json":
        return _export(rows, total, first, last, format)
    return StatsOut(start=first, end=last, by=by, rows=[StatsRow(**r.values()) for r in rows],
                    total=StatsRow(**total.values()),
                    hours_per_avoided_visit=request.app.state.settings.egov_hours_per_avoided_visit)


def _index(session: DbSession, principal: Principal, start: date | None, end: date | None) -> IndexOut:
    first, last, since, until = period(start, end)
    data = index.gather(session, actor=principal, start=since, end=until, now=utcnow())
    groups, points, out_of = index.compute_index(data)
    return IndexOut(decision=index.DECISION, start=first, end=last, points=points, out_of=out_of,
                    maximum=sum(g.maximum for g in index.GROUPS), groups=[
                        GroupOut(key=g.group.key, name_vi=g.group.name_vi, name_en=g.group.name_en,
                                 maximum=g.group.maximum, points=g.points, criteria=[
                                     CriterionOut(key=c.criterion.key, name_vi=c.criterion.name_vi,
                                                  name_en=c.criterion.name_en, computable=c.criterion.computable,
                                                  formula=c.criterion.formula,
                                                  formula_vi=c.criterion.formula_vi, rate=c.rate) for c in g.criteria])
                        for g in groups])


@router.get("/dossiers/index", response_model=IndexOut,
            summary="The Decision 766/QĐ-TTg service quality index: groups, maxima and the criteria Saola computes")
def dossier_index(session: DbSession, principal: Reader, start: date | None = None,
                  end: date | None = None) -> IndexOut:
    return _index(session, principal, start, end)


@pages_router.get("/console/dossiers/index")
def index_page(
    request: Request, session: DbSession, principal: PageReader,
    start: Annotated[date | None, Query()] = None, end: Annotated[date | None, Query()] = None,
) -> Response:
    result = _index(session, principal, start, end)
    return render(request, "egov/index.html", {**LABELS, "index": result, "start": result.start, "end": result.end})


@pages_router.get("/console/dossiers/stats")
def stats_page(
    request: Request, session: DbSession, principal: PageReader,
    start: Annotated[date | None, Query()] = None, end: Annotated[date | None, Query()] = None,
    by: stats.GroupBy = "procedure",
) -> Response:
    first, last, rows, total = _compute(request, session, principal, start, end, by)
    return render(request, "egov/stats.html", {**LABELS, "rows": rows, "total": total, "start": first, "end": last,
                                               "by": by})


@pages_router.get("/console/dossiers/stats.{kind}")
def stats_export(
    request: Request, session: DbSession, principal: PageReader, kind: Literal["csv", "xlsx"],
    start: Annotated[date | None, Query()] = None, end: Annotated[date | None, Query()] = None,
    by: stats.GroupBy = "procedure",
) -> Response:
    first, last, rows, total = _compute(request, session, principal, start, end, by)
    return _export(rows, total, first, last, kind)


@pages_router.get("/console/dossiers/register")
def register_page(
    request: Request, session: DbSession, principal: PageReader,
    start: Annotated[date | None, Query()] = None, end: Annotated[date | None, Query()] = None,
) -> Response:
    """The register book of dossiers (form 07 of Circular 03/2025/TT-VPCP), printable."""
    first, last, since, until = period(start, end)
    rows = dossiers.register(session, actor=principal, start=since, end=until)
    agencies = {a.id: a.code for a in session.scalars(select(Agency))}
    return render(request, "egov/register.html", {**LABELS, "rows": rows, "start": first, "end": last,
                                                  "agencies": agencies})
