"""The public calendar API: ``/api/v1/calendar/{add,count,holidays}`` (no sign-in; bad input is a 422 problem)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from saola.core.calendar import NoticeBook, WorkingCalendar
from saola.core.calendar.api import get_calendar
from saola.core.errors import PROBLEM_JSON


def problem(response) -> str:
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
    body = response.json()
    assert body["status"] == response.status_code
    return body["code"]


@pytest.mark.parametrize(("query", "due"), [
    ("date=2026-02-13&days=3", "2026-02-25"),
    ("date=2026-01-09&days=1", "2026-01-10"),
    ("date=2026-12-30&days=2", "2027-01-04"),
    ("date=2026-03-02&days=0", "2026-03-02"),
])
def test_add_answers_the_due_date_without_sign_in(client: TestClient, query: str, due: str) -> None:
    response = client.get(f"/api/v1/calendar/add?{query}")
    assert response.status_code == 200, response.text
    assert response.json() == {"date": due}


@pytest.mark.parametrize(("query", "count"), [
    ("start=2026-02-13&end=2026-02-25", 3),
    ("start=2026-02-13&end=2026-02-22", 0),
    ("start=2026-03-02&end=2026-03-02", 0),
    ("start=2025-12-31&end=2026-12-31", 250),
])
def test_count_answers_the_working_days(client: TestClient, query: str, count: int) -> None:
    response = client.get(f"/api/v1/calendar/count?{query}")
    assert response.status_code == 200, response.text
    assert response.json() == {"working_days": count}


def test_holidays_list_the_official_2026_days_with_names_and_sources(client: TestClient) -> None:
    response = client.get("/api/v1/calendar/holidays?year=2026")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["year"] == 2026 and body["official"] is True
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-01-02"]["kind"] == "day-off"
    assert days["2026-01-10"]["kind"] == "working-day"
    assert days["2026-08-22"]["kind"] == "working-day"
    assert days["2026-02-17"]["kind"] == "holiday"
    assert days["2026-02-17"]["name_vi"] == "Tết Nguyên đán (mùng 1)"
    assert days["2026-02-17"]["name_en"] == "Lunar New Year (1st day)"
    assert "2026-11-24" not in days
    numbers = {n["number"] for n in body["notices"]}
    assert "12729/VPCP-KGVX" in numbers
    assert all(n["urls"] for n in body["notices"])


def test_holidays_of_a_year_without_notices_are_marked_as_estimates(client: TestClient) -> None:
    body = client.get("/api/v1/calendar/holidays?year=2027").json()
    assert body["official"] is False
    estimated = {d["date"] for d in body["days"] if d["estimated"]}
    assert estimated == {"2027-02-10", "2027-02-11", "2027-05-03", "2027-09-03"}


@pytest.mark.parametrize(("url", "code"), [
    ("/api/v1/calendar/add?date=2026-02-30&days=1", "validation-failed"),
    ("/api/v1/calendar/add?date=13/02/2026&days=1", "validation-failed"),
    ("/api/v1/calendar/add?date=0&days=1", "validation-failed"),
    ("/api/v1/calendar/add?date=2026-02-13T00:00:00&days=1", "validation-failed"),
    ("/api/v1/calendar/add?date=2026-02-13&days=-1", "validation-failed"),
    ("/api/v1/calendar/add?date=2026-02-13&days=1000000000", "validation-failed"),
    ("/api/v1/calendar/add?date=2026-02-13&days=99999999999999999999999", "validation-failed"),
    ("/api/v1/calendar/add?date=2026-02-13&days=abc", "validation-failed"),
    ("/api/v1/calendar/add?date=2026-02-13", "validation-failed"),
    ("/api/v1/calendar/add", "validation-failed"),
    ("/api/v1/calendar/add?date=2020-06-01&days=1", "calendar-out-of-range"),
    ("/api/v1/calendar/add?date=2099-12-01&days=100", "calendar-out-of-range"),
    ("/api/v1/calendar/add?date=9999-12-31&days=5000", "calendar-out-of-range"),
    ("/api/v1/calendar/count?start=2026-03-02&end=2026-03-01", "invalid-period"),
    ("/api/v1/calendar/count?start=2026-03-02", "validation-failed"),
    ("/api/v1/calendar/count?start=2026-03-02&end=tomorrow", "validation-failed"),
    ("/api/v1/calendar/count?start=2026-03-02&end=2100-01-05", "calendar-out-of-range"),
    ("/api/v1/calendar/holidays?year=1900", "calendar-out-of-range"),
    ("/api/v1/calendar/holidays?year=2100", "calendar-out-of-range"),
    ("/api/v1/calendar/holidays?year=0", "validation-failed"),
    ("/api/v1/calendar/holidays?year=abc", "validation-failed"),
    ("/api/v1/calendar/holidays", "validation-failed"),
])
def test_bad_input_is_a_422_problem_never_a_500(client: TestClient, url: str, code: str) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert problem(response) == code


def test_the_routes_use_the_injected_calendar(app, client: TestClient) -> None:
    app.dependency_overrides[get_calendar] = lambda: WorkingCalendar(NoticeBook.empty())
    try:
        # Labour Code alone: Friday 2/1/2026 is a working day (the swap is only in the notice).
        assert client.get("/api/v1/calendar/add?date=2025-12-31&days=1").json() == {"date": "2026-01-02"}
        assert client.get("/api/v1/calendar/holidays?year=2026").json()["official"] is False
    finally:
        app.dependency_overrides.pop(get_calendar)
    assert client.get("/api/v1/calendar/add?date=2025-12-31&days=1").json() == {"date": "2026-01-05"}


def test_the_calendar_routes_are_documented_under_their_tag(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "calendar" in {t["name"] for t in spec["tags"]}
    for path in ("/api/v1/calendar/add", "/api/v1/calendar/count", "/api/v1/calendar/holidays"):
        assert spec["paths"][path]["get"]["tags"] == ["calendar"]
