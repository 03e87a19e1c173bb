"""Reassignment: staff handling a report give it to another agency with a reason (``POST …/{id}/reassign``).

The workflow's ``forwarded`` move already is a reassignment (reason required, the target agency
becomes the owner, the assignee is cleared), so this is that move with the agency named by its
code and the rules around it: only staff who handle the report (``feedback:write`` in the owning
agency, or every agency) may do it; a report the new owner had not taken yet (``forwarded``) is
first taken back (``forwarded → triaged``) so it can be passed on; a person who sees every agency
(the hotline centre) also marks it ``triaged`` for the new agency, as triage does. Every move goes
through :func:`saola.cases.engine.transition` (roles, guards, lock, history with the reason), and
the reassignment is written to the audit log with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.core.audit import service as audit
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.directory.models import Agency
from saola.core.errors import ValidationFailed
from saola.feedback import reports
from saola.feedback.errors import ReassignNotAllowed
from saola.feedback.reports import Report

AWAITING_OWNER = "forwarded"


def _target(session: Session, *, agency_code: str | None, agency_id: int | None) -> Agency:
    stmt = select(Agency).where(Agency.code == agency_code) if agency_code else select(Agency).where(
        Agency.id == agency_id)
    agency = session.scalar(stmt)
    if agency is None or not agency.active:
        field = "agency_code" if agency_code else "agency_id"
        raise ValidationFailed([{"field": field, "message": "no active agency has this code or id"}],
                               "No active agency has this code or id")
    return agency


def reassign(session: Session, *, case_id: int, actor: Principal, reason: str, now: datetime,
             agency_code: str | None = None, agency_id: int | None = None) -> Report:
    """Give report ``case_id`` to another agency; the reason is kept in the history and the audit log."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationFailed([{"field": "reason", "message": "say why the report goes to another agency"}],
                               "A reason is required")
    item = reports.get_for_staff(session, case_id=case_id, actor=actor)  # another agency's report: not found
    agency = _target(session, agency_code=agency_code, agency_id=agency_id)
    previous = item.case.agency_id
    if agency.id == previous:
        raise ReassignNotAllowed("The report is already handled by {agency}", field="agency_code",
                                 agency=agency.code)
    if item.case.status == AWAITING_OWNER:
        cases.transition(session, case_id=case_id, to="triaged", actor=actor, now=now, reason=reason)
    cases.transition(session, case_id=case_id, to="forwarded", actor=actor, now=now, reason=reason,
                     target_agency_id=agency.id, data={"reassigned": True})
    if actor.sees_all_agencies():
        cases.transition(session, case_id=case_id, to="triaged", actor=actor, now=now, reason=reason)
    audit.record(session, action="reassign", object_type="cases", object_id=str(case_id),
                 before={"agency_id": previous}, after={"agency_id": agency.id, "reason": reason},
                 agency_id=agency.id)
    session.flush()
    item.agency = agency
    return item


# --- API -------------------------------------------------------------------------------------

router = APIRouter(prefix="/api/v1/reports", tags=["feedback"])


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = None
    agency_id: int | None = Field(None, ge=1, le=2**31 - 1)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]

    @model_validator(mode="after")
    def _one_agency(self) -> ReassignIn:
        if (self.agency_code is None) == (self.agency_id is None):
            raise ValueError("give the agency as agency_code or agency_id (one of them)")
        return self


class ReassignOut(BaseModel):
    tracking_code: str
    status: str
    agency_code: str
    agency_name: str
    reason: str


@router.post("/{case_id}/reassign", response_model=ReassignOut,
             summary="Staff: give a report to another agency, with a reason (through the case engine)",
             responses={409: {"description": "Code `reassign-not-allowed` or `invalid-transition`"},
                        422: {"description": "No reason, or no active agency with that code or id"}})
def reassign_report(case_id: int, body: ReassignIn, session: DbSession,
                    principal: Annotated[Principal, Depends(require("feedback:write"))]) -> ReassignOut:
    item = reassign(session, case_id=case_id, actor=principal, reason=body.reason, now=utcnow(),
                    agency_code=body.agency_code, agency_id=body.agency_id)
    return ReassignOut(tracking_code=item.case.code, status=item.case.status, agency_code=item.agency.code,
                       agency_name=item.agency.name, reason=" ".join(body.reason.split()))
