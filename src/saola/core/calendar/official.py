"""The government's yearly day-off notices, as data: a :class:`NoticeBook`.

A notice says, for one occasion (Tết, Quốc khánh, …), "civil servants are off from A to B"
and possibly "Saturday X is worked in exchange". That is exactly what a :class:`Schedule`
holds: the occasions it covers, the off period (first and last day, weekends included, as
the notice words it), the make-up working days, the adjacent National Day chosen, and the
notices it comes from. Days of an occasion that no schedule covers follow the Labour Code
(``statutory.py``).

The book is built from the packaged JSON file (:func:`load_notice_book`) or from flat rows
(:meth:`NoticeBook.from_rows`, the shape an admin screen backed by database tables would
give); both go through the same checks, and the calendar takes the book as an injected
object. A new year's notice is a data change, never a code change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from saola.core.calendar.errors import NoticeDataError
from saola.core.calendar.statutory import EXTRA, FIRST_YEAR, LAST_YEAR, NATIONAL_DAY, STATUTORY_OCCASIONS

FORMAT = "saola.vn-day-off-notices/1"
NOTICE_KINDS = ("official", "press", "statute")
PACKAGED_FILE = "vn_official.json"


@dataclass(frozen=True, slots=True)
class Notice:
    """A cited source: an official document, or the press report of one when its number is not known."""

    id: str
    kind: str
    number: str | None
    issued: date | None
    issuer: str | None
    title_vi: str
    title_en: str
    urls: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Schedule:
    """What the notices decided for one or more occasions of ``year``."""

    year: int
    occasions: tuple[str, ...]
    off_from: date
    off_to: date
    notices: tuple[str, ...]
    make_up: tuple[date, ...] = ()
    national_day_adjacent: date | None = None
    name_vi: str = ""
    name_en: str = ""
    note: str = ""

    @property
    def is_statutory(self) -> bool:
        return EXTRA not in self.occasions

    def off_days(self) -> list[date]:
        return [date.fromordinal(o) for o in range(self.off_from.toordinal(), self.off_to.toordinal() + 1)]


@dataclass(frozen=True, slots=True)
class YearStatus:
    year: int
    complete: bool  # every decision for the year is published and entered
    note: str = ""


@dataclass(frozen=True)
class NoticeBook:
    """Every notice and schedule the calendar knows, checked for consistency on construction."""

    version: str
    notices: Mapping[str, Notice]
    schedules: tuple[Schedule, ...]
    years: Mapping[int, YearStatus]
    pending: tuple[Mapping[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        _check_book(self)

    def schedules_for(self, year: int) -> tuple[Schedule, ...]:
        return tuple(s for s in self.schedules if s.year == year)

    def is_complete(self, year: int) -> bool:
        status = self.years.get(year)
        return bool(status and status.complete)

    @classmethod
    def empty(cls) -> NoticeBook:
        """No notices at all: the calendar then follows the Labour Code alone (estimates)."""
        return cls(version="empty", notices={}, schedules=(), years={})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NoticeBook:
        """The book from the JSON file's shape (``years`` → ``schedules`` nested)."""
        if data.get("format") != FORMAT:
            raise NoticeDataError(f"unknown notice data format {data.get('format')!r}; expected {FORMAT!r}")
        schedule_rows: list[Mapping[str, Any]] = []
        year_rows: list[Mapping[str, Any]] = []
        for year in _list(data, "years"):
            year_rows.append(year)
            schedule_rows += [{**row, "year": year.get("year")} for row in _list(year, "schedules")]
        return cls.from_rows(version=str(data.get("version", "")), notices=_list(data, "notices"),
                             schedules=schedule_rows, years=year_rows, pending=_list(data, "pending"))

    @classmethod
    def from_rows(
        cls, *, version: str, notices: Iterable[Mapping[str, Any]], schedules: Iterable[Mapping[str, Any]],
        years: Iterable[Mapping[str, Any]] = (), pending: Iterable[Mapping[str, Any]] = (),
    ) -> NoticeBook:
        """The book from flat rows, one per notice, schedule and year (e.g. database tables).

        A schedule row: ``year``, ``occasions`` (list), ``off`` ([first, last]) or ``off_from`` and
        ``off_to``, optional ``make_up`` (list of dates), ``national_day_adjacent``, ``notices``
        (list of notice ids), ``name_vi``/``name_en`` (required for ``extra``), ``note``.
        Dates may be :class:`date` objects or ISO strings.
        """
        parsed_notices: dict[str, Notice] = {}
        for row in notices:
            notice = _notice(row)
            if notice.id in parsed_notices:
                raise NoticeDataError(f"notice {notice.id!r} is listed twice")
            parsed_notices[notice.id] = notice
        parsed_years: dict[int, YearStatus] = {}
        for row in years:
            status = YearStatus(year=_int(row, "year"), complete=bool(row.get("complete", False)),
                                note=str(row.get("note", "")))
            if status.year in parsed_years:
                raise NoticeDataError(f"year {status.year} is listed twice")
            parsed_years[status.year] = status
        return cls(version=version, notices=parsed_notices, schedules=tuple(_schedule(r) for r in schedules),
                   years=parsed_years, pending=tuple(pending))


def load_notice_book(path: Path | str | None = None) -> NoticeBook:
    """The book from a JSON file; by default the one shipped in the package (read once)."""
    if path is None:
        return _packaged_book()
    with open(path, encoding="utf-8") as fh:
        return NoticeBook.from_dict(json.load(fh))


