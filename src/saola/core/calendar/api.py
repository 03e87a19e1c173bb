"""Public JSON API of the working-day calendar: ``/api/v1/calendar/{add,count,holidays}``.

Public information, so no sign-in. Dates are ``YYYY-MM-DD``; bad input answers 422 problem+json.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator

from saola.core.calendar.schemas import AddOut, CalendarDayOut, CountOut, HolidaysOut, NoticeOut
from saola.core.calendar.working import WorkingCalendar, default_calendar

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

MAX_DAYS = 5000  # about twenty years of working days
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> dt.date:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return dt.date.fromisoformat(value)  # ValueError for 2026-02-30 → 422
    raise ValueError("expected a date as YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


def get_calendar() -> WorkingCalendar:
    """The calendar the routes use (override this dependency to inject another one)."""
    return default_calendar()


Calendar = Annotated[WorkingCalendar, Depends(get_calendar)]


@router.get("/add", response_model=AddOut, summary="The date N working days after a date")
def add_working_days(
    calendar: Calendar,
    start: Annotated[IsoDate, Query(alias="date", description="Start date (YYYY-MM-DD); day 1 is the day after")],
    days: Annotated[int, Query(ge=0, le=MAX_DAYS, description="Number of working days")],
) -> AddOut:
    return AddOut(date=calendar.add_working_days(start, days))


@router.get("/count", response_model=CountOut, summary="Working days between two dates")
def count_working_days(
    calendar: Calendar,
    start: Annotated[IsoDate, Query(description="Start date (YYYY-MM-DD), not counted")],
    end: Annotated[IsoDate, Query(description="End date (YYYY-MM-DD), counted; not before start")],
) -> CountOut:
    return CountOut(working_days=calendar.count_working_days(start, end))


@router.get("/holidays", response_model=HolidaysOut, summary="Holidays, days off and make-up working days of a year")
def holidays(calendar: Calendar, year: Annotated[int, Query(ge=1, le=9999)]) -> HolidaysOut:
    plan = calendar.plan(year)
    return HolidaysOut(
        year=plan.year, official=plan.official,
        days=[CalendarDayOut.model_validate(d) for d in plan.days],
        notices=[NoticeOut.model_validate(n) for n in plan.notices],
    )
