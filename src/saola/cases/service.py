"""Use cases of the case engine: open, read, list, assign, annotate, attach and move cases.

Every function takes the session first and keyword arguments after, and none commits (the
request's unit of work does). ``actor`` is a :class:`~saola.core.auth.service.Principal` or
:data:`~saola.cases.actors.SYSTEM`; a user sees only their own agency's cases unless they hold
``agencies:all``, and another agency's case is "not found".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases import events
from saola.cases.actors import actor_id, actor_name, role_of
from saola.cases.codes import next_code
from saola.cases.deadlines import DeadlineRule, compute_deadline
from saola.cases.engine import check_assignee, lock_case, transition
from saola.cases.errors import CaseNotFound, InvalidTransition
from saola.cases.models import Case, CaseAttachment, CaseEvent, CaseNote
from saola.cases.storage import FileStore
from saola.cases.workflow import get_workflow
from saola.core.calendar import WorkingCalendar, default_calendar
from saola.core.directory.models import Agency
from saola.core.errors import BadRequest, PermissionDenied
from saola.core.scoping import ensure_agency_write, scope_to_agency

__all__ = ["add_attachment", "add_note", "assign", "get_case", "history", "list_cases", "open_case", "transition"]

CREATORS = frozenset({"admin", "operator", "agency_staff", "clerk", "system"})
WRITERS = CREATORS  # viewers only read


def _require_writer(actor: Any) -> None:
    if role_of(actor) not in WRITERS:
        raise PermissionDenied("Your role may not change cases")


def _event(case: Case, actor: Any, now: datetime, kind: str, *, reason: str = "", **data: Any) -> CaseEvent:
    return CaseEvent(case_id=case.id, at=now, actor_id=actor_id(actor), actor_name=actor_name(actor), kind=kind,
                     reason=reason, data=data)


def open_case(session: Session, *, case_type: str, title: str, agency_id: int, actor: Any, now: datetime,
              deadline_rule: DeadlineRule | None = None, metadata: dict[str, Any] | None = None,
              description: str = "", priority: str = "normal", calendar: WorkingCalendar | None = None) -> Case:
    """A new case of workflow ``case_type`` in its initial status, with its code and deadline."""
    definition = get_workflow(case_type)
    if role_of(actor) not in CREATORS:
        raise PermissionDenied("Your role may not open cases")
    ensure_agency_write(actor, agency_id)
    if session.get(Agency, agency_id) is None:
        raise BadRequest("No agency with id {agency_id}", field="agency_id", agency_id=agency_id)
    title = title.strip()
    if not title:
        raise BadRequest("The title is empty", field="title")
    calendar = calendar or default_calendar()
    year = now.astimezone(calendar.tz).year
    case = Case(
        case_type=case_type, code=next_code(session, prefix=definition.code_prefix, year=year), title=title,
        description=description, agency_id=agency_id, status=definition.initial, priority=priority, received_at=now,
        deadline_at=compute_deadline(deadline_rule, now, calendar) if deadline_rule else None,
        meta=dict(metadata or {}), created_at=now, updated_at=now,
    )
    session.add(case)
    session.flush()
    session.add(_event(case, actor, now, "created", status=case.status, deadline_at=(
        case.deadline_at.isoformat() if case.deadline_at else None)))
    session.flush()
    events.case_created(session, case)
    return case


def get_case(session: Session, *, case_id: int, actor: Any) -> Case:
    """The case, or :class:`CaseNotFound` when it does not exist or belongs to an agency the actor cannot see."""
    case = session.get(Case, case_id)
    if case is None or not (actor.sees_all_agencies() or case.agency_id == actor.agency_id):
        raise CaseNotFound("No case with id {case_id}", case_id=case_id)
    return case


def list_cases(session: Session, *, actor: Any, case_type: str | None = None, status: Sequence[str] | None = None,
               agency_id: int | None = None, assignee_id: int | None = None, open_only: bool = False,
               limit: int = 50, offset: int = 0) -> list[Case]:
    """Cases the actor may see, newest first, filtered by the arguments given."""
    stmt = scope_to_agency(select(Case), Case.agency_id, actor)
    if case_type is not None:
        stmt = stmt.where(Case.case_type == case_type)
    if status:
        stmt = stmt.where(Case.status.in_(list(status)))
    if agency_id is not None:
        stmt = stmt.where(Case.agency_id == agency_id)
    if assignee_id is not None:
        stmt = stmt.where(Case.assignee_id == assignee_id)
    if open_only:
        stmt = stmt.where(Case.closed_at.is_(None))
    stmt = stmt.order_by(Case.received_at.desc(), Case.id.desc()).limit(min(max(limit, 1), 500)).offset(max(offset, 0))
    return list(session.scalars(stmt))


def history(session: Session, *, case_id: int, actor: Any) -> list[CaseEvent]:
    """The case's events, oldest first."""
    get_case(session, case_id=case_id, actor=actor)
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)
    return list(session.scalars(stmt))


