"""The paid public holidays of Labour Code 2019, art. 112 (Law 45/2019/QH14, in force since 1 Jan 2021).

Art. 112(1): 1/1; Tết Âm lịch, 5 days; Giỗ Tổ Hùng Vương, 10/3 lunar; 30/4; 1/5; Quốc khánh 2/9
plus one adjacent day (1/9 or 3/9). Art. 112(3): a holiday that falls on the weekly rest
day is compensated by a day off on the next working day(s).

The law is code (reviewed, versioned with the program); what each year's notices decide
(which adjacent day, where compensatory days go, swapped days) is data (``official.py``).
Where a year has no notice yet, :func:`national_day_adjacent_estimate` and the
next-working-day compensation give the estimate, flagged as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from saola.core.calendar.lunar import LAST_LUNAR_YEAR, hung_kings_day, last_day_of_lunar_year, lunar_new_year

FIRST_YEAR = 2021  # Labour Code 2019 in force
LAST_YEAR = LAST_LUNAR_YEAR
LAW = "Bộ luật Lao động 2019 (45/2019/QH14), Điều 112"

NEW_YEAR = "new-year"
TET = "tet"
HUNG_KINGS = "hung-kings"
REUNIFICATION_LABOUR = "reunification-labour"
NATIONAL_DAY = "national-day"
EXTRA = "extra"
STATUTORY_OCCASIONS = (NEW_YEAR, TET, HUNG_KINGS, REUNIFICATION_LABOUR, NATIONAL_DAY)

OCCASION_NAMES: dict[str, tuple[str, str]] = {
    NEW_YEAR: ("Tết Dương lịch", "New Year's Day"),
    TET: ("Tết Nguyên đán", "Lunar New Year (Tết)"),
    HUNG_KINGS: ("Giỗ Tổ Hùng Vương", "Hùng Kings' Commemoration Day"),
    REUNIFICATION_LABOUR: ("Ngày Chiến thắng và Quốc tế Lao động", "Reunification Day and Labour Day"),
    NATIONAL_DAY: ("Quốc khánh", "National Day"),
    EXTRA: ("Ngày nghỉ theo thông báo", "Day off by notice"),
}

_TET_DAYS = (
    (-1, "tet-eve", "Tết Nguyên đán (ngày cuối năm Âm lịch)", "Lunar New Year (last day of the lunar year)"),
    (0, "tet-1", "Tết Nguyên đán (mùng 1)", "Lunar New Year (1st day)"),
    (1, "tet-2", "Tết Nguyên đán (mùng 2)", "Lunar New Year (2nd day)"),
    (2, "tet-3", "Tết Nguyên đán (mùng 3)", "Lunar New Year (3rd day)"),
    (3, "tet-4", "Tết Nguyên đán (mùng 4)", "Lunar New Year (4th day)"),
)

# Which side of 2/9 the second National Day holiday usually falls, by weekday of 2/9 (Mon=0):
# the side that joins the weekend. It matches every notice 2021–2026; a Wednesday 2/9 went
# to 1/9 in 2026.
_ADJACENT_SIDE = {0: +1, 1: -1, 2: -1, 3: +1, 4: -1, 5: -1, 6: +1}


@dataclass(frozen=True, slots=True)
class StatutoryDay:
    """One paid holiday of the Labour Code in a given year."""

    date: date
    key: str
    occasion: str
    name_vi: str
    name_en: str
    estimated: bool = False  # only the National Day adjacent day can be an estimate


def is_weekend(d: date) -> bool:
    return d.weekday() >= 5


def national_day_adjacent_estimate(year: int) -> date:
    """1/9 or 3/9: the day that joins 2/9 to the weekend (used until the year's notice says)."""
    national_day = date(year, 9, 2)
    return national_day + timedelta(days=_ADJACENT_SIDE[national_day.weekday()])


def statutory_days(year: int, *, national_day_adjacent: date | None = None) -> list[StatutoryDay]:
    """The 11 paid holidays of ``year``, in date order (weekend ones included, not yet compensated)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"Labour Code 2019 holidays are computed for {FIRST_YEAR}–{LAST_YEAR}, not {year}")
    allowed = (date(year, 9, 1), date(year, 9, 3))
    if national_day_adjacent is not None and national_day_adjacent not in allowed:
        raise ValueError(f"the day adjacent to National Day must be 1/9 or 3/9, not {national_day_adjacent}")
    tet = lunar_new_year(year)
    days = [StatutoryDay(date(year, 1, 1), "new-year", NEW_YEAR, "Tết Dương lịch", "New Year's Day")]
    days += [
        StatutoryDay(last_day_of_lunar_year(year) if offset < 0 else tet + timedelta(days=offset), key, TET, vi, en)
        for offset, key, vi, en in _TET_DAYS
    ]
    adjacent = national_day_adjacent or national_day_adjacent_estimate(year)
    days += [
        StatutoryDay(hung_kings_day(year), "hung-kings", HUNG_KINGS, "Giỗ Tổ Hùng Vương (10/3 Âm lịch)",
                     "Hùng Kings' Commemoration Day (10th day of the 3rd lunar month)"),
        StatutoryDay(date(year, 4, 30), "reunification", REUNIFICATION_LABOUR,
                     "Ngày Chiến thắng (30/4)", "Reunification Day (30 April)"),
        StatutoryDay(date(year, 5, 1), "labour-day", REUNIFICATION_LABOUR,
                     "Ngày Quốc tế Lao động (1/5)", "International Labour Day (1 May)"),
        StatutoryDay(date(year, 9, 2), "national-day", NATIONAL_DAY, "Quốc khánh (2/9)", "National Day (2 September)"),
        StatutoryDay(adjacent, "national-day-adjacent", NATIONAL_DAY, "Quốc khánh (ngày liền kề)",
                     "National Day (adjacent day)", estimated=national_day_adjacent is None),
    ]
    return sorted(days, key=lambda s: s.date)
