"""Deadline calculators: working days and hours from receipt, pauses, outcomes, open status, reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from saola.cases.deadlines import (
    DeadlineRule,
    EscalationLevel,
    compute_deadline,
    escalations_due,
    extension_in_time,
    outcome,
    reminders_due,
    resume_deadline,
    status_of_open,
    working_time_between,
)
from saola.cases.errors import InvalidDeadline
from saola.core.calendar import default_calendar
from tests.cases.conftest import vn

CAL = default_calendar()
FRIDAY_DEADLINE = vn(2026, 11, 27, 17, 0)


@pytest.mark.parametrize(("received", "rule", "expected"), [
    (vn(2026, 11, 24, 9), DeadlineRule(working_days=3), vn(2026, 11, 27, 17)),  # Tue morning → Fri close
    (vn(2026, 11, 24, 18), DeadlineRule(working_days=3), vn(2026, 11, 30, 17)),  # after hours: counts from Wed
    (vn(2026, 11, 27, 10), DeadlineRule(working_days=1), vn(2026, 11, 30, 17)),  # over the weekend
    (vn(2026, 11, 28, 10), DeadlineRule(working_days=0), vn(2026, 11, 30, 17)),  # Saturday: received Monday
    (vn(2026, 8, 28, 9), DeadlineRule(working_days=2), vn(2026, 9, 4, 17)),  # over National Day (31/8-2/9 off)
    (vn(2026, 2, 13, 9), DeadlineRule(working_days=1), vn(2026, 2, 23, 17)),  # over Tết
    (vn(2026, 11, 24, 10), DeadlineRule(working_hours=4), vn(2026, 11, 24, 15, 30)),  # lunch break skipped
    (vn(2026, 11, 27, 16), DeadlineRule(working_hours=2), vn(2026, 11, 30, 8, 30)),  # Friday → Monday
    (vn(2026, 11, 24, 10), DeadlineRule(calendar_days=7), vn(2026, 12, 1, 10)),
])
def test_deadline_is_counted_from_receipt(received: datetime, rule: DeadlineRule, expected: datetime) -> None:
    assert compute_deadline(rule, received, CAL) == expected


@pytest.mark.parametrize("kwargs", [{}, {"working_days": 1, "working_hours": 2}, {"working_days": -1},
                                    {"calendar_days": True}])
def test_a_deadline_rule_names_exactly_one_non_negative_duration(kwargs: dict) -> None:
    with pytest.raises(InvalidDeadline):
        DeadlineRule(**kwargs)


@pytest.mark.parametrize(("start", "end", "hours"), [
    (vn(2026, 11, 24, 10), vn(2026, 11, 24, 14), 2.5),
    (vn(2026, 11, 27, 16), vn(2026, 11, 30, 8, 30), 2),
    (vn(2026, 11, 28, 8), vn(2026, 11, 29, 18), 0),  # a weekend
    (vn(2026, 11, 24, 12), vn(2026, 11, 24, 12, 45), 0),  # lunch
    (vn(2026, 11, 25, 10), vn(2026, 11, 24, 10), 0),  # end before start
])
def test_working_time_between_counts_office_time_only(start: datetime, end: datetime, hours: float) -> None:
    assert working_time_between(CAL, start, end) == timedelta(hours=hours)


def test_resuming_moves_the_deadline_by_the_office_time_paused() -> None:
    new, paused = resume_deadline(FRIDAY_DEADLINE, vn(2026, 11, 24, 10), vn(2026, 11, 25, 10), CAL)
    assert paused == timedelta(hours=8)
    assert new == vn(2026, 11, 30, 17)  # one working day later, over the weekend


def test_a_pause_outside_office_hours_does_not_move_the_deadline() -> None:
    assert resume_deadline(FRIDAY_DEADLINE, vn(2026, 11, 28, 9), vn(2026, 11, 29, 9), CAL) == (FRIDAY_DEADLINE,
                                                                                                 timedelta())


@pytest.mark.parametrize(("closed", "deadline", "expected"), [
    (vn(2026, 11, 26, 16), FRIDAY_DEADLINE, "early"),
    (vn(2026, 11, 26, 23, 59), FRIDAY_DEADLINE, "early"),
    (vn(2026, 11, 27, 0, 30), FRIDAY_DEADLINE, "on_time"),  # Friday in Vietnam, Thursday in UTC
    (vn(2026, 11, 27, 8), FRIDAY_DEADLINE, "on_time"),
    (vn(2026, 11, 27, 17), FRIDAY_DEADLINE, "on_time"),  # at the deadline instant
    (vn(2026, 11, 27, 17, 1), FRIDAY_DEADLINE, "late"),
    (vn(2026, 12, 3, 9), FRIDAY_DEADLINE, "late"),
    (vn(2026, 12, 3, 9), None, "on_time"),
])
def test_outcome_is_early_before_the_deadline_day_on_time_that_day_late_after(
        closed: datetime, deadline: datetime | None, expected: str) -> None:
    assert outcome(closed, deadline, CAL) == expected


@pytest.mark.parametrize(("now", "deadline", "due_soon", "expected"), [
    (vn(2026, 11, 27, 18), FRIDAY_DEADLINE, None, "overdue"),
    (vn(2026, 11, 26, 17), FRIDAY_DEADLINE, None, "due_soon"),  # exactly one working day left
    (vn(2026, 11, 26, 10), FRIDAY_DEADLINE, None, "within"),  # 13.5 office hours left
    (vn(2026, 11, 27, 9), FRIDAY_DEADLINE, None, "due_soon"),
    (vn(2026, 11, 26, 10), FRIDAY_DEADLINE, timedelta(hours=16), "due_soon"),
    (vn(2026, 11, 26, 10), None, None, "within"),
])
def test_open_cases_are_within_due_soon_or_overdue(now: datetime, deadline: datetime | None,
                                                   due_soon: timedelta | None, expected: str) -> None:
    assert status_of_open(now, deadline, CAL, due_soon=due_soon) == expected


@pytest.mark.parametrize(("now", "deadline", "expected"), [
    (vn(2026, 11, 26, 16, 59), FRIDAY_DEADLINE, True),  # Thursday for a Friday deadline
    (vn(2026, 11, 27, 8), FRIDAY_DEADLINE, False),  # on the due day
    (vn(2026, 11, 27, 10), vn(2026, 11, 30, 17), True),  # Friday for a Monday deadline
    (vn(2026, 11, 28, 10), vn(2026, 11, 30, 17), False),  # Saturday for a Monday deadline
    (vn(2026, 11, 28, 10), None, False),
])
def test_an_extension_is_asked_no_later_than_one_working_day_before_the_deadline(
        now: datetime, deadline: datetime | None, expected: bool) -> None:
    assert extension_in_time(now, deadline, CAL) is expected


@dataclass
class FakeCase:
    id: int
    deadline_at: datetime | None
    paused_at: datetime | None = None
    closed_at: datetime | None = None


CASES = [
    FakeCase(1, vn(2026, 11, 30, 17)),  # within
    FakeCase(2, FRIDAY_DEADLINE),  # due soon on Thursday evening
    FakeCase(3, vn(2026, 11, 25, 17)),  # overdue by 8 office hours on Thursday evening
    FakeCase(4, vn(2026, 11, 20, 17)),  # overdue by 32 office hours
    FakeCase(5, vn(2026, 11, 20, 17), paused_at=vn(2026, 11, 19, 9)),  # paused: the clock is stopped
    FakeCase(6, vn(2026, 11, 20, 17), closed_at=vn(2026, 11, 21, 9)),  # finished
    FakeCase(7, None),
]
THURSDAY_EVENING = vn(2026, 11, 26, 17)


def test_reminders_go_to_running_cases_due_soon_or_overdue_once() -> None:
    due = reminders_due(CASES, THURSDAY_EVENING, CAL)
    assert [(r.case_id, r.kind) for r in due] == [(2, "due_soon"), (3, "overdue"), (4, "overdue")]
    again = reminders_due(CASES, THURSDAY_EVENING, CAL, already_sent=frozenset({(2, "due_soon"), (3, "overdue")}))
    assert [(r.case_id, r.kind) for r in again] == [(4, "overdue")]


def test_escalations_climb_levels_with_the_office_time_overdue() -> None:
    levels = [EscalationLevel("head", timedelta(0), "agency_head"),
              EscalationLevel("leaders", timedelta(hours=16), "leadership")]
    due = escalations_due(CASES, THURSDAY_EVENING, CAL, levels=levels)
    assert [(e.case_id, e.level) for e in due] == [(3, "head"), (4, "head"), (4, "leaders")]
    assert due[0].overdue_by == timedelta(hours=8)
    later = escalations_due(CASES, THURSDAY_EVENING, CAL, levels=levels, already_sent=frozenset({(4, "head")}))
    assert [(e.case_id, e.level) for e in later] == [(3, "head"), (4, "leaders")]
