"""Hotline statistics over HTTP: ``GET /api/v1/reports/stats`` (JSON, or CSV / XLSX with ``format=``) and
``GET /api/v1/reports/stats.csv`` / ``.xlsx``, with the same parameters (``feedback:read``, the caller's agency
unless ``agencies:all``). Thin handlers over :mod:`saola.feedback.stats`; :func:`parse_query` and :func:`compute`
are shared with the console dashboard (:mod:`saola.feedback.stats_pages`).

The router is registered before :mod:`saola.feedback.reports_api`, whose ``/api/v1/reports/{case_id}`` would
otherwise take ``stats``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases.stats import period
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.directory.models import Agency
from saola.core.errors import BadRequest
from saola.feedback import stats
from saola.feedback.stats_export import XLSX, Table, to_csv, to_xlsx

router = APIRouter(prefix="/api/v1/reports", tags=["feedback"])
Reader = Annotated[Principal, Depends(require("feedback:read"))]
Channel = Literal["web", "phone", "sms", "chat", "email", "app", "open311"]  # saola.feedback.models.CHANNELS
Code = Annotated[str | None, Query(max_length=60, pattern=r"^[A-Za-z0-9._-]+$")]


@dataclass(frozen=True)
class StatsQuery:
    """The parameters every statistics view shares: the days of the period and the filters (codes)."""

    start: date | None = None
    end: date | None = None
    agency: str | None = None
    field: str | None = None
    category: str | None = None
    ward: str | None = None
    channel: Channel | None = None


def parse_query(start: date | None = None, end: date | None = None, agency: Code = None, field: Code = None,
                category: Code = None, ward: Code = None, channel: Channel | None = None) -> StatsQuery:
    """FastAPI dependency: the query string as a :class:`StatsQuery` (bad dates or codes → 422)."""
    return StatsQuery(start=start, end=end, agency=agency, field=field, category=category, ward=ward,
                      channel=channel)


Params = Annotated[StatsQuery, Depends(parse_query)]


def _filters(session: Session, query: StatsQuery) -> stats.Filters:
    agency_id = None
    if query.agency:
        agency_id = session.scalar(select(Agency.id).where(Agency.code == query.agency))
        if agency_id is None:
            raise BadRequest("No agency has the code '{code}'", field="agency", code=query.agency)
    return stats.Filters(agency_id=agency_id, field=query.field, category=query.category, ward=query.ward,
                         channel=query.channel)


def compute(session: Session, principal: Principal, query: StatsQuery) -> tuple[date, date, stats.Stats]:
    first, last, since, until = period(query.start, query.end)
    result = stats.feedback_stats(session, actor=principal, start=since, end=until, now=utcnow(),
                                  filters=_filters(session, query))
    return first, last, result


def export(result: stats.Stats, first: date, last: date, kind: Literal["csv", "xlsx"], by: Table) -> Response:
    """The statistics as a download: one table as CSV, or the workbook of every table."""
    name = f"reports-{first.isoformat()}-{last.isoformat()}" + (f"-{by}.csv" if kind == "csv" else ".xlsx")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "xlsx":
        return Response(to_xlsx(result), media_type=XLSX, headers=headers)
    return Response(to_csv(result, by), media_type="text/csv; charset=utf-8", headers=headers)


class RowOut(BaseModel):
    group: str
    name: str
    received: int
    resolved: int
    early: int
    on_time: int
    late: int
    on_time_rate: float | None
    late_rate: float | None
    rejected: int
    open: int
    overdue: int
    avg_hours: float | None
    median_hours: float | None
    rated: int
    satisfied: int
    satisfaction_rate: float | None


class OverdueOut(BaseModel):
    case_id: int
    code: str
    status: str
    agency: str
    category: str
    ward: str
    received_at: datetime
    deadline_at: datetime
    overdue_hours: float


class StatsOut(BaseModel):
    start: date
    end: date
    total: RowOut
    by_agency: list[RowOut]
    by_field: list[RowOut]
    by_category: list[RowOut]
    by_ward: list[RowOut]
    by_month: list[RowOut]
    by_channel: list[RowOut]
    by_hour: list[RowOut]
    ranking: list[RowOut]
    overdue: list[OverdueOut]


def to_out(result: stats.Stats, first: date, last: date) -> StatsOut:
    def rows(items: list[stats.Row]) -> list[RowOut]:
        return [RowOut(**r.values()) for r in items]

    return StatsOut(start=first, end=last, total=RowOut(**result.total.values()),
                    **{f"by_{d}": rows(result.groups[d]) for d in stats.DIMENSIONS},
                    ranking=rows(result.ranking),
                    overdue=[OverdueOut(**vars(o)) for o in result.overdue])


@router.get("/stats", response_model=StatsOut,
            summary="Received, resolved, on-time rate, handling time and satisfaction by agency, field, category, "
            "ward, month, channel and hour; the agency ranking and the overdue list",
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
def report_stats(session: DbSession, principal: Reader, query: Params,
                 format: Literal["json", "csv", "xlsx"] = "json", by: Table = "agency") -> StatsOut | Response:
    first, last, result = compute(session, principal, query)
    if format != "json":
        return export(result, first, last, format, by)
    return to_out(result, first, last)


@router.get("/stats.{kind}", summary="The statistics as CSV (one table, `by=`) or XLSX (every table)",
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
def report_stats_file(session: DbSession, principal: Reader, query: Params, kind: Literal["csv", "xlsx"],
                      by: Table = "agency") -> Response:
    first, last, result = compute(session, principal, query)
    return export(result, first, last, kind, by)

