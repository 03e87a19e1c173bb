"""The notice data: a new year's notice is data, checked against the law when loaded, from a file or rows."""

from __future__ import annotations

import copy
import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from saola.core.calendar import NoticeBook, WorkingCalendar, default_calendar, load_notice_book
from saola.core.calendar.errors import NoticeDataError
from saola.core.calendar.official import FORMAT

D = date.fromisoformat


def packaged() -> dict[str, Any]:
    text = resources.files("saola.core.calendar").joinpath("notices").joinpath("vn_official.json").read_text("utf-8")
    return json.loads(text)


def with_year(data: dict[str, Any], year: dict[str, Any], *notices: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["years"] = [y for y in data["years"] if y["year"] != year["year"]] + [year]
    data["notices"] += list(notices)
    return data


NOTICE_2027 = {"id": "test-2027", "kind": "official", "number": "1/TB-TEST", "date": "2026-11-01",
               "issuer": "Bộ Nội vụ", "title_vi": "Thử", "title_en": "Test", "urls": ["https://example.org/2027"]}


def test_loading_a_new_years_notice_changes_the_calendar_with_no_code_change(tmp_path: Path) -> None:
    # Tết 2027 placed like the 2025 notice: the Saturday before Tết and the day after mùng 4 off.
    data = with_year(packaged(), {"year": 2027, "complete": False, "schedules": [
        {"occasions": ["tet"], "off": ["2027-02-04", "2027-02-10"], "notices": ["test-2027"]},
    ]}, NOTICE_2027)
    path = tmp_path / "notices.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    before, after = default_calendar(), WorkingCalendar(load_notice_book(path))
    assert before.is_working_day(D("2027-02-04")) and not before.is_working_day(D("2027-02-11"))
    assert not after.is_working_day(D("2027-02-04")) and after.is_working_day(D("2027-02-11"))
    assert after.add_working_days(D("2027-02-03"), 1) == D("2027-02-11")
    tet = next(d for d in after.holidays_in(2027) if d.date == D("2027-02-04"))
    assert tet.kind == "day-off" and tet.source == "notice" and tet.notices == ("test-2027",)


def test_an_extra_day_off_outside_the_labour_code_is_data_too() -> None:
    data = with_year(packaged(), {"year": 2027, "complete": False, "schedules": [
        {"occasions": ["extra"], "off": ["2027-11-24", "2027-11-24"], "notices": ["test-2027"],
         "name_vi": "Ngày Văn hóa Việt Nam", "name_en": "Vietnam Culture Day"},
    ]}, NOTICE_2027)
    cal = WorkingCalendar(NoticeBook.from_dict(data))
    assert not cal.is_working_day(D("2027-11-24"))
    [day] = [d for d in cal.holidays_in(2027) if d.date == D("2027-11-24")]
    assert (day.kind, day.name_vi, day.name_en) == ("day-off", "Ngày Văn hóa Việt Nam", "Vietnam Culture Day")


def test_database_rows_give_the_same_calendar_as_the_file() -> None:
    data = packaged()
    rows = [{**s, "year": y["year"], "off_from": s["off"][0], "off_to": s["off"][1], "off": None,
             "make_up": ",".join(s.get("make_up", [])), "notices": ",".join(s["notices"])}
            for y in data["years"] for s in y["schedules"]]
    book = NoticeBook.from_rows(version="db", notices=data["notices"], schedules=rows,
                                years=[{"year": y["year"], "complete": y["complete"]} for y in data["years"]])
    from_rows, from_file = WorkingCalendar(book), default_calendar()
    for year in (2021, 2023, 2024, 2025, 2026, 2027):
        assert from_rows.plan(year).working_days == from_file.plan(year).working_days
        assert from_rows.holidays_in(year) == from_file.holidays_in(year)


def test_without_notices_the_calendar_follows_the_labour_code_alone() -> None:
    cal = WorkingCalendar(NoticeBook.empty())
    assert cal.is_working_day(D("2026-01-02"))  # the swap exists only in the notice
    assert not cal.is_working_day(D("2026-04-27"))  # compensation for Sunday 26/4 is the law
    assert not cal.plan(2026).official
    assert all(d.source == "statute" for d in cal.holidays_in(2026))


def test_the_packaged_notices_cite_their_sources() -> None:
    book = load_notice_book()
    assert book.notices and book.years[2026].complete
    for notice in book.notices.values():
        assert notice.urls, notice.id
        assert notice.number or notice.kind == "press", notice.id
    for schedule in book.schedules:
        assert all(n in book.notices for n in schedule.notices)


def test_complete_years_have_no_estimates() -> None:
    cal = default_calendar()
    for year, status in cal.book.years.items():
        if status.complete:
            assert not [d for d in cal.holidays_in(year) if d.estimated], year


def _schedule_2027(**changes: Any) -> dict[str, Any]:
    schedule = {"occasions": ["tet"], "off": ["2027-02-04", "2027-02-10"], "notices": ["test-2027"], **changes}
    return with_year(packaged(), {"year": 2027, "schedules": [schedule]}, NOTICE_2027)


def _overlapping_2026() -> dict[str, Any]:
    data = packaged()
    [year] = [y for y in data["years"] if y["year"] == 2026]
    year["schedules"].append({"occasions": ["extra"], "off": ["2026-02-22", "2026-02-23"], "notices": ["qk-2026"],
                              "name_vi": "Nghỉ thêm", "name_en": "Extra day"})
    return data


@pytest.mark.parametrize(("data", "message"), [
    (_schedule_2027(off=["2027-02-06", "2027-02-11"]), "outside the off period"),
    (_schedule_2027(off=["2027-02-04", "2027-02-11"]), "weekday(s) off beyond the statutory ones"),
    (_schedule_2027(off=["2027-02-05", "2027-02-09"]), "weekday(s) off beyond the statutory ones"),
    (_schedule_2027(make_up=["2027-02-15"]), "is not a Saturday or Sunday"),
    (_schedule_2027(notices=["no-such-notice"]), "cite one or more known notices"),
    (_schedule_2027(occasions=["lunar-new-year"]), "unknown occasions"),
    (_schedule_2027(occasions=["extra"]), "needs name_vi and name_en"),
    (_schedule_2027(off=["2027-02-10", "2027-02-04"]), "is not valid"),
    (_schedule_2027(off=["2027-02-04"]), "'off' must be [first day, last day]"),
    (_schedule_2027(off=["2027-02-04", "4/2/2027"]), "is not a YYYY-MM-DD date"),
    (_schedule_2027(occasions=["national-day"], off=["2027-09-01", "2027-09-02"],
                    national_day_adjacent="2027-09-04"), "must be 1/9 or 3/9"),
    (_schedule_2027(national_day_adjacent="2027-09-01"), "belongs to a national-day schedule"),
    (with_year(packaged(), {"year": 2027, "schedules": [
        {"occasions": ["hung-kings"], "off": ["2027-04-16", "2027-05-01"], "notices": ["test-2027"]}]}, NOTICE_2027),
     "add 'reunification-labour' to its occasions"),
    (_overlapping_2026(), "is also in the schedule"),
    (with_year(packaged(), {"year": 2100, "schedules": []}), "outside the calendar's years"),
    ({**packaged(), "format": "something-else/1"}, "unknown notice data format"),
    ({**packaged(), "notices": [*packaged()["notices"], packaged()["notices"][0]]}, "is listed twice"),
])
def test_notice_data_that_contradicts_the_law_or_itself_is_refused_when_loaded(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(NoticeDataError) as err:
        WorkingCalendar(NoticeBook.from_dict(data))
    assert message in str(err.value)


def test_the_format_name_is_versioned() -> None:
    assert packaged()["format"] == FORMAT
