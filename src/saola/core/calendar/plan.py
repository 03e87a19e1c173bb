"""One year of the calendar: the Labour Code's holidays, overlaid with the year's notices.

For each occasion a notice covers, the notice's off period and make-up days are used as
written, after checking them against the law: the period holds every statutory day of the
occasion, and its extra weekdays off are exactly one per statutory day on a weekend
(compensation) plus one per make-up Saturday (swap). An occasion no notice covers follows
the Labour Code: its weekend days are compensated on the next working day(s), art. 112(3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from saola.core.calendar.errors import NoticeDataError
from saola.core.calendar.official import Notice, NoticeBook, Schedule
from saola.core.calendar.statutory import (
    LAST_YEAR,
    OCCASION_NAMES,
    StatutoryDay,
    is_weekend,
    statutory_days,
)

HOLIDAY = "holiday"  # a paid holiday of the Labour Code
DAY_OFF = "day-off"  # a compensatory, swapped or extra day off
WORKING_DAY = "working-day"  # a Saturday or Sunday worked in exchange for a day off


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """A day that differs from the plain Monday–Friday week, with its names in Vietnamese and English."""

    date: date
    kind: str
    occasion: str
    name_vi: str
    name_en: str
    source: str  # "statute" (computed from the law) or "notice" (from the notice data)
    estimated: bool = False  # computed for a year whose notices are not all published yet
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class YearPlan:
    year: int
    official: bool
    days: tuple[CalendarDay, ...]
    notices: tuple[Notice, ...]
    working_days: tuple[date, ...]  # sorted
    working: frozenset[date]


def _vn(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _statutory(year: int, book: NoticeBook) -> list[StatutoryDay]:
    adjacent = next((s.national_day_adjacent for s in book.schedules_for(year) if s.national_day_adjacent), None)
    try:
        return statutory_days(year, national_day_adjacent=adjacent)
    except ValueError as exc:
        raise NoticeDataError(f"notices of {year}: {exc}") from exc


def _occasion_names(schedule: Schedule) -> tuple[str, str]:
    if not schedule.is_statutory:
        return schedule.name_vi, schedule.name_en
    names = [OCCASION_NAMES[o] for o in schedule.occasions]
    return " và ".join(vi for vi, _ in names), " and ".join(en for _, en in names)


def _check_against_law(s: Schedule, statutory: list[StatutoryDay]) -> tuple[list[date], int]:
    """The schedule's extra weekdays off and the number of its weekend holidays; raises when inconsistent."""
    where = f"schedule of {s.year} {list(s.occasions)} ({s.off_from}..{s.off_to})"
    own = [x for x in statutory if x.occasion in s.occasions]
    inside = {x.date for x in own}
    for x in statutory:
        within = s.off_from <= x.date <= s.off_to
        if x.occasion in s.occasions and not within:
            raise NoticeDataError(f"{where}: the statutory day {x.date} ({x.name_en}) is outside the off period")
        if x.occasion not in s.occasions and within:
            raise NoticeDataError(f"{where}: {x.date} ({x.name_en}) is inside it; add '{x.occasion}' to its occasions")
    extra = [d for d in s.off_days() if not is_weekend(d) and d not in inside]
    weekend_holidays = sum(1 for x in own if is_weekend(x.date))
    if len(extra) != weekend_holidays + len(s.make_up):
        raise NoticeDataError(
            f"{where}: {len(extra)} weekday(s) off beyond the statutory ones, but {weekend_holidays} weekend "
            f"holiday(s) to compensate and {len(s.make_up)} make-up day(s) to swap"
        )
    return extra, weekend_holidays


