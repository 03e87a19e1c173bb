"""The one ``transition()`` of the case engine: lock the case, check the rule and guards, then apply.

Every check runs before anything changes, so a rejected move saves nothing. The row is read
with ``SELECT ... FOR UPDATE`` (PostgreSQL), so of two concurrent moves the second sees the
first's result and is judged against it. The ``case.transitioned`` event is published after commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases import events
from saola.cases.actors import actor_id, actor_name, role_of
from saola.cases.deadlines import extension_in_time, outcome, resume_deadline
from saola.cases.errors import (
    AssigneeRequired,
    CaseNotFound,
    ExtensionTooLate,
    InvalidAssignee,
    InvalidDeadline,
    InvalidTransition,
    ReasonRequired,
    ResolutionRequired,
    TargetAgencyRequired,
    TransitionNotAllowed,
    TransitionRepeated,
)
from saola.cases.models import Case, CaseEvent
from saola.cases.workflow import (
    ASSIGNEE_REQUIRED,
    AT_MOST_ONCE,
    CHANGE_AGENCY,
    EXTEND_DEADLINE,
    EXTENSION_NOTICE,
    FINISH,
    NEW_DEADLINE_REQUIRED,
    PAUSE_CLOCK,
    REASON_REQUIRED,
    REOPEN,
    RESOLUTION_REQUIRED,
    RESUME_CLOCK,
    TARGET_AGENCY_REQUIRED,
    Rule,
    get_workflow,
)
from saola.core.auth.models import User
from saola.core.calendar import WorkingCalendar, default_calendar
from saola.core.directory.models import Agency


def lock_case(session: Session, *, case_id: int, actor: Any) -> Case:
    """The case, locked for update and re-read; :class:`CaseNotFound` when missing or another agency's."""
    stmt = select(Case).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
    case = session.scalars(stmt).first()
    if case is None or not (actor.sees_all_agencies() or case.agency_id == actor.agency_id):
        raise CaseNotFound("No case with id {case_id}", case_id=case_id)
    return case


def check_assignee(session: Session, case: Case, assignee_id: int) -> None:
    user = session.get(User, assignee_id)
    if user is None or not user.active or user.agency_id != case.agency_id:
        raise InvalidAssignee(field="assignee_id")


def _check_guards(session: Session, case: Case, to: str, rule: Rule, *, now: datetime, reason: str,
                  resolution: str | None, assignee_id: int | None, target_agency_id: int | None,
                  new_deadline: datetime | None, calendar: WorkingCalendar) -> None:
    guards = rule.guards
    if REASON_REQUIRED in guards and not reason:
        raise ReasonRequired(field="reason")
    if RESOLUTION_REQUIRED in guards and not (resolution or case.resolution or "").strip():
        raise ResolutionRequired(field="resolution")
    if assignee_id is not None:
        check_assignee(session, case, assignee_id)
    elif ASSIGNEE_REQUIRED in guards and case.assignee_id is None:
        raise AssigneeRequired(field="assignee_id")
    if TARGET_AGENCY_REQUIRED in guards and (
            target_agency_id is None or target_agency_id == case.agency_id or session.get(Agency, target_agency_id)
            is None):
        raise TargetAgencyRequired(field="target_agency_id")
    if AT_MOST_ONCE in guards and session.scalar(
            select(CaseEvent.id).where(CaseEvent.case_id == case.id, CaseEvent.kind == "transition",
                                       CaseEvent.to_status == to).limit(1)) is not None:
        raise TransitionRepeated("The case was already '{status}' once", status=to)
    if NEW_DEADLINE_REQUIRED in guards and (
            new_deadline is None or new_deadline.tzinfo is None or new_deadline <= (case.deadline_at or now)):
        raise InvalidDeadline(field="new_deadline")
    if EXTENSION_NOTICE in guards and not extension_in_time(now, case.deadline_at, calendar):
        raise ExtensionTooLate(field="new_deadline")


