"""Deadline calculators: pure functions of the instants given, a :class:`WorkingCalendar`, and nothing else.

Definitions used throughout (local time of the calendar's zone, Asia/Ho_Chi_Minh by default):

* **N working days**: counted from the receipt day (:meth:`WorkingCalendar.receipt_day`: the
  day itself when received on a working day before office close, else the next working day);
  the deadline is the close of office hours (17:00) of the N-th working day after it.
* **N working hours**: office time only (:meth:`WorkingCalendar.add_working_hours`).
* **N calendar days**: exactly N×24 hours after receipt.
* **Pause / resume**: the deadline moves later by the office time that passed while paused.
* **Outcome** of a finished case (Decision 766/QD-TTg counts "trước hạn / đúng hạn / quá hạn"):
  ``late`` when finished after the deadline instant; ``early`` when finished on a calendar day
  before the deadline's day; ``on_time`` otherwise (on the deadline's day, not after the
  deadline instant). A case without a deadline is ``on_time``.
* **Open status**: ``overdue`` after the deadline; ``due_soon`` when at most the threshold of
  office time is left (default one full working day); ``within`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from saola.cases.errors import InvalidDeadline
from saola.core.calendar import WorkingCalendar

Outcome = Literal["early", "on_time", "late"]
OUTCOMES: tuple[Outcome, ...] = ("early", "on_time", "late")
OpenStatus = Literal["within", "due_soon", "overdue"]


@dataclass(frozen=True)
class DeadlineRule:
    """How long a case may take: exactly one of working days, working hours or calendar days."""

    working_days: int | None = None
    working_hours: float | None = None
    calendar_days: int | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.working_days, self.working_hours, self.calendar_days) if v is not None]
        if len(given) != 1 or isinstance(given[0], bool) or given[0] < 0:
            raise InvalidDeadline("Give exactly one of working days, working hours or calendar days, not negative",
                                  field="deadline_rule")


def _close_of(calendar: WorkingCalendar, day: date) -> datetime:
    return datetime.combine(day, calendar.office_hours.close, tzinfo=calendar.tz)


def compute_deadline(rule: DeadlineRule, received_at: datetime, calendar: WorkingCalendar) -> datetime:
    """The deadline of a case received at ``received_at`` under ``rule`` (see the module docstring)."""
    if rule.working_days is not None:
        start = calendar.receipt_day(received_at, office_close=calendar.office_hours.close)
        return _close_of(calendar, calendar.add_working_days(start, rule.working_days))
    if rule.working_hours is not None:
        return calendar.add_working_hours(received_at, rule.working_hours)
    assert rule.calendar_days is not None
    return received_at + timedelta(days=rule.calendar_days)


def working_time_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """Office time on working days between two instants (zero when ``end`` is not after ``start``)."""
    start, end = start.astimezone(calendar.tz), end.astimezone(calendar.tz)
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if calendar.is_working_day(day):
            for opens, closes in calendar.office_hours.sessions:
                low = max(start, datetime.combine(day, opens, tzinfo=calendar.tz))
                high = min(end, datetime.combine(day, closes, tzinfo=calendar.tz))
                if high > low:
                    total += high - low
        day += timedelta(days=1)
    return total


def working_day_length(calendar: WorkingCalendar) -> timedelta:
    """The office time of one working day (8 hours by default)."""
    anchor = date(2000, 1, 1)
    return sum((datetime.combine(anchor, c) - datetime.combine(anchor, o) for o, c in calendar.office_hours.sessions),
               timedelta())


def resume_deadline(deadline_at: datetime, paused_at: datetime, resumed_at: datetime,
                    calendar: WorkingCalendar) -> tuple[datetime, timedelta]:
    """The deadline after a pause from ``paused_at`` to ``resumed_at``, and the office time paused."""
    paused = working_time_between(calendar, paused_at, resumed_at)
    if not paused:
        return deadline_at, paused
    return calendar.add_working_hours(deadline_at, paused.total_seconds() / 3600), paused


def outcome(closed_at: datetime, deadline_at: datetime | None, calendar: WorkingCalendar) -> Outcome:
    """``early`` | ``on_time`` | ``late`` for a case finished at ``closed_at`` (see the module docstring)."""
    if deadline_at is None:
        return "on_time"
    if closed_at > deadline_at:
        return "late"
    if closed_at.astimezone(calendar.tz).date() < deadline_at.astimezone(calendar.tz).date():
        return "early"
    return "on_time"


def status_of_open(now: datetime, deadline_at: datetime | None, calendar: WorkingCalendar, *,
                   due_soon: timedelta | None = None) -> OpenStatus:
    """Where an open case stands against its deadline; ``due_soon`` defaults to one working day."""
    if deadline_at is None:
        return "within"
    if now > deadline_at:
        return "overdue"
    threshold = working_day_length(calendar) if due_soon is None else due_soon
    return "due_soon" if working_time_between(calendar, now, deadline_at) <= threshold else "within"


def extension_in_time(now: datetime, deadline_at: datetime | None, calendar: WorkingCalendar) -> bool:
    """Whether an extension asked at ``now`` is no later than one working day before the deadline's day.

    True when ``now`` falls on or before the last working day preceding the deadline's day (asked on
    Thursday for a Friday deadline: yes; on Friday itself or on the Saturday before a Monday: no).
    """
    if deadline_at is None:
        return False
    today = now.astimezone(calendar.tz).date()
    due_day = deadline_at.astimezone(calendar.tz).date()
    day_before = due_day - timedelta(days=1)
    return due_day > today and calendar.count_working_days(today - timedelta(days=1), day_before) >= 1


# --- reminders and escalations ------------------------------------------------------------------


class OpenCase(Protocol):
    """What the calculators read of a case (a :class:`~saola.cases.models.Case` fits)."""

    @property
    def id(self) -> int: ...
    @property
    def deadline_at(self) -> datetime | None: ...
    @property
    def paused_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Reminder:
    case_id: int
    kind: OpenStatus  # "due_soon" or "overdue"
    deadline_at: datetime


@dataclass(frozen=True)
class EscalationLevel:
    """Escalate to ``target`` once a case is overdue by at least ``after`` of office time."""

    name: str
    after: timedelta
    target: str


@dataclass(frozen=True)
class Escalation:
    case_id: int
    level: str
    target: str
    overdue_by: timedelta


DEFAULT_ESCALATIONS = (
    EscalationLevel("agency-head", timedelta(0), "agency_head"),
    EscalationLevel("leadership", timedelta(hours=16), "leadership"),
)


def _running(case: OpenCase) -> bool:
    return case.closed_at is None and case.paused_at is None and case.deadline_at is not None


def reminders_due(cases: Iterable[OpenCase], now: datetime, calendar: WorkingCalendar, *,
                  due_soon: timedelta | None = None,
                  already_sent: frozenset[tuple[int, str]] = frozenset()) -> list[Reminder]:
    """The reminders to send now: one ``due_soon`` and one ``overdue`` per running case, never twice.

    Finished and paused cases get none; ``already_sent`` holds ``(case_id, kind)`` pairs sent before.
    """
    out = []
    for case in cases:
        if not _running(case):
            continue
        assert case.deadline_at is not None
        kind = status_of_open(now, case.deadline_at, calendar, due_soon=due_soon)
        if kind != "within" and (case.id, kind) not in already_sent:
            out.append(Reminder(case.id, kind, case.deadline_at))
    return out


def escalations_due(cases: Iterable[OpenCase], now: datetime, calendar: WorkingCalendar, *,
                    levels: Sequence[EscalationLevel] = DEFAULT_ESCALATIONS,
                    already_sent: frozenset[tuple[int, str]] = frozenset()) -> list[Escalation]:
    """The escalations to send now: every level a running overdue case has reached and not yet received."""
    out = []
    for case in cases:
        if not _running(case) or case.deadline_at is None or now <= case.deadline_at:
            continue
        overdue_by = working_time_between(calendar, case.deadline_at, now)
        for level in levels:
            if overdue_by >= level.after and (case.id, level.name) not in already_sent:
                out.append(Escalation(case.id, level.name, level.target, overdue_by))
    return out

