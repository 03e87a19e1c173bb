"""Outcome statistics: how many cases finished early, on time or late, and how many are open, per agency.

A case counts as finished in a period when its ``closed_at`` falls in ``[start, end)``, and as
open when it was received before ``end`` and is not finished. Every finished case has an
outcome, so ``early + on_time + late == closed`` always holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.cases.models import Case
from saola.core.calendar import default_calendar
from saola.core.db import utcnow
from saola.core.errors import BadRequest
from saola.core.scoping import scope_to_agency


@dataclass
class OutcomeCounts:
    early: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0

    @property
    def closed(self) -> int:
        return self.early + self.on_time + self.late

    def add(self, outcome: str | None, n: int = 1) -> None:
        if outcome is None:
            self.open += n
        elif outcome in ("early", "on_time", "late"):
            setattr(self, outcome, getattr(self, outcome) + n)
        else:
            raise ValueError(f"unknown outcome {outcome!r}")


def tally(rows: Iterable[tuple[int, str | None]]) -> dict[int, OutcomeCounts]:
    """``(agency_id, outcome or None for open)`` rows → counts per agency."""
    out: dict[int, OutcomeCounts] = {}
    for agency_id, outcome in rows:
        out.setdefault(agency_id, OutcomeCounts()).add(outcome)
    return out


def outcome_counts(session: Session, *, actor: Any, start: datetime, end: datetime,
                   case_type: str | None = None) -> dict[int, OutcomeCounts]:
    """Counts per agency the actor may see, for cases finished in ``[start, end)`` and open at ``end``."""
    finished = (select(Case.agency_id, Case.outcome, func.count())
                .where(Case.closed_at >= start, Case.closed_at < end).group_by(Case.agency_id, Case.outcome))
    still_open = (select(Case.agency_id, func.count())
                  .where(Case.closed_at.is_(None), Case.received_at < end).group_by(Case.agency_id))
    if case_type is not None:
        finished = finished.where(Case.case_type == case_type)
        still_open = still_open.where(Case.case_type == case_type)
    out: dict[int, OutcomeCounts] = {}
    for agency_id, outcome, n in session.execute(scope_to_agency(finished, Case.agency_id, actor)):
        out.setdefault(agency_id, OutcomeCounts()).add(outcome or "on_time", n)
    for agency_id, n in session.execute(scope_to_agency(still_open, Case.agency_id, actor)):
        out.setdefault(agency_id, OutcomeCounts()).add(None, n)
    return out


MAX_PERIOD_DAYS = 3700  # about ten years: longer periods are refused rather than scanned


def period(start: date | None, end: date | None) -> tuple[date, date, datetime, datetime]:
    """The days of a statistics period (default: this month so far) and the instants ``[start 00:00,
    end+1 00:00)`` in local time; a period that ends before it starts or is too long is a :class:`BadRequest`."""
    tz = default_calendar().tz
    today = utcnow().astimezone(tz).date()
    start = start or today.replace(day=1)
    end = end or today
    if end < start or (end - start).days > MAX_PERIOD_DAYS:
        raise BadRequest("The period must end after it starts and last at most {days} days", field="end",
                         days=MAX_PERIOD_DAYS)
    return (start, end, datetime.combine(start, time(), tzinfo=tz),
            datetime.combine(end + timedelta(days=1), time(), tzinfo=tz))