def _apply_effects(session: Session, case: Case, rule: Rule, *, now: datetime, target_agency_id: int | None,
                   new_deadline: datetime | None, calendar: WorkingCalendar, data: dict[str, Any]) -> None:
    for effect in rule.effects:
        if effect == PAUSE_CLOCK:
            case.paused_at = now
        elif effect == RESUME_CLOCK and case.paused_at is not None:
            if case.deadline_at is not None:
                new, paused = resume_deadline(case.deadline_at, case.paused_at, now, calendar)
                data.update(deadline_from=case.deadline_at.isoformat(), deadline_to=new.isoformat(),
                            paused_seconds=int(paused.total_seconds()))
                case.deadline_at = new
                case.paused_seconds += int(paused.total_seconds())
            case.paused_at = None
        elif effect == CHANGE_AGENCY:
            data.update(agency_from=case.agency_id, agency_to=target_agency_id)
            case.agency_id = target_agency_id  # type: ignore[assignment]  (guarded by TARGET_AGENCY_REQUIRED)
            case.assignee_id = None
        elif effect == EXTEND_DEADLINE:
            assert new_deadline is not None
            data.update(deadline_from=case.deadline_at.isoformat() if case.deadline_at else None,
                        deadline_to=new_deadline.isoformat())
            case.deadline_at = new_deadline
        elif effect == FINISH:
            case.closed_at = now
            case.outcome = outcome(now, case.deadline_at, calendar)
            data["outcome"] = case.outcome
        elif effect == REOPEN:
            case.closed_at = None
            case.outcome = None


def transition(session: Session, *, case_id: int, to: str, actor: Any, now: datetime, reason: str | None = None,
               resolution: str | None = None, assignee_id: int | None = None, target_agency_id: int | None = None,
               new_deadline: datetime | None = None, calendar: WorkingCalendar | None = None,
               data: dict[str, Any] | None = None) -> Case:
    """Move case ``case_id`` to status ``to`` on behalf of ``actor``; raises before saving anything.

    Errors: :class:`CaseNotFound` (404), :class:`InvalidTransition` (409, no such move from the
    current status), :class:`TransitionNotAllowed` (403, the actor's role may not make it), and
    the guards' errors (``reason-required``, ``resolution-required``, ``assignee-required``...).
    """
    case = lock_case(session, case_id=case_id, actor=actor)
    definition = get_workflow(case.case_type)
    rule = definition.rule_for(case.status, to)
    if rule is None:
        raise InvalidTransition("A case in status '{status}' cannot move to '{to}'", status=case.status, to=to)
    if role_of(actor) not in rule.roles:
        raise TransitionNotAllowed("The role '{role}' may not move a case from '{status}' to '{to}'",
                                   role=role_of(actor), status=case.status, to=to)
    reason = (reason or "").strip()
    calendar = calendar or default_calendar()
    _check_guards(session, case, to, rule, now=now, reason=reason, resolution=resolution, assignee_id=assignee_id,
                  target_agency_id=target_agency_id, new_deadline=new_deadline, calendar=calendar)

    from_status = case.status
    event_data = dict(data or {})
    if resolution is not None and resolution.strip():
        case.resolution = resolution.strip()
    if assignee_id is not None and assignee_id != case.assignee_id:
        event_data.update(assignee_from=case.assignee_id, assignee_to=assignee_id)
        case.assignee_id = assignee_id
    _apply_effects(session, case, rule, now=now, target_agency_id=target_agency_id, new_deadline=new_deadline,
                   calendar=calendar, data=event_data)
    case.status = to
    case.updated_at = now
    who, name = actor_id(actor), actor_name(actor)
    session.add(CaseEvent(case_id=case.id, at=now, actor_id=who, actor_name=name, kind="transition",
                          from_status=from_status, to_status=to, reason=reason, data=event_data))
    if "deadline_to" in event_data:
        session.add(CaseEvent(case_id=case.id, at=now, actor_id=who, actor_name=name, kind="deadline-changed",
                              reason=reason, data={k: event_data[k] for k in ("deadline_from", "deadline_to")}))
    session.flush()
    events.case_transitioned(session, case, from_status=from_status, actor_id=who)
    return case
