"""The public side of dossiers: lookup by code (no personal data) and the applicant's rating.

Looking a dossier up needs only its code and shows its progress; rating needs the security code
printed on the slip (form 01) and is accepted once, after the result was returned.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases.models import Case
from saola.core.errors import BadRequest
from saola.egov.errors import DossierNotFound, RatingNotAllowed, WrongPin
from saola.egov.models import Dossier, DossierRating, Procedure

CODE_PATTERN = re.compile(r"[A-Z0-9-]{1,32}")


def _code(code: str) -> str:
    """The code as stored (upper case); anything that cannot be a code is simply not found."""
    wanted = code.strip().upper()
    if not CODE_PATTERN.fullmatch(wanted):
        raise DossierNotFound("No dossier with code '{code}'", code=code.strip()[:32])
    return wanted


@dataclass(frozen=True)
class PublicView:
    """What anyone holding the code may see: no name, no address, no phone — only the dossier's progress."""

    code: str
    procedure_code: str
    procedure_name: str
    procedure_name_en: str
    status: str
    received_at: datetime
    appointment_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    rated: bool


def lookup(session: Session, *, code: str) -> PublicView:
    row = session.execute(select(Dossier, Case, Procedure).join(Case, Case.id == Dossier.case_id)
                          .join(Procedure, Procedure.id == Dossier.procedure_id)
                          .where(Dossier.code == _code(code))).first()
    if row is None:
        raise DossierNotFound("No dossier with code '{code}'", code=code.strip()[:32])
    dossier, case, procedure = row
    rated = session.scalar(select(DossierRating.id).where(DossierRating.dossier_id == dossier.id)) is not None
    return PublicView(code=dossier.code, procedure_code=procedure.code, procedure_name=procedure.name_vi,
                      procedure_name_en=procedure.name_en or procedure.name_vi, status=case.status,
                      received_at=case.received_at, appointment_at=dossier.appointment_at, closed_at=case.closed_at,
                      outcome=case.outcome, rated=rated)


def check_pin(session: Session, *, code: str, pin: str) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.code == _code(code)))
    if dossier is None:
        raise DossierNotFound("No dossier with code '{code}'", code=code.strip()[:32])
    if not hmac.compare_digest(dossier.pin.encode(), pin.strip().upper().encode()):
        raise WrongPin(field="pin")
    return dossier


def rate(session: Session, *, code: str, pin: str, timeliness: int, attitude: int, visits: int, comment: str,
         now: datetime) -> DossierRating:
    """The applicant's rating, once, after the result was returned; ``pin`` is the slip's security code."""
    dossier = check_pin(session, code=code, pin=pin)
    case = session.get(Case, dossier.case_id)
    assert case is not None
    if case.status != "returned":
        raise RatingNotAllowed("The dossier can be rated after its result was returned")
    if session.scalar(select(DossierRating.id).where(DossierRating.dossier_id == dossier.id)) is not None:
        raise RatingNotAllowed("This dossier was already rated")
    for name, value, low, high in (("timeliness", timeliness, 1, 5), ("attitude", attitude, 1, 5),
                                   ("visits", visits, 1, 20)):
        if not low <= value <= high:
            raise BadRequest("'{name}' must be between {low} and {high}", field=name, name=name, low=low, high=high)
    rating = DossierRating(dossier_id=dossier.id, timeliness=timeliness, attitude=attitude, visits=visits,
                           comment=comment.strip()[:2000], created_at=now)
    session.add(rating)
    session.flush()
    return rating


def rating_of(session: Session, *, dossier_id: int) -> DossierRating | None:
    return session.scalar(select(DossierRating).where(DossierRating.dossier_id == dossier_id))
