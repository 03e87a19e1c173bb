"""Statistics of the 1022 hotline for a period: received, resolved, open, overdue, on-time rate, handling time and
satisfaction, grouped by agency, field, category, ward, month, channel and hour of day; the agency ranking and the
list of overdue reports.

Definitions (README, "The 1022 citizen feedback hotline", *Statistics*), for the period ``[start, end)``:

* *received*: reports whose case was received in the period. *resolved*: reports answered in the period — the
  engine's ``closed_at`` in the period and status ``resolved`` or ``closed`` (a rejected report is counted apart,
  as *rejected*; a report reopened after a rating counts again when it is answered again). Each resolved report has
  the engine's outcome (:func:`saola.cases.deadlines.outcome`), so ``early + on_time + late == resolved``.
* **on-time rate** = (early + on time) / resolved × 100 — answered no later than the deadline, as the published
  monthly tables of Hồ Chí Minh City count "đúng hạn"; ``late_rate`` = late / resolved.
* *open*: received before ``end`` and not finished by then; *overdue*: open, not paused, past its deadline at
  ``min(end, now)``.
* **handling time**: hours from receipt to the answer of the resolved reports (average and median).
* **satisfaction rate** = satisfied / rated × 100 over the reporters' ratings given in the period
  (:mod:`saola.feedback.rating` keeps them in the history: ``data.rating``).
* By month, each figure falls in the month of its own event (received, answered, rated); *open* and *overdue*,
  states at the end of the period, fall in its last month. By hour of the day only *received* is counted.
* Months and hours of the day are local time (the calendar's zone, Asia/Ho_Chi_Minh). Grouping happens in Python
  over plain rows, so the same SQL runs on SQLite and PostgreSQL (no date truncation or hour extraction in SQL).

Only reports of the agencies the actor sees are counted (:func:`saola.core.scoping.scope_to_agency`): staff see
their own agency, holders of ``agencies:all`` every agency.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from saola.cases.models import Case, CaseEvent
from saola.cases.stats import OutcomeCounts
from saola.core.calendar import default_calendar
from saola.core.directory.models import Agency
from saola.core.scoping import scope_to_agency
from saola.feedback.models import FeedbackCategory, FeedbackField, FeedbackReport
from saola.feedback.reports import CASE_TYPE

Dimension = Literal["agency", "field", "category", "ward", "month", "channel", "hour"]
DIMENSIONS: tuple[Dimension, ...] = ("agency", "field", "category", "ward", "month", "channel", "hour")
ANSWERED = frozenset({"resolved", "closed"})
REJECTED = "rejected"
MAX_OVERDUE = 200
COLUMNS = ("group", "name", "received", "resolved", "early", "on_time", "late", "on_time_rate", "late_rate",
           "rejected", "open", "overdue", "avg_hours", "median_hours", "rated", "satisfied", "satisfaction_rate")
NONE_KEY = "-"


def percent(part: int, whole: int) -> float | None:
    """``part / whole`` in percent with one decimal, ``None`` when ``whole`` is zero."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Filters:
    """Optional filters: the agency (id), the field and category (codes), the ward (code) and the channel."""

    agency_id: int | None = None
    field: str | None = None
    category: str | None = None
    ward: str | None = None
    channel: str | None = None


@dataclass
class Row:
    """The figures of one group (or of the whole period: key ``total``)."""

    key: str
    name: str
    received: int = 0
    counts: OutcomeCounts = field(default_factory=OutcomeCounts)
    rejected: int = 0
    open: int = 0
    overdue: int = 0
    hours: list[float] = field(default_factory=list)
    rated: int = 0
    satisfied: int = 0

    @property
    def resolved(self) -> int:
        return self.counts.closed

    @property
    def on_time_rate(self) -> float | None:
        """(Early + on time) / resolved, in percent."""
        return percent(self.counts.early + self.counts.on_time, self.resolved)

    @property
    def late_rate(self) -> float | None:
        return percent(self.counts.late, self.resolved)

    @property
    def avg_hours(self) -> float | None:
        return round(statistics.fmean(self.hours), 1) if self.hours else None

    @property
    def median_hours(self) -> float | None:
        return round(statistics.median(self.hours), 1) if self.hours else None

    @property
    def satisfaction_rate(self) -> float | None:
        return percent(self.satisfied, self.rated)

    def values(self) -> dict[str, Any]:
        """The row as the export columns (:data:`COLUMNS`)."""
        return {"group": self.key, "name": self.name, "received": self.received, "resolved": self.resolved,
                "early": self.counts.early, "on_time": self.counts.on_time, "late": self.counts.late,
                "on_time_rate": self.on_time_rate, "late_rate": self.late_rate, "rejected": self.rejected,
                "open": self.open, "overdue": self.overdue, "avg_hours": self.avg_hours,
                "median_hours": self.median_hours, "rated": self.rated, "satisfied": self.satisfied,
                "satisfaction_rate": self.satisfaction_rate}


