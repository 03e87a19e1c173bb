"""The Vietnamese working-day calendar: official days, deadlines, lunar dates, office hours, properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saola.core.calendar import OfficeHours, WorkingCalendar, default_calendar
from saola.core.calendar.errors import CalendarOutOfRange, InvalidPeriod, InvalidWorkingDays, InvalidWorkingHours
from saola.core.calendar.lunar import hung_kings_day, last_day_of_lunar_year, lunar_new_year

VN = ZoneInfo("Asia/Ho_Chi_Minh")
D = date.fromisoformat


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return default_calendar()


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def days_of(year: int) -> list[date]:
    return [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]


# --- the official 2026 calendar -----------------------------------------------------------------

OFFICIAL_2026_WEEKDAYS_OFF = {
    D("2026-01-01"), D("2026-01-02"),
    D("2026-02-16"), D("2026-02-17"), D("2026-02-18"), D("2026-02-19"), D("2026-02-20"),
    D("2026-04-27"), D("2026-04-30"), D("2026-05-01"),
    D("2026-08-31"), D("2026-09-01"), D("2026-09-02"),
}
OFFICIAL_2026_WORKED_SATURDAYS = {D("2026-01-10"), D("2026-08-22")}


def test_2026_weekdays_off_are_exactly_those_of_the_official_notices(cal: WorkingCalendar) -> None:
    off = {d for d in days_of(2026) if d.weekday() < 5 and not cal.is_working_day(d)}
    assert off == OFFICIAL_2026_WEEKDAYS_OFF


def test_2026_weekend_days_worked_are_exactly_the_make_up_saturdays(cal: WorkingCalendar) -> None:
    worked = {d for d in days_of(2026) if d.weekday() >= 5 and cal.is_working_day(d)}
    assert worked == OFFICIAL_2026_WORKED_SATURDAYS


@pytest.mark.parametrize(("day", "working", "why"), [
    ("2026-01-01", False, "Tết Dương lịch"),
    ("2026-01-02", False, "Friday swapped with Saturday 10/1 (12729/VPCP-KGVX)"),
    ("2026-01-05", True, "first working day of 2026"),
    ("2026-01-10", True, "make-up Saturday"),
    ("2026-01-11", False, "the Sunday after the make-up Saturday stays off"),
    ("2026-02-14", False, "Saturday 27 Chạp, start of the 9-day Tết break"),
    ("2026-02-16", False, "last day of the lunar year Ất Tỵ"),
    ("2026-02-17", False, "mùng 1 Tết Bính Ngọ"),
    ("2026-02-20", False, "mùng 4 Tết"),
    ("2026-02-22", False, "Sunday mùng 6, end of the break"),
    ("2026-02-23", True, "back to work after Tết"),
    ("2026-03-07", False, "a normal Saturday"),
    ("2026-03-08", False, "a normal Sunday"),
    ("2026-03-09", True, "a normal Monday"),
    ("2026-04-26", False, "Giỗ Tổ Hùng Vương on a Sunday"),
    ("2026-04-27", False, "compensatory Monday for Giỗ Tổ"),
    ("2026-04-28", True, "Tuesday after Giỗ Tổ"),
    ("2026-04-30", False, "Ngày Chiến thắng"),
    ("2026-05-01", False, "Quốc tế Lao động"),
    ("2026-05-04", True, "Monday after 30/4–1/5"),
    ("2026-08-22", True, "make-up Saturday for 31/8"),
    ("2026-08-31", False, "Monday swapped with Saturday 22/8"),
    ("2026-09-01", False, "Quốc khánh, adjacent day"),
    ("2026-09-02", False, "Quốc khánh"),
    ("2026-09-03", True, "Thursday after Quốc khánh"),
    ("2026-11-24", True, "Ngày Văn hóa Việt Nam is not a paid holiday yet"),
    ("2026-12-31", True, "last working day of 2026"),
])
def test_2026_day_is_working_or_not(cal: WorkingCalendar, day: str, working: bool, why: str) -> None:
    assert cal.is_working_day(D(day)) is working, why


@pytest.mark.parametrize(("year", "working_days"), [(2024, 251), (2025, 250), (2026, 250)])
def test_a_year_has_the_working_days_its_notices_leave(cal: WorkingCalendar, year: int, working_days: int) -> None:
    assert cal.count_working_days(date(year - 1, 12, 31), date(year, 12, 31)) == working_days


@pytest.mark.parametrize(("year", "weekdays_off", "weekend_worked"), [
    (2024, {"01-01", "02-08", "02-09", "02-12", "02-13", "02-14", "04-18", "04-29", "04-30", "05-01", "09-02",
            "09-03"}, {"05-04"}),
    (2025, {"01-01", "01-27", "01-28", "01-29", "01-30", "01-31", "04-07", "04-30", "05-01", "05-02", "09-01",
            "09-02"}, {"04-26"}),
])
def test_earlier_official_years_follow_their_notices(
    cal: WorkingCalendar, year: int, weekdays_off: set[str], weekend_worked: set[str]
) -> None:
    assert {d.strftime("%m-%d") for d in days_of(year) if d.weekday() < 5 and not cal.is_working_day(d)} == weekdays_off
    assert {d.strftime("%m-%d") for d in days_of(year) if d.weekday() >= 5 and cal.is_working_day(d)} == weekend_worked


def test_2027_without_a_notice_follows_the_labour_code_and_says_it_is_an_estimate(cal: WorkingCalendar) -> None:
    plan = cal.plan(2027)
    assert not plan.official
    off = {d for d in days_of(2027) if d.weekday() < 5 and not cal.is_working_day(d)}
    assert off == {D("2027-01-01"), D("2027-02-05"), D("2027-02-08"), D("2027-02-09"), D("2027-02-10"),
                   D("2027-02-11"), D("2027-04-16"), D("2027-04-30"), D("2027-05-03"), D("2027-09-02"),
                   D("2027-09-03")}
    estimated = {d.date for d in plan.days if d.estimated}
    assert estimated == {D("2027-02-10"), D("2027-02-11"), D("2027-05-03"), D("2027-09-03")}


# --- deadlines ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "n", "due", "why"), [
    ("2026-03-02", 1, "2026-03-03", "day 1 is the next working day"),
    ("2026-03-06", 1, "2026-03-09", "Friday + 1 skips the weekend"),
    ("2026-03-02", 0, "2026-03-02", "zero days is the start itself"),
    ("2026-02-14", 0, "2026-02-14", "zero days even on a day off"),
    ("2026-02-12", 1, "2026-02-13", "the Friday before Tết still works"),
    ("2026-02-13", 1, "2026-02-23", "across the whole Tết 2026 break"),
    ("2026-02-13", 3, "2026-02-25", "three days across Tết 2026"),
    ("2026-02-10", 10, "2026-03-03", "ten days across Tết 2026"),
    ("2026-02-14", 1, "2026-02-23", "starting inside the Tết break"),
    ("2025-12-31", 1, "2026-01-05", "across New Year 2026 and the swapped 2/1"),
    ("2025-12-31", 6, "2026-01-10", "lands on the make-up Saturday 10/1"),
    ("2026-01-09", 1, "2026-01-10", "Friday + 1 is the make-up Saturday"),
    ("2026-01-09", 2, "2026-01-12", "the Sunday after it is off"),
    ("2026-08-21", 1, "2026-08-22", "make-up Saturday 22/8"),
    ("2026-08-28", 1, "2026-09-03", "across the National Day break 29/8–2/9"),
    ("2026-04-24", 1, "2026-04-28", "across Giỗ Tổ and its compensatory Monday"),
    ("2026-04-29", 1, "2026-05-04", "across 30/4–1/5"),
    ("2026-12-30", 1, "2026-12-31", "last working day of 2026"),
    ("2026-12-30", 2, "2027-01-04", "across the year end and 1/1/2027 (Friday)"),
    ("2026-12-31", 1, "2027-01-04", "from the last working day of 2026"),
    ("2026-12-25", 6, "2027-01-05", "six days across the year end"),
    ("2024-04-26", 1, "2024-05-02", "across the 2024 swap (29/4 off)"),
    ("2024-05-03", 1, "2024-05-04", "make-up Saturday 4/5/2024"),
    ("2025-04-25", 1, "2025-04-26", "make-up Saturday 26/4/2025"),
    ("2025-01-24", 1, "2025-02-03", "across Tết 2025 (25/1–2/2)"),
    ("2027-02-04", 1, "2027-02-12", "across estimated Tết 2027"),
])
def test_add_working_days(cal: WorkingCalendar, start: str, n: int, due: str, why: str) -> None:
    assert cal.add_working_days(D(start), n) == D(due), why


@pytest.mark.parametrize(("start", "end", "count"), [
    ("2026-03-02", "2026-03-02", 0),
    ("2026-03-02", "2026-03-03", 1),
    ("2026-03-06", "2026-03-08", 0),
    ("2026-02-13", "2026-02-22", 0),
    ("2026-02-13", "2026-02-25", 3),
    ("2026-01-09", "2026-01-11", 1),
    ("2026-12-30", "2027-01-04", 2),
    ("2026-08-21", "2026-09-03", 7),
])
def test_count_working_days(cal: WorkingCalendar, start: str, end: str, count: int) -> None:
    assert cal.count_working_days(D(start), D(end)) == count


@pytest.mark.parametrize(("day", "following"), [
    ("2026-03-02", "2026-03-03"), ("2026-03-06", "2026-03-09"), ("2026-02-13", "2026-02-23"),
    ("2026-01-09", "2026-01-10"), ("2026-01-10", "2026-01-12"), ("2026-12-31", "2027-01-04"),
])
def test_next_working_day_is_strictly_after(cal: WorkingCalendar, day: str, following: str) -> None:
    assert cal.next_working_day(D(day)) == D(following)


def test_counting_backwards_is_refused_with_a_stable_code(cal: WorkingCalendar) -> None:
    with pytest.raises(InvalidPeriod) as err:
        cal.count_working_days(D("2026-03-02"), D("2026-03-01"))
    assert err.value.code == "invalid-period"


@pytest.mark.parametrize("n", [-1, True, 1.5])
def test_a_negative_or_non_integer_number_of_days_is_refused(cal: WorkingCalendar, n: object) -> None:
    with pytest.raises(InvalidWorkingDays) as err:
        cal.add_working_days(D("2026-03-02"), n)  # type: ignore[arg-type]
    assert err.value.code == "invalid-working-days"


@pytest.mark.parametrize("call", [
    lambda c: c.is_working_day(D("2020-12-31")),
    lambda c: c.add_working_days(D("2099-12-20"), 30),
    lambda c: c.count_working_days(D("2026-01-01"), D("2100-01-05")),
    lambda c: c.holidays_in(2100),
])
def test_dates_outside_the_covered_years_are_refused(cal: WorkingCalendar, call) -> None:
    with pytest.raises(CalendarOutOfRange) as err:
        call(cal)
    assert err.value.code == "calendar-out-of-range"
    assert err.value.status == 422


# --- names --------------------------------------------------------------------------------------------


def test_holidays_in_2026_name_every_day_in_vietnamese_and_english(cal: WorkingCalendar) -> None:
    days = {d.date: d for d in cal.holidays_in(2026)}
    assert all(d.name_vi and d.name_en and not d.estimated for d in days.values())
    assert days[D("2026-02-17")].kind == "holiday"
    assert "mùng 1" in days[D("2026-02-17")].name_vi
    assert days[D("2026-01-02")].kind == "day-off"
    assert "hoán đổi" in days[D("2026-01-02")].name_vi
    assert "10/01/2026" in days[D("2026-01-02")].name_en
    assert days[D("2026-01-10")].kind == "working-day"
    assert "02/01/2026" in days[D("2026-01-10")].name_vi
    assert days[D("2026-04-27")].name_vi.startswith("Nghỉ bù")
    assert days[D("2026-01-02")].notices == ("vpcp-12729-2025",)
    assert {n.number for n in cal.plan(2026).notices} >= {"12729/VPCP-KGVX"}


# --- lunar dates: Vietnamese (UTC+7), not Chinese (UTC+8) -------------------------------------------


@pytest.mark.parametrize(("year", "vietnamese", "chinese"), [
    (1968, "1968-01-29", "1968-01-30"),
    (1985, "1985-01-21", "1985-02-20"),
    (2007, "2007-02-17", "2007-02-18"),
    (2030, "2030-02-02", "2030-02-03"),
])
def test_tet_follows_the_vietnamese_calendar_where_it_differs_from_the_chinese(
    year: int, vietnamese: str, chinese: str
) -> None:
    assert lunar_new_year(year) == D(vietnamese)
    assert lunar_new_year(year) != D(chinese)


@pytest.mark.parametrize(("year", "tet", "hung_kings"), [
    (2021, "2021-02-12", "2021-04-21"), (2022, "2022-02-01", "2022-04-10"), (2023, "2023-01-22", "2023-04-29"),
    (2024, "2024-02-10", "2024-04-18"), (2025, "2025-01-29", "2025-04-07"), (2026, "2026-02-17", "2026-04-26"),
    (2027, "2027-02-06", "2027-04-16"), (2028, "2028-01-26", "2028-04-04"), (2030, "2030-02-02", "2030-04-12"),
])
def test_tet_and_hung_kings_day(year: int, tet: str, hung_kings: str) -> None:
    assert lunar_new_year(year) == D(tet)
    assert hung_kings_day(year) == D(hung_kings)


def test_the_last_day_of_the_lunar_year_is_the_eve_of_tet() -> None:
    assert last_day_of_lunar_year(2026) == D("2026-02-16")  # 29 Chạp Ất Tỵ
    assert last_day_of_lunar_year(2027) == D("2027-02-05")  # 30 Chạp Bính Ngọ


# --- receipt day: the office-hours rule -----------------------------------------------------------------


@pytest.mark.parametrize(("at", "day", "why"), [
    (local("2026-03-02T10:00"), "2026-03-02", "received during office hours"),
    (local("2026-03-02T06:45"), "2026-03-02", "before opening counts as that day"),
    (local("2026-03-02T16:59"), "2026-03-02", "a minute before closing"),
    (local("2026-03-02T17:00"), "2026-03-03", "at closing time: next working day"),
    (local("2026-03-02T21:30"), "2026-03-03", "in the evening: next working day"),
    (local("2026-03-06T18:00"), "2026-03-09", "Friday evening: Monday"),
    (local("2026-03-07T09:00"), "2026-03-09", "Saturday: Monday"),
    (local("2026-02-13T17:30"), "2026-02-23", "Friday evening before Tết: after Tết"),
    (local("2026-09-02T08:00"), "2026-09-03", "on a holiday: next working day"),
    (local("2026-01-10T09:00"), "2026-01-10", "on a make-up Saturday: that day"),
    (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), "2026-03-02", "09:30 UTC is 16:30 in Vietnam"),
    (datetime(2026, 3, 2, 10, 30, tzinfo=UTC), "2026-03-03", "10:30 UTC is 17:30 in Vietnam"),
    (datetime(2026, 3, 1, 23, 0, tzinfo=UTC), "2026-03-02", "Sunday 23:00 UTC is Monday 06:00 in Vietnam"),
])
def test_receipt_day(cal: WorkingCalendar, at: datetime, day: str, why: str) -> None:
    assert cal.receipt_day(at) == D(day), why


def test_a_dossier_received_after_hours_before_tet_is_due_after_tet(cal: WorkingCalendar) -> None:
    received = cal.receipt_day(local("2026-02-13T17:30"))
    assert cal.add_working_days(received, 3) == D("2026-02-26")


def test_the_closing_time_of_the_receipt_rule_is_configurable(cal: WorkingCalendar) -> None:
    assert cal.receipt_day(local("2026-03-02T16:45"), office_close=time(16, 30)) == D("2026-03-03")


def test_a_naive_receipt_time_is_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.receipt_day(datetime(2026, 3, 2, 10, 0))


# --- working hours -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "hours", "due", "why"), [
    ("2026-03-02T08:00", 2, "2026-03-02T10:00", "within the morning session"),
    ("2026-03-02T10:30", 2, "2026-03-02T14:00", "across the lunch break"),
    ("2026-03-02T07:30", 4, "2026-03-02T11:30", "ends exactly at the end of the morning"),
    ("2026-03-02T07:30", 8, "2026-03-02T17:00", "a full working day"),
    ("2026-03-02T07:30", 8.5, "2026-03-03T08:00", "into the next morning"),
    ("2026-03-02T06:00", 1, "2026-03-02T08:30", "before opening starts at 07:30"),
    ("2026-03-02T12:00", 1, "2026-03-02T14:00", "during lunch starts at 13:00"),
    ("2026-03-02T18:00", 1, "2026-03-03T08:30", "after closing starts the next working day"),
    ("2026-03-02T07:30", 24, "2026-03-04T17:00", "three full days"),
    ("2026-03-06T16:00", 2, "2026-03-09T08:30", "over the weekend"),
    ("2026-02-13T16:00", 2, "2026-02-23T08:30", "over Tết 2026"),
    ("2026-01-09T16:00", 2, "2026-01-10T08:30", "onto the make-up Saturday"),
    ("2026-03-02T12:00", 0, "2026-03-02T12:00", "zero hours is the start itself"),
    ("2026-03-02T08:00", 0.25, "2026-03-02T08:15", "a quarter of an hour"),
])
def test_add_working_hours(cal: WorkingCalendar, start: str, hours: float, due: str, why: str) -> None:
    assert cal.add_working_hours(local(start), hours) == local(due), why


def test_working_hours_accept_any_time_zone_and_answer_in_vietnamese_time(cal: WorkingCalendar) -> None:
    due = cal.add_working_hours(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), 2)  # 08:00 in Vietnam
    assert due == local("2026-03-02T10:00")
    assert due.utcoffset() == timedelta(hours=7)


def test_office_hours_are_configurable(cal: WorkingCalendar) -> None:
    single = OfficeHours(((time(8, 0), time(12, 0)),))
    assert cal.add_working_hours(local("2026-03-02T11:00"), 2, office_hours=single) == local("2026-03-03T09:00")
    assert WorkingCalendar(cal.book, office_hours=single).add_working_hours(local("2026-03-02T08:00"), 4) == \
        local("2026-03-02T12:00")


@pytest.mark.parametrize("sessions", [(), ((time(13), time(12)),), ((time(8), time(12)), (time(11), time(17)))])
def test_overlapping_or_empty_office_hours_are_refused(sessions: tuple) -> None:
    with pytest.raises(ValueError):
        OfficeHours(sessions)


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf"), 1e9])
def test_invalid_working_hours_are_refused(cal: WorkingCalendar, hours: float) -> None:
    with pytest.raises(InvalidWorkingHours) as err:
        cal.add_working_hours(local("2026-03-02T08:00"), hours)
    assert err.value.code == "invalid-working-hours"


def test_a_naive_start_is_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_hours(datetime(2026, 3, 2, 8, 0), 1)


# --- properties ------------------------------------------------------------------------------------------------

starts = st.dates(min_value=date(2021, 1, 1), max_value=date(2092, 12, 31))  # + 1500 working days < 2099
counts = st.integers(min_value=0, max_value=1500)


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=1500))
def test_counting_the_days_added_gives_them_back(start: date, n: int) -> None:
    cal = default_calendar()
    assert cal.count_working_days(start, cal.add_working_days(start, n)) == n


@settings(max_examples=300, deadline=None)
@given(start=starts, n=counts, k=st.integers(min_value=1, max_value=300))
def test_adding_more_days_never_gives_an_earlier_date(start: date, n: int, k: int) -> None:
    cal = default_calendar()
    assert start <= cal.add_working_days(start, n) < cal.add_working_days(start, n + k)


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=1500))
def test_a_deadline_is_always_a_working_day(start: date, n: int) -> None:
    cal = default_calendar()
    due = cal.add_working_days(start, n)
    assert due > start
    assert cal.is_working_day(due)


@settings(max_examples=200, deadline=None)
@given(start=starts, span=st.integers(min_value=0, max_value=60))
def test_count_is_the_number_of_working_days_after_start_up_to_end(start: date, span: int) -> None:
    cal = default_calendar()
    end = start + timedelta(days=span)
    expected = sum(cal.is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
    assert cal.count_working_days(start, end) == expected


quarters = st.integers(min_value=0, max_value=400).map(lambda q: q / 4)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(2021, 1, 1), max_value=date(2097, 12, 31)),
       minute=st.integers(min_value=0, max_value=24 * 60 - 1), a=quarters, b=quarters)
def test_working_hours_add_up_and_end_inside_office_hours(day: date, minute: int, a: float, b: float) -> None:
    cal = default_calendar()
    start = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=VN)
    due = cal.add_working_hours(start, a + b)
    assert cal.add_working_hours(cal.add_working_hours(start, a), b) == due
    if a + b > 0:
        assert due > start
        assert cal.is_working_day(due.date())
        assert any(opens < due.time() <= closes for opens, closes in cal.office_hours.sessions)
