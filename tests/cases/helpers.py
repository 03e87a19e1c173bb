"""Helpers of the case-engine tests: a case put straight into a status, and what was saved about it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.cases import service
from saola.cases.actors import SYSTEM
from saola.cases.deadlines import DeadlineRule
from saola.cases.models import Case, CaseEvent
from tests.cases.conftest import NOW


def new_case(db: Session, case_type: str, agency_id: int, *, status: str | None = None, days: int = 10,
             **kw: Any) -> Case:
    """A case opened by the system, then put directly into ``status`` (bypassing the workflow)."""
    case = service.open_case(db, case_type=case_type, title="Đèn đường hỏng", agency_id=agency_id, actor=SYSTEM,
                             now=NOW, deadline_rule=DeadlineRule(working_days=days), **kw)
    if status is not None:
        case.status = status
        if status == "supplement_requested":
            case.paused_at = NOW
        db.flush()
    return case


def saved(db: Session, case_id: int) -> tuple[str, int]:
    """The case's status as stored and the length of its history."""
    status = db.scalar(select(Case.status).where(Case.id == case_id))
    count = db.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
    return status, count