@dataclass(frozen=True)
class Overdue:
    """An open report past its deadline (for the staff's overdue list)."""

    case_id: int
    code: str
    status: str
    agency: str
    category: str
    ward: str
    received_at: datetime
    deadline_at: datetime
    overdue_hours: float


@dataclass
class Stats:
    """Everything the dashboard and the exports show for one period."""

    start: datetime
    end: datetime
    total: Row
    groups: dict[Dimension, list[Row]]
    ranking: list[Row]
    overdue: list[Overdue]


@dataclass(frozen=True)
class _Item:
    case: Case
    report: FeedbackReport
    category: FeedbackCategory | None
    field_: FeedbackField | None


def _base(actor: Any, filters: Filters) -> Select[Any]:
    stmt = (select(Case, FeedbackReport, FeedbackCategory, FeedbackField)
            .join(FeedbackReport, FeedbackReport.case_id == Case.id)
            .outerjoin(FeedbackCategory, FeedbackCategory.id == FeedbackReport.category_id)
            .outerjoin(FeedbackField, FeedbackField.id == FeedbackCategory.field_id)
            .where(Case.case_type == CASE_TYPE))
    if filters.agency_id is not None:
        stmt = stmt.where(Case.agency_id == filters.agency_id)
    if filters.field:
        stmt = stmt.where(FeedbackField.code == filters.field)
    if filters.category:
        stmt = stmt.where(FeedbackCategory.service_code == filters.category)
    if filters.ward:
        stmt = stmt.where(FeedbackReport.ward_code == filters.ward)
    if filters.channel:
        stmt = stmt.where(FeedbackReport.channel == filters.channel)
    return scope_to_agency(stmt, Case.agency_id, actor)


def _local(when: datetime) -> datetime:
    return when.astimezone(default_calendar().tz)


def _key(dimension: Dimension, item: _Item, when: datetime, agencies: dict[int, Agency]) -> tuple[str, str]:
    """The group of ``item`` along ``dimension``; ``when`` is the instant counted (for months and hours)."""
    if dimension == "agency":
        agency = agencies.get(item.case.agency_id)
        return (agency.code, agency.name) if agency else (str(item.case.agency_id), "")
    if dimension == "field":
        return (item.field_.code, item.field_.name_vi) if item.field_ else (NONE_KEY, "")
    if dimension == "category":
        return (item.category.service_code, item.category.name_vi) if item.category else (NONE_KEY, "")
    if dimension == "ward":
        return (item.report.ward_code, item.report.ward_name) if item.report.ward_code else (NONE_KEY, "")
    if dimension == "month":
        month = _local(when).strftime("%Y-%m")
        return month, month
    if dimension == "channel":
        return item.report.channel, item.report.channel
    hour = f"{_local(when).hour:02d}"
    return hour, hour


class _Tally:
    """Rows per dimension plus the total, filled one event (received, resolved, open, rated) at a time."""

    def __init__(self, agencies: dict[int, Agency]) -> None:
        self.agencies = agencies
        self.total = Row("total", "")
        self.rows: dict[Dimension, dict[str, Row]] = {d: {} for d in DIMENSIONS}

    def targets(self, item: _Item, when: datetime, *, hourly: bool = False) -> list[Row]:
        out = [self.total]
        for dimension in DIMENSIONS:
            if dimension == "hour" and not hourly:
                continue
            key, name = _key(dimension, item, when, self.agencies)
            out.append(self.rows[dimension].setdefault(key, Row(key, name)))
        return out