def _schedule_days(s: Schedule, statutory: list[StatutoryDay], *, estimated: bool) -> list[CalendarDay]:
    """The days off and make-up days a schedule adds beyond the statutory holidays."""
    occasion = "+".join(s.occasions)
    vi, en = _occasion_names(s)
    if s.is_statutory:
        extra, weekend_holidays = _check_against_law(s, statutory)
    else:
        extra, weekend_holidays = [d for d in s.off_days() if not is_weekend(d)], 0
    swapped = s.is_statutory and weekend_holidays == 0 and bool(s.make_up)
    out: list[CalendarDay] = []
    for i, d in enumerate(extra):
        if not s.is_statutory:
            names = (vi, en)
        elif not s.make_up:
            names = (f"Nghỉ bù {vi}", f"Compensatory day off ({en})")
        elif swapped:
            names = (f"Nghỉ hoán đổi {vi} (làm bù ngày {_vn(s.make_up[i])})",
                     f"Day off swapped with {_vn(s.make_up[i])} ({en})")
        else:
            names = (f"Nghỉ bù hoặc hoán đổi {vi}", f"Compensatory or swapped day off ({en})")
        out.append(CalendarDay(d, DAY_OFF, occasion, *names, source="notice", estimated=estimated, notices=s.notices))
    for i, d in enumerate(s.make_up):
        names = ((f"Làm bù cho ngày {_vn(extra[i])}", f"Make-up working day for {_vn(extra[i])}") if swapped
                 else (f"Ngày làm bù ({vi})", f"Make-up working day ({en})"))
        out.append(CalendarDay(d, WORKING_DAY, occasion, *names, source="notice", estimated=estimated,
                               notices=s.notices))
    return out


def _compensate(statutory: Iterable[StatutoryDay], blocked: set[date], *, estimated: bool) -> list[CalendarDay]:
    """Art. 112(3): a holiday on a Saturday or Sunday gives a day off on the next free weekday."""
    out = []
    for x in statutory:
        if not is_weekend(x.date):
            continue
        d = x.date + timedelta(days=1)
        while is_weekend(d) or d in blocked:
            d += timedelta(days=1)
        blocked.add(d)
        out.append(CalendarDay(d, DAY_OFF, x.occasion, f"Nghỉ bù {x.name_vi}",
                               f"Compensatory day off for {x.name_en}", source="statute", estimated=estimated))
    return out


def build_year_plan(year: int, book: NoticeBook) -> YearPlan:
    """The working days and special days of ``year`` (raises :class:`NoticeDataError` on bad data)."""
    complete = book.is_complete(year)
    statutory = _statutory(year, book)
    own = book.schedules_for(year)
    covered = {o for s in own for o in s.occasions}
    cited = {o: s.notices for s in own for o in s.occasions}
    days = [
        CalendarDay(x.date, HOLIDAY, x.occasion, x.name_vi, x.name_en, source="statute",
                    estimated=x.estimated and not complete, notices=cited.get(x.occasion, ()))
        for x in statutory
    ]
    touching: list[tuple[Schedule, list[StatutoryDay]]] = [(s, statutory) for s in own]
    if year < LAST_YEAR and book.schedules_for(year + 1):
        following = _statutory(year + 1, book)
        touching += [(s, following) for s in book.schedules_for(year + 1)]
    off = {x.date for x in statutory}
    for s, law in touching:
        off.update(s.off_days())
        days += [d for d in _schedule_days(s, law, estimated=not book.is_complete(s.year)) if d.date.year == year]
    days += _compensate((x for x in statutory if x.occasion not in covered), off, estimated=not complete)
    days = sorted((d for d in days if d.date.year == year), key=lambda d: (d.date, d.kind))
    make_up = {d.date for d in days if d.kind == WORKING_DAY}
    off |= {d.date for d in days if d.kind == DAY_OFF}
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    working = tuple(
        d for d in map(date.fromordinal, range(first, last + 1))
        if (not is_weekend(d) or d in make_up) and d not in off
    )
    notice_ids = dict.fromkeys(n for d in days for n in d.notices)
    return YearPlan(
        year=year, official=complete, days=tuple(days), notices=tuple(book.notices[n] for n in notice_ids),
        working_days=working, working=frozenset(working),
    )