def assign(session: Session, *, case_id: int, assignee_id: int | None, actor: Any, now: datetime,
           reason: str | None = None) -> Case:
    """Give the case to a user of its owner agency (or to nobody) without changing its status."""
    _require_writer(actor)
    case = lock_case(session, case_id=case_id, actor=actor)
    if case.status in get_workflow(case.case_type).terminal:
        raise InvalidTransition("A case in status '{status}' cannot be assigned", status=case.status)
    if assignee_id is not None:
        check_assignee(session, case, assignee_id)
    previous, case.assignee_id, case.updated_at = case.assignee_id, assignee_id, now
    session.add(_event(case, actor, now, "assigned", reason=(reason or "").strip(), assignee_from=previous,
                       assignee_to=assignee_id))
    session.flush()
    events.case_assigned(session, case, actor_id=actor_id(actor))
    return case


def add_note(session: Session, *, case_id: int, actor: Any, text: str, public: bool, now: datetime) -> CaseNote:
    """An internal note (staff only) or, with ``public``, a reply the citizen sees."""
    _require_writer(actor)
    case = get_case(session, case_id=case_id, actor=actor)
    text = text.strip()
    if not text:
        raise BadRequest("The note is empty", field="text")
    note = CaseNote(case_id=case.id, author_id=actor_id(actor), author_name=actor_name(actor), public=public,
                    text=text, created_at=now)
    session.add(note)
    session.flush()
    session.add(_event(case, actor, now, "note", note_id=note.id, public=public))
    session.flush()
    events.case_note_added(session, case, note_id=note.id, public=public)
    return note


def notes(session: Session, *, case_id: int, actor: Any, public_only: bool = False) -> list[CaseNote]:
    get_case(session, case_id=case_id, actor=actor)
    stmt = select(CaseNote).where(CaseNote.case_id == case_id)
    if public_only:
        stmt = stmt.where(CaseNote.public.is_(True))
    return list(session.scalars(stmt.order_by(CaseNote.created_at, CaseNote.id)))


def add_attachment(session: Session, *, case_id: int, actor: Any, file_name: str, content_type: str, data: bytes,
                   store: FileStore, now: datetime, public: bool = False) -> CaseAttachment:
    """Store ``data`` in ``store`` and record its metadata on the case."""
    _require_writer(actor)
    case = get_case(session, case_id=case_id, actor=actor)
    name = file_name.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    if not name:
        raise BadRequest("The file name is empty", field="file_name")
    key = store.put(data)
    attachment = CaseAttachment(case_id=case.id, file_name=name, content_type=content_type[:120] or
                                "application/octet-stream", size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                storage_key=key, public=public, uploaded_by=actor_id(actor), created_at=now)
    session.add(attachment)
    session.flush()
    session.add(_event(case, actor, now, "attachment", attachment_id=attachment.id, file_name=name))
    session.flush()
    return attachment
