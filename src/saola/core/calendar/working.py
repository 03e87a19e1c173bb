"""``WorkingCalendar``: Vietnamese working days and office hours for deadlines.

Pure: it takes the notice data (a :class:`NoticeBook`) when built and never reads a clock
or a file afterwards; callers pass the dates and instants. Days are counted as the law
counts them: the first working day *after* the start date is day 1.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from saola.core.calendar.errors import CalendarOutOfRange, InvalidPeriod, InvalidWorkingDays, InvalidWorkingHours
from saola.core.calendar.official import NoticeBook, load_notice_book
from saola.core.calendar.plan import CalendarDay, YearPlan, build_year_plan
from saola.core.calendar.statutory import FIRST_YEAR, LAST_YEAR

VN_TZ = "Asia/Ho_Chi_Minh"
MAX_WORKING_HOURS = 20_000.0  # about ten years of office hours


@dataclass(frozen=True)
class OfficeHours:
    """The working sessions of a working day, local time (default 07:30–11:30 and 13:00–17:00)."""

    sessions: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))

    def __post_init__(self) -> None:
        previous_end = time.min
        if not self.sessions:
            raise ValueError("office hours need at least one session")
        for start, end in self.sessions:
            if not previous_end <= start < end:
                raise ValueError(f"office sessions must be increasing and not overlap: {self.sessions}")
            previous_end = end

    @property
    def close(self) -> time:
        return self.sessions[-1][1]


DEFAULT_OFFICE_HOURS = OfficeHours()


def _aware(at: datetime, what: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (got {at.isoformat()})")
    return at


class WorkingCalendar:
    """Working days of Vietnamese state agencies (Monday–Friday, less holidays, plus make-up days)."""

    def __init__(self, book: NoticeBook, *, tz: str = VN_TZ, office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> None:
        self.book = book
        self.tz = ZoneInfo(tz)
        self.office_hours = office_hours
        self.first_year, self.last_year = FIRST_YEAR, LAST_YEAR
        self._plans: dict[int, YearPlan] = {}
        for year in sorted({s.year for s in book.schedules} | set(book.years)):
            self.plan(year)  # fail fast on notice data that contradicts the law

    # --- years --------------------------------------------------------------------------------

    def plan(self, year: int) -> YearPlan:
        if not self.first_year <= year <= self.last_year:
            raise CalendarOutOfRange(
                f"The working-day calendar covers {self.first_year}–{self.last_year}; {year} is outside it."
            )
        plan = self._plans.get(year)
        if plan is None:
            plan = self._plans[year] = build_year_plan(year, self.book)
        return plan

    def holidays_in(self, year: int) -> tuple[CalendarDay, ...]:
        """Holidays, other days off and make-up working days of ``year``, with Vietnamese and English names."""
        return self.plan(year).days

    # --- days ---------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        return d in self.plan(d.year).working

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``n`` = 0 gives ``start`` itself)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidWorkingDays(f"The number of working days must be a whole number ≥ 0, not {n!r}.", field="days")
        if n == 0:
            return start
        year = start.year
        days = self.plan(year).working_days
        index = bisect_right(days, start)
        remaining = n
        while remaining > len(days) - index:
            remaining -= len(days) - index
            year += 1
            days, index = self.plan(year).working_days, 0
        return days[index + remaining - 1]

    def count_working_days(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; ``count(s, add(s, n)) == n``."""
        if end < start:
            raise InvalidPeriod(f"The end date {end.isoformat()} is before the start date {start.isoformat()}.",
                                field="end")
        total = 0
        for year in range(start.year, end.year + 1):
            days = self.plan(year).working_days
            low = bisect_right(days, start) if year == start.year else 0
            high = bisect_right(days, end) if year == end.year else len(days)
            total += high - low
        return total

    # --- instants -----------------------------------------------------------------------------

    def receipt_day(self, at: datetime, tz: str = VN_TZ, office_close: time = time(17, 0)) -> date:
        """The day a dossier counts as received: that day if it is a working day and ``at`` is before
        ``office_close`` (local time), otherwise the next working day. Deadlines count from it."""
        local = _aware(at, "the receipt time").astimezone(ZoneInfo(tz))
        day = local.date()
        if self.is_working_day(day) and local.time() < office_close:
            return day
        return self.next_working_day(day)

    def add_working_hours(self, start: datetime, hours: float, *, office_hours: OfficeHours | None = None) -> datetime:
        """The instant ``hours`` office hours after ``start`` (local time of the calendar's zone).

        Time outside office sessions and on non-working days does not count; a deadline that
        ends exactly at the end of a session is that end (11:30, not 13:00).
        """
        sessions = (office_hours or self.office_hours).sessions
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours) \
                or not 0 <= hours <= MAX_WORKING_HOURS:
            raise InvalidWorkingHours(f"The working hours must be between 0 and {MAX_WORKING_HOURS:g}, not {hours!r}.",
                                      field="hours")
        current = _aware(start, "the start").astimezone(self.tz)
        remaining = timedelta(hours=hours)
        if not remaining:
            return current
        day = current.date()
        while True:
            if self.is_working_day(day):
                for opens, closes in sessions:
                    session_start = datetime.combine(day, opens, tzinfo=self.tz)
                    session_end = datetime.combine(day, closes, tzinfo=self.tz)
                    if current >= session_end:
                        continue
                    current = max(current, session_start)
                    if remaining <= session_end - current:
                        return current + remaining
                    remaining -= session_end - current
                    current = session_end
            day = self.next_working_day(day)
            current = datetime.combine(day, time.min, tzinfo=self.tz)


@cache
def default_calendar() -> WorkingCalendar:
    """The calendar of the notices shipped with Saola (built once per process)."""
    return WorkingCalendar(load_notice_book())
