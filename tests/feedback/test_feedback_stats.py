"""Hotline statistics: the figures of a known month through the API (on SQLite and PostgreSQL), the exports
parsed back, agency scoping, the staff dashboard, the ranking rule and bad parameters answered with a 4xx."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from saola.core.auth import service as auth
from saola.feedback import stats
from saola.feedback.stats import Row
from tests.feedback.conftest import bearer
from tests.feedback.stats_data import (
    MARCH_BY_AGENCY,
    MARCH_BY_CATEGORY,
    MARCH_BY_CHANNEL,
    MARCH_BY_HOUR,
    MARCH_BY_WARD,
    MARCH_TOTAL,
    local,
    make_reports,
)

MARCH = "start=2026-03-01&end=2026-03-31"


@pytest.fixture
def march(app, categories) -> dict[str, int]:
    return make_reports(app)


def _by(rows: list[dict], key: str = "group") -> dict[str, dict]:
    return {r[key]: r for r in rows}


def test_the_month_figures_follow_from_the_known_reports(client, token, march) -> None:
    response = client.get(f"/api/v1/reports/stats?{MARCH}", headers=bearer(token("admin")))
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body["total"][k] for k in MARCH_TOTAL} == MARCH_TOTAL
    agencies = _by(body["by_agency"])
    assert set(agencies) == set(MARCH_BY_AGENCY)
    for code, expected in MARCH_BY_AGENCY.items():
        assert {k: agencies[code][k] for k in expected} == expected, code
    assert {r["group"]: r["received"] for r in body["by_channel"]} == MARCH_BY_CHANNEL
    hours = {r["group"]: r["received"] for r in body["by_hour"]}
    assert len(hours) == 24 and {h: n for h, n in hours.items() if n} == MARCH_BY_HOUR
    assert {r["group"]: r["received"] for r in body["by_ward"]} == MARCH_BY_WARD
    assert {r["group"]: (r["received"], r["resolved"]) for r in body["by_category"]} == MARCH_BY_CATEGORY
    fields = _by(body["by_field"])
    assert (fields["infrastructure"]["received"], fields["health"]["received"], fields["-"]["received"]) == (5, 1, 1)
    assert [r["group"] for r in body["by_month"]] == ["2026-03"] and body["by_month"][0]["received"] == 7
    assert [r["group"] for r in body["ranking"]] == ["SXD"]
    # Overdue now: D (reopened, due 10 March) and E (due 19 March), the longest overdue first.
    assert [o["case_id"] for o in body["overdue"]] == [march["D"], march["E"]]
    assert body["overdue"][1]["deadline_at"].startswith("2026-03-19T10:00")  # 17:00 local


def test_february_counts_what_was_received_then(client, token, march) -> None:
    body = client.get("/api/v1/reports/stats?start=2026-02-01&end=2026-02-28", headers=bearer(token("admin"))).json()
    assert (body["total"]["received"], body["total"]["resolved"], body["total"]["open"]) == (1, 0, 1)
    assert body["total"]["overdue"] == 0 and body["total"]["on_time_rate"] is None


def test_filters_narrow_the_figures(client, token, march) -> None:
    admin = bearer(token("admin"))
    lights = client.get(f"/api/v1/reports/stats?{MARCH}&category=street-lighting", headers=admin).json()["total"]
    assert (lights["received"], lights["resolved"], lights["rejected"], lights["early"]) == (4, 3, 1, 2)
    phone = client.get(f"/api/v1/reports/stats?{MARCH}&channel=phone", headers=admin).json()["total"]
    assert (phone["received"], phone["resolved"], phone["rated"], phone["satisfied"]) == (2, 1, 2, 1)
    ward = client.get(f"/api/v1/reports/stats?{MARCH}&ward=07210", headers=admin).json()["total"]
    assert (ward["received"], ward["resolved"]) == (3, 1)
    health = client.get(f"/api/v1/reports/stats?{MARCH}&field=health", headers=admin).json()["total"]
    assert (health["received"], health["overdue"]) == (1, 1)
    syt = client.get(f"/api/v1/reports/stats?{MARCH}&agency=SYT", headers=admin).json()
    assert syt["total"]["received"] == 1 and [r["group"] for r in syt["by_agency"]] == ["SYT"]


def test_staff_see_only_their_own_agency(client, token, march) -> None:
    staff = client.get(f"/api/v1/reports/stats?{MARCH}", headers=bearer(token("staff"))).json()
    assert [r["group"] for r in staff["by_agency"]] == ["SXD"]
    assert (staff["total"]["received"], staff["total"]["resolved"], staff["total"]["overdue"]) == (5, 4, 1)
    assert [o["case_id"] for o in staff["overdue"]] == [march["E"]]
    other = client.get(f"/api/v1/reports/stats?{MARCH}", headers=bearer(token("staff2"))).json()
    assert [r["group"] for r in other["by_agency"]] == ["SYT"]
    assert (other["total"]["received"], other["total"]["satisfaction_rate"]) == (1, 0.0)
    assert [o["case_id"] for o in other["overdue"]] == [march["D"]]
    # Asking for another agency does not widen the view.
    assert client.get(f"/api/v1/reports/stats?{MARCH}&agency=SXD",
                      headers=bearer(token("staff2"))).json()["total"]["received"] == 0


def test_csv_and_xlsx_exports_give_back_the_same_numbers(client, token, march) -> None:
    admin = bearer(token("admin"))
    body = client.get(f"/api/v1/reports/stats?{MARCH}", headers=admin).json()
    response = client.get(f"/api/v1/reports/stats.csv?{MARCH}&by=agency", headers=admin)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = _by(list(csv.DictReader(io.StringIO(response.text))))
    for item in [*body["by_agency"], body["total"]]:
        row = rows[item["group"]]
        for column in ("received", "resolved", "early", "on_time", "late", "open", "overdue", "rated", "satisfied"):
            assert int(row[column]) == item[column], (item["group"], column)
        for column in ("on_time_rate", "avg_hours", "median_hours", "satisfaction_rate"):
            assert (float(row[column]) if row[column] else None) == item[column], (item["group"], column)
    same = client.get(f"/api/v1/reports/stats?{MARCH}&format=csv&by=agency", headers=admin)
    assert same.text == response.text
    overdue = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/reports/stats.csv?{MARCH}&by=overdue",
                                                         headers=admin).text)))
    assert [int(r["case_id"]) for r in overdue] == [march["D"], march["E"]]
    assert overdue[1]["deadline_at"] == "2026-03-19 17:00"

    book = client.get(f"/api/v1/reports/stats.xlsx?{MARCH}", headers=admin)
    assert book.status_code == 200 and book.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(book.content))
    assert workbook.sheetnames == ["agency", "field", "category", "ward", "month", "channel", "hour", "ranking",
                                   "overdue"]
    sheet = list(workbook["agency"].values)
    header, lines = sheet[0], [dict(zip(sheet[0], v, strict=True)) for v in sheet[1:]]
    assert header[0] == "group"
    total = next(line for line in lines if line["group"] == "total")
    assert {k: total[k] for k in MARCH_TOTAL} == MARCH_TOTAL
    hours = list(workbook["hour"].values)[1:]
    assert len(hours) == 25 and sum(v[2] for v in hours[:24]) == MARCH_TOTAL["received"]
    ranking = list(workbook["ranking"].values)
    assert ranking[0][:2] == ("rank", "group") and ranking[1][:2] == (1, "SXD")


def test_the_dashboard_shows_tiles_tables_bars_and_the_overdue_list(login, march) -> None:
    staff = login("staff")
    page = staff.client.get(f"/console/feedback/dashboard?{MARCH}&lang=en")
    assert page.status_code == 200, page.text
    assert 'data-figure="on_time_rate"><span class="tile-value">75.0 %' in page.text
    assert 'data-testid="ranking"' in page.text and 'data-group="SXD"' in page.text
    assert 'data-hour="09" data-count="2"' in page.text
    assert f'href="/console/feedback/reports/{march["E"]}"' in page.text
    assert f'href="/console/feedback/reports/{march["D"]}"' not in page.text  # Sở Y tế's report
    assert 'href="/console/feedback/dashboard"' in page.text  # in the navigation
    filtered = staff.client.get(f"/console/feedback/dashboard?{MARCH}&channel=phone&lang=en")
    export_link = "/console/feedback/dashboard.csv?start=2026-03-01&amp;end=2026-03-31&amp;channel=phone&amp;by=agency"
    assert f'href="{export_link}"' in filtered.text
    assert '<tr data-group="total" class="total">' in filtered.text
    vi = staff.client.get(f"/console/feedback/dashboard?{MARCH}&lang=vi")
    assert "Tỉ lệ đúng hạn" in vi.text and "75,0 %" in vi.text
    exported = staff.client.get(f"/console/feedback/dashboard.csv?{MARCH}&by=channel")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert {r["group"]: int(r["received"]) for r in csv.DictReader(io.StringIO(exported.text))
            if r["group"] != "total"} == {"phone": 1, "web": 2, "app": 1, "sms": 1}


@pytest.mark.parametrize("query,status", [
    ("start=2026-03-31&end=2026-03-01", 400),
    ("start=2020-01-01&end=2031-01-01", 400),
    ("start=yesterday", 422),
    ("end=2026-02-30", 422),
    ("channel=fax", 422),
    ("agency=NOPE", 400),
    ("category=" + "x" * 61, 422),
    ("ward=09187;drop", 422),
    ("format=pdf", 422),
    ("by=weekday", 422),
])
def test_bad_parameters_are_refused_with_a_4xx(client, token, query: str, status: int) -> None:
    response = client.get(f"/api/v1/reports/stats?{query}", headers=bearer(token("admin")))
    assert response.status_code == status, response.text


def test_every_channel_can_be_filtered() -> None:
    from typing import get_args

    from saola.feedback.models import CHANNELS
    from saola.feedback.stats_api import Channel
    from saola.feedback.stats_pages import CHANNEL_NAMES

    assert set(get_args(Channel)) == set(CHANNELS) == set(CHANNEL_NAMES)


def test_the_statistics_need_feedback_read(client, token) -> None:
    assert client.get(f"/api/v1/reports/stats?{MARCH}").status_code == 401
    assert client.get(f"/api/v1/reports/stats.pdf?{MARCH}", headers=bearer(token("admin"))).status_code == 422
    assert client.get(f"/api/v1/reports/stats?{MARCH}", headers=bearer(token("clerk"))).status_code == 403


def test_agencies_rank_by_on_time_rate_then_by_volume() -> None:
    def row(key: str, early: int, on_time: int, late: int) -> Row:
        made = Row(key, key)
        for outcome, n in (("early", early), ("on_time", on_time), ("late", late)):
            made.counts.add(outcome, n) if n else None
        return made

    rows = [row("A", 1, 0, 1), row("B", 2, 2, 0), row("C", 0, 1, 0), row("D", 3, 0, 3), row("E", 0, 0, 0)]
    assert [r.key for r in stats.rank_agencies(rows)] == ["B", "C", "D", "A"]


def test_the_service_takes_an_explicit_now_for_overdue(app, march) -> None:
    with app.state.session_factory() as session:
        admin = auth.principal_for(auth.get_user(session, username="admin"))
        mid = stats.feedback_stats(session, actor=admin, start=local("2026-03-01 00:00"),
                                   end=local("2026-04-01 00:00"), now=local("2026-03-12 08:00"))
        assert (mid.total.open, mid.total.overdue) == (3, 1)  # E is not due until 19 March
        assert [o.case_id for o in mid.overdue] == [march["D"]]
        later = stats.feedback_stats(session, actor=admin, start=local("2026-03-01 00:00"),
                                     end=local("2026-04-01 00:00"), now=datetime(2026, 5, 1, tzinfo=UTC))
        assert later.total.overdue == 2
