"""Reminders before the deadline and escalations after it, delivered to staff by e-mail.

:func:`send_reminders` loads every running case with a deadline (1022 reports, dossiers, any
case type: not finished, not paused), asks the pure calculators of :mod:`saola.cases.deadlines`
what is due, and for each reminder or escalation queues e-mails in the messaging outbox
(template :data:`saola.core.messaging.staff_notices.TEMPLATE`) and records a history event of
the case in the same transaction: kind ``reminder`` (``data.kind`` = ``due_soon`` | ``overdue``)
or ``escalation`` (``data.level``, ``data.target``), with ``data.deadline_at`` and the number of
``data.recipients``. Those events are what "already sent" is read from, so a notice is never
sent twice, across restarts and worker processes; a notice counts for the deadline it was sent
for, so a case whose deadline moves (extension, resumed after a pause) is reminded again for
the new one. History events never change the case's status.

Who is told (the roles are :mod:`saola.core.auth.permissions`'s; Saola has no "head of agency"
or "leader" role, so the owning agency's own contact points and the IOC stand in for them):

* a ``due_soon`` or ``overdue`` reminder: the case's assignee, or without one (or an inactive
  one) the agency's **handlers**: active users of the owning agency whose role may move cases of
  that type (``feedback:write`` for reports, ``dossiers:write`` for dossiers) and who are not
  cross-agency roles (``agencies:all``: admins, IOC operators);
* escalation ``agency_head``: the owning agency's official address (``Agency.email``) and its
  on-duty contacts of the duty roster (``AgencyContact.on_duty``) with an e-mail address; when it
  has none, its handlers;
* escalation ``leadership``: the IOC operators (role ``operator``, who watch every agency), or
  the administrators when no operator has an e-mail address.

A user without an e-mail address is skipped and counted (``skipped``). Messages are in the user's
language (Vietnamese unless they chose English; contacts get Vietnamese) and link to the case's
console page under ``public_url``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases.deadlines import (
    DEFAULT_ESCALATIONS,
    EscalationLevel,
    escalations_due,
    reminders_due,
    working_time_between,
)
from saola.cases.models import Case, CaseEvent
from saola.core.auth.models import User
from saola.core.auth.permissions import permissions_for
from saola.core.calendar import WorkingCalendar
from saola.core.directory.models import Agency, AgencyContact
from saola.core.i18n import LANGUAGES
from saola.core.messaging import staff_notices
from saola.core.messaging.outbox import enqueue
from saola.core.settings import Settings

log = logging.getLogger(__name__)

REMINDER, ESCALATION = "reminder", "escalation"
HORIZON = timedelta(days=31)  # a deadline further away cannot be within one working day, even across Tết
HANDLER_PERMISSION = {"feedback_report": "feedback:write", "admin_dossier": "dossiers:write"}
HANDLER_PERMISSIONS = frozenset(HANDLER_PERMISSION.values())  # another case type: a role that may move either
LEADERSHIP_ROLES = ("operator",)
FALLBACK_LEADERSHIP_ROLES = ("admin",)


@dataclass(frozen=True)
class ReminderRun:
    """What one run sent: notices (one per case and kind or level), e-mails queued, recipients skipped."""

    reminders: int = 0
    escalations: int = 0
    messages: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Recipient:
    email: str
    lang: str


def _running_cases(session: Session, now: datetime) -> list[Case]:
    stmt = (select(Case).where(Case.closed_at.is_(None), Case.paused_at.is_(None), Case.deadline_at.is_not(None),
                               Case.deadline_at <= now + HORIZON)
            .order_by(Case.deadline_at, Case.id).with_for_update(skip_locked=True, of=Case))
    return list(session.scalars(stmt))


def _already_sent(session: Session, cases: Sequence[Case]) -> tuple[frozenset[tuple[int, str]],
                                                                     frozenset[tuple[int, str]]]:
    """(case id, reminder kind) and (case id, escalation level) pairs sent for the cases' current deadlines."""
    deadlines = {c.id: c.deadline_at for c in cases}
    reminders: set[tuple[int, str]] = set()
    escalations: set[tuple[int, str]] = set()
    if not deadlines:
        return frozenset(), frozenset()
    stmt = select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.data).where(
        CaseEvent.case_id.in_(list(deadlines)), CaseEvent.kind.in_((REMINDER, ESCALATION)))
    for case_id, kind, data in session.execute(stmt):
        data = data or {}
        try:
            sent_for = datetime.fromisoformat(str(data.get("deadline_at")))
        except ValueError:
            continue
        if sent_for != deadlines[case_id]:
            continue  # sent for an earlier deadline
        if kind == REMINDER:
            reminders.add((case_id, str(data.get("kind"))))
        else:
            escalations.add((case_id, str(data.get("level"))))
    return frozenset(reminders), frozenset(escalations)


def _user_recipients(users: Sequence[User], default_language: str) -> tuple[list[Recipient], int]:
    out, skipped = [], 0
    for user in users:
        email = (user.email or "").strip()
        if not email:
            skipped += 1
            continue
        lang = user.language if user.language in LANGUAGES else default_language
        out.append(Recipient(email, lang or "vi"))
    return out, skipped


def _handlers(session: Session, case: Case) -> list[User]:
    wanted = ({HANDLER_PERMISSION[case.case_type]} if case.case_type in HANDLER_PERMISSION
              else set(HANDLER_PERMISSIONS))
    users = session.scalars(select(User).where(User.agency_id == case.agency_id, User.active.is_(True))
                            .order_by(User.id))
    return [u for u in users if wanted & permissions_for(u.role) and "agencies:all" not in permissions_for(u.role)]


