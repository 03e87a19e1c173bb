"""Events the case engine publishes after commit (through :func:`saola.core.db.queue_event`).

Payloads carry ids and codes only, never personal data: a subscriber that needs more reads the
case through the service.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from saola.cases.models import Case
from saola.core.db import queue_event

CASE_CREATED = "case.created"
CASE_TRANSITIONED = "case.transitioned"
CASE_ASSIGNED = "case.assigned"
CASE_NOTE_ADDED = "case.note_added"


def _base(case: Case) -> dict[str, Any]:
    return {"case_id": case.id, "code": case.code, "case_type": case.case_type, "agency_id": case.agency_id,
            "status": case.status}


def case_created(session: Session, case: Case) -> None:
    queue_event(session, CASE_CREATED, _base(case))


def case_transitioned(session: Session, case: Case, *, from_status: str, actor_id: int | None) -> None:
    queue_event(session, CASE_TRANSITIONED, _base(case) | {"from_status": from_status, "to_status": case.status,
                                                           "actor_id": actor_id})


def case_assigned(session: Session, case: Case, *, actor_id: int | None) -> None:
    queue_event(session, CASE_ASSIGNED, _base(case) | {"assignee_id": case.assignee_id, "actor_id": actor_id})


def case_note_added(session: Session, case: Case, *, note_id: int, public: bool) -> None:
    queue_event(session, CASE_NOTE_ADDED, _base(case) | {"note_id": note_id, "public": public})
