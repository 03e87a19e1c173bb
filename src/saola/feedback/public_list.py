"""The hotline's open data: the public list and map of reports and the monthly figures.

Only what :class:`~saola.feedback.models.FeedbackReport` and the case may publish leaves here: tracking code,
category, ward, point, public status, received date and the agency's public answer (the resolution and the public
replies, phone numbers and e-mail addresses masked). Never the reporter, the description, internal notes or staff
names. Statuses are grouped for the public (:data:`PUBLIC_STATUS`): *received* (received, triaged, forwarded),
*in_progress* (assigned, in progress, on hold, reopened), *resolved* (resolved, closed) and *rejected*.

The monthly figures are those of :mod:`saola.feedback.stats` over every agency, per calendar month (local time)
of a year: received, resolved, on-time rate and satisfaction rate, and the on-time rate of each agency — the
table Hồ Chí Minh City publishes every month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from saola.cases.actors import SYSTEM
from saola.cases.models import Case
from saola.core.calendar import default_calendar
from saola.feedback import reports, stats
from saola.feedback.models import FeedbackCategory, FeedbackReport
from saola.feedback.reports import CASE_TYPE, redact

PublicStatus = Literal["received", "in_progress", "resolved", "rejected"]
PUBLIC_STATUS: dict[PublicStatus, tuple[str, ...]] = {
    "received": ("received", "triaged", "forwarded"),
    "in_progress": ("assigned", "in_progress", "on_hold", "reopened"),
    "resolved": ("resolved", "closed"),
    "rejected": ("rejected",),
}
STATUS_OF = {internal: public for public, internals in PUBLIC_STATUS.items() for internal in internals}
MAX_MAP_POINTS = 2000
PAGE_SIZE = 20


@dataclass(frozen=True)
class PublicQuery:
    """Filters of the public list and map: received on or after ``since``, a category, a public status, a ward."""

    since: datetime | None = None
    category: str | None = None
    status: PublicStatus | None = None
    ward: str | None = None


@dataclass(frozen=True)
class PublicItem:
    code: str
    status: PublicStatus
    category_code: str
    category_vi: str
    category_en: str
    ward: str
    received_at: datetime
    lat: float | None
    lon: float | None
    answer: list[str]


def _select(query: PublicQuery) -> Select[Any]:
    stmt = (select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id)
            .where(Case.case_type == CASE_TYPE))
    if query.since is not None:
        stmt = stmt.where(Case.received_at >= query.since)
    if query.category:
        stmt = stmt.join(FeedbackCategory, FeedbackCategory.id == FeedbackReport.category_id).where(
            FeedbackCategory.service_code == query.category)
    if query.status:
        stmt = stmt.where(Case.status.in_(PUBLIC_STATUS[query.status]))
    if query.ward:
        stmt = stmt.where(FeedbackReport.ward_code == query.ward)
    return stmt


def _items(session: Session, rows: list[tuple[FeedbackReport, Case]]) -> list[PublicItem]:
    loaded = reports.load_public(session, rows)
    replies = reports.public_replies(session, case_ids=[c.id for _, c in rows])
    out = []
    for item in loaded:
        case, category = item.case, item.category
        answer = ([redact(case.resolution)] if case.resolution else []) + [redact(r) for r in replies[case.id]]
        out.append(PublicItem(code=case.code, status=STATUS_OF.get(case.status, "received"),
                              category_code=category.service_code if category else "",
                              category_vi=category.name_vi if category else "",
                              category_en=category.name_en if category else "", ward=item.report.ward_name,
                              received_at=case.received_at, lat=item.report.lat, lon=item.report.lon,
                              answer=answer))
    return out


def list_reports(session: Session, *, query: PublicQuery, page: int = 1,
                 page_size: int = PAGE_SIZE) -> tuple[list[PublicItem], int]:
    """One page of reports, newest first, and how many match in all."""
    stmt = _select(query)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(Case.received_at.desc(), Case.id.desc())
                           .limit(page_size).offset((page - 1) * page_size))
    return _items(session, [(r, c) for r, c in rows]), total


def geojson(session: Session, *, query: PublicQuery, limit: int = MAX_MAP_POINTS) -> dict[str, Any]:
    """The newest ``limit`` reports with a point, as a GeoJSON FeatureCollection (public fields only)."""
    stmt = (_select(query).where(FeedbackReport.lat.is_not(None), FeedbackReport.lon.is_not(None))
            .order_by(Case.received_at.desc(), Case.id.desc()).limit(limit))
    rows = [(r, c) for r, c in session.execute(stmt)]
    tz = default_calendar().tz
    features = [{
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [item.lon, item.lat]},
        "properties": {"code": item.code, "status": item.status, "category": item.category_code,
                       "category_vi": item.category_vi, "category_en": item.category_en, "ward": item.ward,
                       "received": item.received_at.astimezone(tz).date().isoformat(),
                       "answered": bool(item.answer)},
    } for item in _items(session, rows)]
    return {"type": "FeatureCollection", "features": features, "limit": limit}


@dataclass(frozen=True)
class Month:
    """One month of the published figures: the totals and each agency's row."""

    month: str
    total: stats.Row
    agencies: dict[str, stats.Row]


def monthly_figures(session: Session, *, year: int, now: datetime) -> tuple[list[Month], list[tuple[str, str]]]:
    """The months of ``year`` begun by ``now`` (local time), and the agencies (code, name) that had reports."""
    tz = default_calendar().tz
    months: list[Month] = []
    agencies: dict[str, str] = {}
    for number in range(1, 13):
        start = datetime.combine(date(year, number, 1), time(), tzinfo=tz)
        if start > now:
            break
        end = datetime.combine(date(year + number // 12, number % 12 + 1, 1), time(), tzinfo=tz)
        result = stats.feedback_stats(session, actor=SYSTEM, start=start, end=end, now=now, list_overdue=False)
        rows = {r.key: r for r in result.groups["agency"] if r.received or r.resolved}
        agencies.update({r.key: r.name for r in rows.values()})
        months.append(Month(month=f"{year}-{number:02d}", total=result.total, agencies=rows))
    return months, sorted(agencies.items())