def _reminder_users(session: Session, case: Case) -> list[User]:
    if case.assignee_id is not None:
        assignee = session.get(User, case.assignee_id)
        if assignee is not None and assignee.active:
            return [assignee]
    return _handlers(session, case)


def _agency_head(session: Session, case: Case, default_language: str) -> tuple[list[Recipient], int]:
    agency = session.get(Agency, case.agency_id)
    addresses = [agency.email.strip()] if agency is not None and agency.email.strip() else []
    addresses += [e.strip() for e in session.scalars(
        select(AgencyContact.email).where(AgencyContact.agency_id == case.agency_id, AgencyContact.on_duty.is_(True))
        .order_by(AgencyContact.id)) if e and e.strip()]
    if addresses:
        return [Recipient(a, "vi") for a in dict.fromkeys(addresses)], 0
    return _user_recipients(_handlers(session, case), default_language)


def _leadership(session: Session, default_language: str) -> tuple[list[Recipient], int]:
    for roles in (LEADERSHIP_ROLES, FALLBACK_LEADERSHIP_ROLES):
        users = list(session.scalars(select(User).where(User.role.in_(roles), User.active.is_(True))
                                     .order_by(User.id)))
        found, skipped = _user_recipients(users, default_language)
        if found:
            return found, skipped
    return [], 0


def console_path(session: Session, case: Case) -> str:
    """The staff console page of a case (a dossier's page is named by the dossier's own id)."""
    if case.case_type == "admin_dossier":
        from saola.egov.models import Dossier  # the one-stop shop's table; imported late (it sits above cases)

        dossier_id = session.scalar(select(Dossier.id).where(Dossier.case_id == case.id))
        if dossier_id is not None:
            return f"/console/dossiers/{dossier_id}"
    if case.case_type == "feedback_report":
        return f"/console/feedback/reports/{case.id}"
    return "/console"  # a case type without a console page of its own


def _notify(session: Session, case: Case, recipients: Sequence[Recipient], data: dict[str, Any],
            settings: Settings) -> int:
    for recipient in recipients:
        subject, body = staff_notices.render(data, recipient.lang, settings.public_url, settings.timezone)
        enqueue(session, channel="email", recipient=recipient.email, subject=subject, body=body, lang=recipient.lang,
                source=f"case-staff:{case.id}", data=data)  # due at once (``now`` may be a test's clock)
    return len(recipients)


def _record(session: Session, case: Case, now: datetime, event_kind: str, **data: Any) -> None:
    """A history event of the engine (by the system): never a status change."""
    session.add(CaseEvent(case_id=case.id, at=now, actor_id=None, actor_name="system", kind=event_kind, data=data))


def send_reminders(session: Session, *, now: datetime, calendar: WorkingCalendar, settings: Settings,
                   due_soon: timedelta | None = None,
                   levels: Sequence[EscalationLevel] = DEFAULT_ESCALATIONS) -> ReminderRun:
    """Queue the reminders and escalations due at ``now`` and record them in the cases' histories (no commit)."""
    cases = _running_cases(session, now)
    by_id = {c.id: c for c in cases}
    sent_reminders, sent_escalations = _already_sent(session, cases)
    agencies: dict[int, str] = {}
    reminders = escalations = messages = skipped = 0

    def base(case: Case, notice: str) -> dict[str, Any]:
        assert case.deadline_at is not None
        if case.agency_id not in agencies:
            agency = session.get(Agency, case.agency_id)
            agencies[case.agency_id] = agency.name if agency is not None else ""
        overdue = working_time_between(calendar, case.deadline_at, now) if now > case.deadline_at else timedelta()
        return {"template": staff_notices.TEMPLATE, "notice": notice, "case_id": case.id, "case_type": case.case_type,
                "code": case.code, "title": case.title, "agency": agencies[case.agency_id],
                "deadline_at": case.deadline_at.isoformat(), "overdue_hours": round(overdue.total_seconds() / 3600, 1),
                "path": console_path(session, case)}

    for reminder in reminders_due(cases, now, calendar, due_soon=due_soon, already_sent=sent_reminders):
        case = by_id[reminder.case_id]
        recipients, missing = _user_recipients(_reminder_users(session, case), settings.default_language)
        messages += _notify(session, case, recipients, base(case, reminder.kind), settings)
        skipped += missing
        _record(session, case, now, REMINDER, kind=reminder.kind, deadline_at=reminder.deadline_at.isoformat(),
                recipients=len(recipients))
        reminders += 1
    for escalation in escalations_due(cases, now, calendar, levels=levels, already_sent=sent_escalations):
        case = by_id[escalation.case_id]
        if escalation.target == "leadership":
            recipients, missing = _leadership(session, settings.default_language)
        else:
            recipients, missing = _agency_head(session, case, settings.default_language)
        data = base(case, "escalation") | {"level": escalation.level}
        messages += _notify(session, case, recipients, data, settings)
        skipped += missing
        assert case.deadline_at is not None
        _record(session, case, now, ESCALATION, level=escalation.level, target=escalation.target,
                deadline_at=case.deadline_at.isoformat(), recipients=len(recipients),
                overdue_hours=data["overdue_hours"])
        escalations += 1
    session.flush()
    if reminders or escalations:
        log.info("case reminders queued", extra={"reminders": reminders, "escalations": escalations,
                                                  "messages": messages, "skipped": skipped})
    return ReminderRun(reminders=reminders, escalations=escalations, messages=messages, skipped=skipped)
