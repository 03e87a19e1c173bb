"""Statistics: waiting (issue → call) and serving (call → end) times per ticket, counter, service and day,
computed from a day scripted with an injected clock; the CSV export and the console page."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from saola.core.errors import DomainError
from saola.egov.queue import service as queue
from saola.egov.queue import stats
from tests.egov.test_queue_support import bearer, centre, principal, run, vn

DAY = date(2026, 11, 24)


def scripted_day(app):  # type: ignore[no-untyped-def]
    """A001 waits 10 min, served 5 at counter 1; A002 waits 20, no-show; B001 waits 4, served 6 at counter 2,
    transferred to land, waits 1 more, served 3 at counter 1."""
    c = centre(app)
    clerk = principal(app, "clerk")
    t = lambda h, m: vn(2026, 11, 24, h, m)  # noqa: E731
    run(app, queue.issue_ticket, service_id=c.land, now=t(8, 0))  # A001
    run(app, queue.issue_ticket, service_id=c.land, now=t(8, 5))  # A002
    run(app, queue.issue_ticket, service_id=c.business, now=t(8, 20))  # B001
    run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=t(8, 10))  # A001 after 10 min
    run(app, queue.finish, counter_id=c.counter1, actor=clerk, now=t(8, 15))  # served 5 min
    run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=t(8, 25))  # A002 after 20 min
    run(app, queue.skip, counter_id=c.counter1, actor=clerk, now=t(8, 27))
    run(app, queue.set_counter_open, counter_id=c.counter1, is_open=False, actor=clerk)
    run(app, queue.call_next, counter_id=c.counter2, actor=clerk, now=t(8, 24))  # B001 after 4 min
    run(app, queue.transfer, counter_id=c.counter2, actor=clerk, now=t(8, 30), to_service_id=c.land)  # 6 min
    run(app, queue.set_counter_open, counter_id=c.counter1, is_open=True, actor=clerk)
    run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=t(8, 31))  # waits 1 min again
    run(app, queue.finish, counter_id=c.counter1, actor=clerk, now=t(8, 34))  # served 3 min
    return c


def test_times_per_ticket(app) -> None:
    scripted_day(app)
    rows = {r.ticket.code: (r.wait_seconds, r.serve_seconds) for r in run(app, stats.ticket_times, start=DAY, end=DAY)}
    assert rows == {"A001": (600, 300), "A002": (1200, None), "B001": (240, 540)}


def test_figures_per_counter_service_and_day(app) -> None:
    scripted_day(app)
    summary = run(app, stats.summary, start=DAY, end=DAY, lang="en")
    counters = {r["key"]: r for r in summary["by_counter"]}
    assert counters["1"] == {"key": "1", "label": "Đất đai", "calls": 3, "served": 2, "no_shows": 1, "transferred": 0,
                                  "avg_wait_seconds": round((600 + 1200 + 60) / 3, 1), "max_wait_seconds": 1200.0,
                                  "avg_serve_seconds": 240.0, "max_serve_seconds": 300.0}
    assert (counters["2"]["calls"], counters["2"]["transferred"], counters["2"]["avg_wait_seconds"],
            counters["2"]["avg_serve_seconds"]) == (1, 1, 240.0, 360.0)
    services = {r["key"]: r for r in summary["by_service"]}
    assert services["A"]["label"] == "Land" and services["A"]["calls"] == 3
    assert services["B"]["calls"] == 1
    assert summary["total"]["calls"] == 4 and summary["total"]["avg_serve_seconds"] == (300 + 360 + 180) / 3
    assert summary["by_day"][0]["key"] == "2026-11-24"
    assert summary["issued"] == {"A": 2, "B": 1}
    assert run(app, stats.summary, start=date(2026, 11, 25), end=date(2026, 11, 30))["total"]["calls"] == 0


def test_a_period_ending_before_it_starts_is_refused(app) -> None:
    with pytest.raises(DomainError) as refused:
        run(app, stats.summary, start=DAY, end=date(2026, 11, 1))
    assert refused.value.field == "end"


def test_csv_export_and_statistics_page(app, client, token, login) -> None:
    scripted_day(app)
    response = client.get("/api/v1/queue/stats/tickets.csv?start=2026-11-24&end=2026-11-24",
                          headers=bearer(token("viewer")))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["code"], r["status"], r["wait_seconds"], r["serve_seconds"]) for r in rows] == [
        ("A001", "done", "600", "300"), ("A002", "skipped", "1200", ""), ("B001", "done", "240", "540")]
    api = client.get("/api/v1/queue/stats?start=2026-11-24&end=2026-11-24", headers=bearer(token("viewer"))).json()
    assert api["total"]["calls"] == 4
    page = login("viewer").client.get("/console/queue/stats?start=2026-11-24&end=2026-11-24")
    assert page.status_code == 200 and "Theo quầy" in page.text and "20,0" in page.text  # A002 waited 20 minutes
    bad = client.get("/api/v1/queue/stats?start=2026-11-24&end=2026-11-01", headers=bearer(token("viewer")))
    assert bad.status_code == 400