def _count_cases(tally: _Tally, items: list[_Item], start: datetime, end: datetime, cutoff: datetime) -> None:
    for item in items:
        case = item.case
        if start <= case.received_at < end:
            for row in tally.targets(item, case.received_at, hourly=True):
                row.received += 1
        closed = case.closed_at
        if closed is not None and start <= closed < end:
            for row in tally.targets(item, closed):
                if case.status == REJECTED:
                    row.rejected += 1
                elif case.status in ANSWERED:
                    row.counts.add(case.outcome or "on_time")
                    row.hours.append((closed - case.received_at).total_seconds() / 3600)
        if case.received_at < end and (closed is None or closed >= end):
            overdue = case.paused_at is None and case.deadline_at is not None and case.deadline_at < cutoff
            for row in tally.targets(item, min(end - timedelta(microseconds=1), cutoff)):
                row.open += 1
                row.overdue += overdue


def _count_ratings(session: Session, tally: _Tally, actor: Any, filters: Filters, start: datetime,
                   end: datetime) -> None:
    stmt = (_base(actor, filters).add_columns(CaseEvent.at, CaseEvent.data)
            .join(CaseEvent, CaseEvent.case_id == Case.id)
            .where(CaseEvent.kind == "transition", CaseEvent.to_status.in_(("closed", "reopened")),
                   CaseEvent.at >= start, CaseEvent.at < end))
    for case, report, category, field_, at, data in session.execute(stmt):
        rating = data.get("rating") if isinstance(data, dict) else None
        if rating not in ("satisfied", "not_satisfied"):
            continue
        for row in tally.targets(_Item(case, report, category, field_), at):
            row.rated += 1
            row.satisfied += rating == "satisfied"


def rank_agencies(rows: list[Row]) -> list[Row]:
    """Agencies that resolved reports, best on-time rate first; ties by volume resolved, then by code."""
    return sorted((r for r in rows if r.resolved), key=lambda r: (-(r.on_time_rate or 0.0), -r.resolved, r.key))


def _sort(dimension: Dimension, rows: dict[str, Row]) -> list[Row]:
    if dimension == "hour":
        return [rows.get(f"{h:02d}", Row(f"{h:02d}", f"{h:02d}")) for h in range(24)]
    if dimension == "month":
        return [rows[k] for k in sorted(rows)]
    return sorted(rows.values(), key=lambda r: (-r.received, r.key))


def overdue_reports(session: Session, *, actor: Any, now: datetime, filters: Filters = Filters(),
                    limit: int = MAX_OVERDUE) -> list[Overdue]:
    """Open, running reports past their deadline at ``now``, the longest overdue first."""
    stmt = (_base(actor, filters).add_columns(Agency.code)
            .join(Agency, Agency.id == Case.agency_id)
            .where(Case.closed_at.is_(None), Case.paused_at.is_(None), Case.deadline_at.is_not(None),
                   Case.deadline_at < now)
            .order_by(Case.deadline_at, Case.id).limit(limit))
    out = []
    for case, report, category, _field, agency_code in session.execute(stmt):
        assert case.deadline_at is not None
        out.append(Overdue(case_id=case.id, code=case.code, status=case.status, agency=agency_code,
                           category=category.service_code if category else "", ward=report.ward_name,
                           received_at=case.received_at, deadline_at=case.deadline_at,
                           overdue_hours=round((now - case.deadline_at).total_seconds() / 3600, 1)))
    return out


def feedback_stats(session: Session, *, actor: Any, start: datetime, end: datetime, now: datetime,
                   filters: Filters = Filters(), list_overdue: bool = True) -> Stats:
    """The figures of ``[start, end)`` for the reports ``actor`` sees (see the module docstring); the overdue
    list (as of ``now``) only when ``list_overdue``."""
    cutoff = min(end, now)
    stmt = _base(actor, filters).where(or_(
        and_(Case.received_at >= start, Case.received_at < end),
        and_(Case.closed_at >= start, Case.closed_at < end),
        and_(Case.received_at < end, or_(Case.closed_at.is_(None), Case.closed_at >= end))))
    items = [_Item(c, r, cat, f) for c, r, cat, f in session.execute(stmt)]
    agencies = {a.id: a for a in session.scalars(select(Agency))}
    tally = _Tally(agencies)
    _count_cases(tally, items, start, end, cutoff)
    _count_ratings(session, tally, actor, filters, start, end)
    groups = {d: _sort(d, tally.rows[d]) for d in DIMENSIONS}
    return Stats(start=start, end=end, total=tally.total, groups=groups, ranking=rank_agencies(groups["agency"]),
                 overdue=overdue_reports(session, actor=actor, now=now, filters=filters) if list_overdue else [])
