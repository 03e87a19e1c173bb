"""Outcome statistics per agency and period: early + on time + late always equals the cases finished."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from saola.cases import service
from saola.cases.deadlines import outcome
from saola.cases.stats import OutcomeCounts, outcome_counts, tally
from saola.core.calendar import default_calendar
from tests.cases.conftest import NOW, vn
from tests.cases.helpers import new_case

CAL = default_calendar()
START = vn(2026, 1, 1)

# (agency, deadline offset in hours or None, closed offset in hours or None for open)
case_rows = st.lists(st.tuples(st.integers(1, 4), st.none() | st.integers(0, 2000), st.none() | st.integers(0, 2000)),
                     max_size=60)


@settings(max_examples=200, deadline=None)
@given(case_rows)
def test_early_plus_on_time_plus_late_is_the_number_closed(rows: list[tuple[int, int | None, int | None]]) -> None:
    def at(hours: int) -> datetime:
        return START + timedelta(hours=hours)

    tallied = tally((agency, None if closed is None else outcome(at(closed), None if due is None else at(due), CAL))
                    for agency, due, closed in rows)
    for agency, counts in tallied.items():
        mine = [r for r in rows if r[0] == agency]
        assert counts.early + counts.on_time + counts.late == counts.closed == sum(r[2] is not None for r in mine)
        assert counts.open == sum(r[2] is None for r in mine)
    assert sum(c.closed + c.open for c in tallied.values()) == len(rows)


def test_counts_follow_the_period_and_the_actors_agency(db: Session, people, agencies) -> None:
    sxd, syt = agencies["SXD"], agencies["SYT"]
    staff = people["staff"]

    def finish(case_id: int, when: datetime) -> None:
        service.transition(db, case_id=case_id, to="resolved", actor=people["operator"], now=when, resolution="Xong")

    early = new_case(db, "feedback_report", sxd, status="in_progress", days=3)  # due Fri 27/11 17:00
    on_time = new_case(db, "feedback_report", sxd, status="in_progress", days=3)
    late = new_case(db, "feedback_report", sxd, status="in_progress", days=3)
    outside = new_case(db, "feedback_report", sxd, status="in_progress", days=3)
    new_case(db, "feedback_report", sxd)  # open
    new_case(db, "feedback_report", syt)  # open, another agency
    new_case(db, "admin_dossier", sxd)  # open, another type
    finish(early.id, vn(2026, 11, 25, 9))
    finish(on_time.id, vn(2026, 11, 27, 16))
    finish(late.id, vn(2026, 11, 30, 9))
    finish(outside.id, vn(2026, 12, 2, 9))

    period = {"start": vn(2026, 11, 1), "end": vn(2026, 12, 1)}
    assert outcome_counts(db, actor=staff, case_type="feedback_report", **period) == {
        sxd: OutcomeCounts(early=1, on_time=1, late=1, open=1)}
    everything = outcome_counts(db, actor=people["operator"], **period)
    assert everything[syt] == OutcomeCounts(open=1)
    assert everything[sxd] == OutcomeCounts(early=1, on_time=1, late=1, open=2)
    assert everything[sxd].closed == 3
    assert outcome_counts(db, actor=staff, start=NOW - timedelta(days=400), end=NOW - timedelta(days=300)) == {}
