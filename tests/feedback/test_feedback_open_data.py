"""The hotline's public open data: the list of reports with the agency's public answer, the GeoJSON the map draws,
the map page and the monthly figures — without sign-in, and never the reporter's name, phone, e-mail, the
description or an internal note."""

from __future__ import annotations

import pytest

from saola.cases.models import Case
from tests.feedback.stats_data import (
    INTERNAL_NOTE,
    PUBLIC_REPLY,
    RESOLUTION,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_PHONE,
    SECRET_WORDS,
    make_reports,
)

YEAR_AGO = "days=366"


@pytest.fixture
def march(app, categories) -> dict[str, int]:
    return make_reports(app)


def _codes(app) -> dict[int, str]:
    with app.state.session_factory() as session:
        return {c.id: c.code for c in session.query(Case).all()}


def _no_personal_data(text: str) -> None:
    for secret in (SECRET_NAME, SECRET_PHONE, "0912 345 678", SECRET_EMAIL, SECRET_WORDS, INTERNAL_NOTE):
        assert secret not in text, secret


def test_the_public_list_shows_status_and_the_public_answer_only(app, client, march) -> None:
    codes = _codes(app)
    page = client.get(f"/feedback/reports?{YEAR_AGO}&lang=en")
    assert page.status_code == 200
    _no_personal_data(page.text)
    assert page.text.count('<tr data-code="PA-') == 8
    assert f'data-code="{codes[march["A"]]}" data-status="resolved"' in page.text
    assert f'data-code="{codes[march["D"]]}" data-status="in_progress"' in page.text  # reopened
    assert f'data-code="{codes[march["G"]]}" data-status="rejected"' in page.text
    assert PUBLIC_REPLY in page.text and RESOLUTION in page.text
    answered = client.get(f"/feedback/reports?{YEAR_AGO}&status=resolved&category=street-lighting")
    assert answered.text.count('<tr data-code="PA-') == 3  # H, A and B
    ward = client.get(f"/feedback/reports?{YEAR_AGO}&ward=07210")
    assert ward.text.count('<tr data-code="PA-') == 3  # B, D, G


def test_the_list_pages_through_the_reports_newest_first(app, client, march) -> None:
    from saola.feedback import public_list

    codes = _codes(app)
    newest_first = [codes[march[k]] for k in "FEGDCBAH"]
    with app.state.session_factory() as session:
        items, total = public_list.list_reports(session, query=public_list.PublicQuery(), page=2, page_size=3)
    assert total == 8 and [i.code for i in items] == newest_first[3:6]
    first = client.get(f"/feedback/reports?{YEAR_AGO}")
    assert [line.split('"')[0] for line in first.text.split('<tr data-code="')[1:]] == newest_first
    assert 'data-testid="pager"' not in first.text  # 8 reports fit on one page of 20
    beyond = client.get(f"/feedback/reports?{YEAR_AGO}&page=2")
    assert beyond.status_code == 200 and '<tr data-code="PA-' not in beyond.text


def test_the_geojson_has_points_and_public_fields_only(app, client, march) -> None:
    response = client.get(f"/feedback/reports.geojson?{YEAR_AGO}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
    _no_personal_data(response.text)
    data = response.json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 8
    codes = _codes(app)
    by_code = {f["properties"]["code"]: f for f in data["features"]}
    a = by_code[codes[march["A"]]]
    assert a["geometry"]["type"] == "Point" and a["geometry"]["coordinates"][0] > 100  # longitude first
    assert set(a["properties"]) == {"code", "status", "category", "category_vi", "category_en", "ward", "received",
                                    "answered"}
    assert a["properties"]["status"] == "resolved" and a["properties"]["received"] == "2026-03-02"
    only_open = client.get(f"/feedback/reports.geojson?{YEAR_AGO}&status=received").json()
    assert {f["properties"]["code"] for f in only_open["features"]} == {codes[march["E"]], codes[march["F"]]}
    assert client.get("/feedback/reports.geojson").json()["features"] == []  # by default the last 90 days only


def test_the_map_page_points_at_the_geojson(client, march) -> None:
    page = client.get("/feedback/map?days=120&status=resolved")
    assert page.status_code == 200
    _no_personal_data(page.text)
    assert 'data-url="/feedback/reports.geojson?days=120&amp;status=resolved"' in page.text
    assert 'data-testid="reports-map"' in page.text and "data-saola-map" in page.text


def test_the_monthly_figures_show_received_resolved_on_time_and_satisfaction(client, march) -> None:
    page = client.get("/feedback/figures?year=2026&lang=en")
    assert page.status_code == 200
    _no_personal_data(page.text)
    march_row = page.text.split('<tr data-month="2026-03">')[1].split("</tr>")[0]
    assert "<td>7</td><td>4</td>" in march_row and "75.0 %" in march_row and "50.0 %" in march_row
    february = page.text.split('<tr data-month="2026-02">')[1].split("</tr>")[0]
    assert "<td>1</td><td>0</td>" in february
    sxd = page.text.split('<tr data-agency="SXD">')[1].split("</tr>")[0]
    assert '<td data-month="2026-03">75.0 % <small class="muted">(4)</small>' in sxd
    vi = client.get("/feedback/figures?year=2026")
    assert "Số liệu hằng tháng của đường dây 1022" in vi.text and "75,0 %" in vi.text


def test_the_public_feedback_pages_link_the_open_data(client, categories) -> None:
    for url in ("/feedback/new", "/feedback/track", "/feedback/map", "/feedback/reports", "/feedback/figures"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'href="/feedback/map"' in page.text and 'href="/feedback/figures"' in page.text, url


@pytest.mark.parametrize("url", [
    "/feedback/reports?days=0", "/feedback/reports?days=400", "/feedback/reports?status=lost",
    "/feedback/reports?page=0", "/feedback/reports?category=a%20b", "/feedback/reports.geojson?days=abc",
    "/feedback/reports.geojson?ward=1;2", "/feedback/map?status=open", "/feedback/figures?year=1900",
    "/feedback/figures?year=soon",
])
def test_bad_public_parameters_are_refused_with_a_4xx(client, url: str) -> None:
    response = client.get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code)


DATA_TABLES = ("feedback_", "cases", "case_", "agencies")


def _statements(app, call) -> int:
    """SQL statements one request runs (background workers' polling left out)."""
    from sqlalchemy import event

    from tests.core.helpers import is_background_statement

    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        # statements on the hotline's data only: sign-in upkeep and a new connection's setup vary between calls
        if any(t in statement for t in DATA_TABLES) and not is_background_statement(statement):
            seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        assert call().status_code == 200
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    return len(seen)


def test_public_lists_and_statistics_use_as_many_queries_for_many_reports_as_for_few(app, client, token,
                                                                                    march) -> None:
    from tests.feedback.conftest import bearer

    admin = bearer(token("admin"))
    calls = [lambda: client.get(f"/feedback/reports?{YEAR_AGO}"),
             lambda: client.get(f"/feedback/reports.geojson?{YEAR_AGO}"),
             lambda: client.get("/api/v1/reports/stats?start=2026-03-01&end=2026-03-31", headers=admin)]
    for call in calls:  # warm up: the first calls also sign the token in
        call()
    few = [_statements(app, call) for call in calls]
    make_reports(app)  # eight more reports of every kind
    assert [_statements(app, call) for call in calls] == few
