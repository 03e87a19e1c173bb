"""The two lunar anchors of Vietnam's statutory holidays: Tết (1/1 lunar) and Giỗ Tổ Hùng Vương (10/3 lunar).

Vietnam's lunar calendar is computed for UTC+7 and differs from the Chinese one (UTC+8)
in some years: Tết 1985 is 21 Jan in Vietnam but 20 Feb in China, Tết 2007 is 17 Feb
(China: 18 Feb), Tết 2030 is 2 Feb (China: 3 Feb).

The dates come from the ``holidays`` package (its ``VN`` calendar uses the Vietnamese
lunisolar tables, not the Chinese ones). Before relying on it we checked every year
1901–2099 against an independent port of Hồ Ngọc Đức's astronomical algorithm (new moons
and solar longitude at UTC+7): Tết and 10/3 agree in every year, and the Chinese tables
agree with the same algorithm run at UTC+8. So no lunar conversion is written here;
``tests/core/test_calendar.py`` pins the years where the two calendars differ.
What ``holidays`` gets wrong is policy, not astronomy (see ``statutory.py``), so only these
two dates are taken from it, through its public API.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays

FIRST_LUNAR_YEAR = 1901
LAST_LUNAR_YEAR = 2099
HUNG_KINGS_SINCE = 2007  # a paid holiday since the 2007 amendment of the Labour Code

_TET = "Lunar New Year"
_HUNG_KINGS = "Hung Kings' Commemoration Day"


class LunarDateUnavailable(ValueError):
    """The lunar tables do not cover the year (or the holiday did not exist then)."""


@cache
def _named_day(year: int, name: str) -> date:
    if not FIRST_LUNAR_YEAR <= year <= LAST_LUNAR_YEAR:
        raise LunarDateUnavailable(f"lunar dates are known for {FIRST_LUNAR_YEAR}–{LAST_LUNAR_YEAR}, not {year}")
    table = holidays.country_holidays("VN", years=year, observed=False, language="en_US")
    found = table.get_named(name, lookup="exact")
    if len(found) != 1:
        raise LunarDateUnavailable(f"the holidays package has no single {name!r} in {year}: {found}")
    return found[0]


def lunar_new_year(year: int) -> date:
    """Mùng 1 Tết: the first day of the Vietnamese lunar year that begins in ``year``."""
    return _named_day(year, _TET)


def last_day_of_lunar_year(year: int) -> date:
    """The last day (29 or 30 tháng Chạp) of the lunar year that ends in ``year``."""
    return date.fromordinal(lunar_new_year(year).toordinal() - 1)


def hung_kings_day(year: int) -> date:
    """10/3 lunar (Giỗ Tổ Hùng Vương) of ``year``."""
    if year < HUNG_KINGS_SINCE:
        raise LunarDateUnavailable(f"Giỗ Tổ Hùng Vương is a paid holiday since {HUNG_KINGS_SINCE}")
    return _named_day(year, _HUNG_KINGS)
