"""The demo's reports: a few hundred reports of the last months, in every state, through the real use cases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from saola.cases.models import Case
from saola.core.db import unit_of_work
from saola.feedback.demo_reports import load_reports
from saola.feedback.models import FeedbackReport

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_demo_reports_spread_over_the_last_months_in_every_state_and_load_once(app, settings, categories) -> None:
    off = settings.model_copy(update={"feedback_auto_route_confidence": 1.0})
    with unit_of_work(app.state.session_factory) as session:
        assert load_reports(session, settings=off, now=NOW, count=80) == 80
    with unit_of_work(app.state.session_factory) as session:
        assert load_reports(session, settings=off, now=NOW, count=80) == 0  # loaded once
        rows = session.execute(select(Case, FeedbackReport).join(FeedbackReport, FeedbackReport.case_id == Case.id)
                               ).all()
        assert len(rows) == 80
        statuses = Counter(case.status for case, _ in rows)
        assert {"received", "triaged", "resolved"} <= set(statuses), statuses
        assert all(NOW - timedelta(days=121) < case.received_at <= NOW for case, _ in rows)
        assert all(report.ward_code for _, report in rows)
        assert all(report.category_id for case, report in rows if case.status != "received")
        assert len({case.code for case, _ in rows}) == 80
