"""The reporter's rating of the answer: satisfied or not, and why, within 14 days of the resolution.

Proof that the rater is the reporter: the tracking code plus either the report's secret (the
``token`` shown once on the confirmation page and returned to apps and Open311 clients on
submission) or the phone number or e-mail address the reporter gave. The tracking code alone is
public and is never enough. Citizens rate on the public lookup page (no sign-in); apps rate
through ``POST /api/v1/reports/track/{code}/rating`` with their ``feedback:submit`` token.
Both answers go through the case engine as the channel (:data:`~saola.cases.actors.SYSTEM`):
*satisfied* closes the case, *not satisfied* reopens it for review (``resolved → reopened``,
reason required). The rating is kept in that transition's history event (``data.rating``), so
no table of its own is needed. A report can be rated only while it is ``resolved``: after a
rating it has moved on, and a new resolution opens a new window.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.actors import SYSTEM
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import Conflict, DomainError, ValidationFailed
from saola.feedback import reports
from saola.feedback.models import FeedbackReporter
from saola.feedback.reports import redact

RATING_DAYS = 14
MAX_REASON = 2000


class RatingNotOpen(Conflict):
    code = "rating-not-open"
    title = "This report cannot be rated now"


class RatingWindowClosed(Conflict):
    code = "rating-window-closed"
    title = "The time to rate this answer has passed"


class RatingProofInvalid(DomainError):
    code = "rating-proof-invalid"
    status = 403
    title = "Only the person who filed the report can rate it"


@dataclass
class Rating:
    """A rating found in the history of a case."""

    satisfied: bool
    reason: str
    at: datetime


def _digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "0" + digits[2:] if digits.startswith("84") else digits  # +84 912… and 0912… are one number


def _proven(item: reports.Report, reporter: FeedbackReporter | None, proof: str) -> bool:
    proof = proof.strip()
    if not proof:
        return False
    if hmac.compare_digest(proof.encode(), item.report.token.encode()):
        return True
    if reporter is None:
        return False
    if reporter.email and "@" in proof and hmac.compare_digest(proof.lower().encode(), reporter.email.lower().encode()):
        return True
    phone = _digits(proof)
    return bool(reporter.phone) and len(phone) >= 9 and hmac.compare_digest(phone.encode(),
                                                                            _digits(reporter.phone).encode())


def can_rate(item: reports.Report, now: datetime) -> bool:
    """Whether the report is resolved and its 14 days to rate are running."""
    resolved_at = item.case.closed_at
    return item.case.status == "resolved" and resolved_at is not None and now <= resolved_at + timedelta(
        days=RATING_DAYS)


def rate(session: Session, *, tracking_code: str, proof: str, satisfied: bool, reason: str, now: datetime) -> Rating:
    """Record the reporter's rating; *not satisfied* reopens the case for review. Nothing changes on an error."""
    item = reports.get_public(session, tracking_code=tracking_code)
    reporter = session.scalar(select(FeedbackReporter).where(FeedbackReporter.report_id == item.report.id))
    if not _proven(item, reporter, proof):
        raise RatingProofInvalid("Give the secret from your confirmation, or the phone number or e-mail address "
                                 "you gave with the report", field="proof")
    if item.case.status != "resolved":
        raise RatingNotOpen("Only a resolved report can be rated (this one is '{status}')", status=item.case.status)
    if not can_rate(item, now):
        raise RatingWindowClosed("An answer can be rated within {days} days of the resolution", days=RATING_DAYS)
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise ValidationFailed([{"field": "reason", "message": f"at most {MAX_REASON} characters"}])
    if not satisfied and not reason:
        raise ValidationFailed([{"field": "reason", "message": "say why you are not satisfied"}],
                               "Say why you are not satisfied")
    data = {"rating": "satisfied" if satisfied else "not_satisfied", "rating_reason": reason}
    if satisfied:
        cases.transition(session, case_id=item.case.id, to="closed", actor=SYSTEM, now=now, data=data,
                         reason="The reporter is satisfied with the answer" + (f": {reason}" if reason else ""))
    else:
        cases.transition(session, case_id=item.case.id, to="reopened", actor=SYSTEM, now=now, data=data,
                         reason=f"The reporter is not satisfied: {reason}")
    return Rating(satisfied=satisfied, reason=reason, at=now)


def ratings(session: Session, *, case_id: int) -> list[Rating]:
    """The reporter's ratings of a case, oldest first (from its history), phone numbers and e-mails hidden."""
    return [Rating(satisfied=e.data["rating"] == "satisfied", reason=redact(str(e.data.get("rating_reason", ""))),
                   at=e.at)
            for e in cases.history(session, case_id=case_id, actor=SYSTEM)
            if e.kind == "transition" and isinstance(e.data, dict) and e.data.get("rating")]


# --- API -------------------------------------------------------------------------------------

router = APIRouter(prefix="/api/v1/reports", tags=["feedback"])
Submitter = Annotated[Principal, Depends(require("feedback:submit"))]


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proof: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The report's secret (`token` of the submission receipt), or the phone or e-mail given with it")
    satisfied: bool
    reason: Annotated[str, StringConstraints(max_length=MAX_REASON)] = Field(
        "", description="Why; required when not satisfied")


class RatingOut(BaseModel):
    tracking_code: str
    satisfied: bool
    status: str
    rated_at: datetime


@router.post("/track/{tracking_code}/rating", response_model=RatingOut, status_code=201,
             summary="The reporter rates the answer through an app (the app's token, the reporter's proof); "
             "not satisfied reopens the report",
             responses={403: {"description": "Code `rating-proof-invalid`"},
                        409: {"description": "Codes `rating-not-open`, `rating-window-closed`"}})
def rate_report(tracking_code: Annotated[str, StringConstraints(max_length=40)], body: RatingIn,
                session: DbSession, _: Submitter) -> RatingOut:
    now = utcnow()
    result = rate(session, tracking_code=tracking_code, proof=body.proof, satisfied=body.satisfied,
                  reason=body.reason, now=now)
    item = reports.get_public(session, tracking_code=tracking_code)
    return RatingOut(tracking_code=item.case.code, satisfied=result.satisfied, status=item.case.status,
                     rated_at=result.at)