@cache
def _packaged_book() -> NoticeBook:
    text = resources.files("saola.core.calendar").joinpath("notices").joinpath(PACKAGED_FILE).read_text("utf-8")
    return NoticeBook.from_dict(json.loads(text))


# --- parsing -------------------------------------------------------------------------------------


def _list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise NoticeDataError(f"{key!r} must be a list of objects")
    return value


def _int(row: Mapping[str, Any], key: str) -> int:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NoticeDataError(f"{key!r} must be an integer in {dict(row)}")
    try:
        return int(value)
    except ValueError as exc:
        raise NoticeDataError(f"{key!r} must be an integer in {dict(row)}") from exc


def _date(value: Any, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise NoticeDataError(f"{what}: {value!r} is not a YYYY-MM-DD date") from exc


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]  # a comma-separated database column
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise NoticeDataError(f"{what} must be a list of strings")
    return tuple(value)


def _notice(row: Mapping[str, Any]) -> Notice:
    notice_id = str(row.get("id") or "")
    kind = str(row.get("kind") or "")
    if not notice_id or kind not in NOTICE_KINDS:
        raise NoticeDataError(f"a notice needs an id and a kind among {NOTICE_KINDS}: {dict(row)}")
    issued = row.get("date")
    return Notice(
        id=notice_id, kind=kind, number=row.get("number") or None,
        issued=_date(issued, f"notice {notice_id}") if issued else None,
        issuer=row.get("issuer") or None, title_vi=str(row.get("title_vi", "")), title_en=str(row.get("title_en", "")),
        urls=_strings(row.get("urls", []), f"notice {notice_id} urls"), note=str(row.get("note", "")),
    )


def _schedule(row: Mapping[str, Any]) -> Schedule:
    year = _int(row, "year")
    where = f"schedule of {year} {row.get('occasions')}"
    off = row.get("off")
    if off is not None:
        if not isinstance(off, list | tuple) or len(off) != 2:
            raise NoticeDataError(f"{where}: 'off' must be [first day, last day]")
        first, last = off
    else:
        first, last = row.get("off_from"), row.get("off_to")
    adjacent = row.get("national_day_adjacent")
    return Schedule(
        year=year, occasions=_strings(row.get("occasions", []), f"{where} occasions"),
        off_from=_date(first, where), off_to=_date(last, where),
        notices=_strings(row.get("notices", []), f"{where} notices"),
        make_up=tuple(sorted(_date(d, where) for d in _strings_or_dates(row.get("make_up", []), where))),
        national_day_adjacent=_date(adjacent, where) if adjacent else None,
        name_vi=str(row.get("name_vi", "")), name_en=str(row.get("name_en", "")), note=str(row.get("note", "")),
    )


def _strings_or_dates(value: Any, where: str) -> list[Any]:
    if isinstance(value, str):
        return list(_strings(value, f"{where} make_up"))
    if not isinstance(value, list | tuple):
        raise NoticeDataError(f"{where}: 'make_up' must be a list of dates")
    return list(value)


# --- checks that need no lunar dates (the calendar checks the rest against the law) -------------


def _check_book(book: NoticeBook) -> None:
    for year in book.years:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise NoticeDataError(f"year {year} is outside the calendar's years {FIRST_YEAR}–{LAST_YEAR}")
    taken: dict[date, Schedule] = {}
    for s in book.schedules:
        where = f"schedule of {s.year} {list(s.occasions)}"
        if not FIRST_YEAR <= s.year <= LAST_YEAR:
            raise NoticeDataError(f"{where}: year outside {FIRST_YEAR}–{LAST_YEAR}")
        if not s.occasions or len(set(s.occasions)) != len(s.occasions):
            raise NoticeDataError(f"{where}: list each occasion once")
        unknown = set(s.occasions) - {*STATUTORY_OCCASIONS, EXTRA}
        if unknown:
            raise NoticeDataError(f"{where}: unknown occasions {sorted(unknown)}")
        if EXTRA in s.occasions and (len(s.occasions) > 1 or not (s.name_vi and s.name_en)):
            raise NoticeDataError(f"{where}: an 'extra' schedule stands alone and needs name_vi and name_en")
        if s.off_from > s.off_to or (s.off_to - s.off_from).days > 31:
            raise NoticeDataError(f"{where}: the off period {s.off_from}..{s.off_to} is not valid")
        if s.off_to.year != s.year or s.off_from.year < s.year - 1:
            raise NoticeDataError(f"{where}: the off period must end in {s.year} (it may start the year before)")
        unknown_notices = sorted(set(s.notices) - set(book.notices))
        if not s.notices or unknown_notices:
            raise NoticeDataError(f"{where}: cite one or more known notices (unknown: {unknown_notices})")
        for d in s.make_up:
            if d.weekday() < 5 or not s.year - 1 <= d.year <= s.year:
                raise NoticeDataError(f"{where}: make-up day {d} is not a Saturday or Sunday of {s.year} or before")
        if s.national_day_adjacent and NATIONAL_DAY not in s.occasions:
            raise NoticeDataError(f"{where}: national_day_adjacent belongs to a national-day schedule")
        for d in s.off_days():
            if d in taken:
                other = taken[d]
                raise NoticeDataError(f"{where}: {d} is also in the schedule of {other.year} {list(other.occasions)}")
            taken[d] = s
    all_make_up = [d for s in book.schedules for d in s.make_up]
    for d in all_make_up:
        if d in taken or all_make_up.count(d) > 1:
            raise NoticeDataError(f"make-up day {d} is also a day off or listed twice")
