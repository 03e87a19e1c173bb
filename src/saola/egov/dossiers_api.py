"""JSON API of dossiers: ``/api/v1/dossiers`` (clerk and agency staff tokens), mirroring the console pages.

``GET /api/v1/dossiers/lookup?code=`` is public, like the portal's lookup page: status and
appointment date only, never personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from saola.cases.models import Case
from saola.core.auth.service import Principal
from saola.core.calendar import default_calendar
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.egov import dossiers as service
from saola.egov import procedures, public
from saola.egov.dossiers_schemas import (
    DossierDetail,
    DossierIn,
    DossierOut,
    EventOut,
    PublicDossier,
    Status,
    TransitionIn,
)
from saola.egov.models import Dossier, Procedure
from saola.egov.slip_views import slip_pdf_response

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
Reader = Annotated[Principal, Depends(require("dossiers:read"))]
Writer = Annotated[Principal, Depends(require("dossiers:write"))]


def dossier_out(dossier: Dossier, case: Case, procedure: Procedure, now: datetime) -> DossierOut:
    return DossierOut(
        id=dossier.id, code=dossier.code, procedure_code=procedure.code, procedure_name=procedure.name_vi,
        channel=dossier.channel, status=case.status, agency_id=case.agency_id,
        receiving_agency_id=dossier.receiving_agency_id, applicant_name=dossier.applicant_name,
        applicant_phone=dossier.applicant_phone, received_at=case.received_at, appointment_at=dossier.appointment_at,
        closed_at=case.closed_at, outcome=case.outcome, open_status=service.open_status(case, now),
        apology_at=dossier.apology_at, needs_apology=service.needs_apology(dossier, case, now))


@router.get("/dossiers", response_model=list[DossierOut],
            summary="Dossiers your agency receives or processes, newest first")
def list_dossiers(
    session: DbSession, principal: Reader,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[DossierOut]:
    now = utcnow()
    rows = service.list_dossiers(session, actor=principal, status=status_, open_only=open_only, limit=limit,
                                 offset=offset)
    return [dossier_out(d, c, p, now) for d, c, p in rows]


@router.post("/dossiers", response_model=DossierOut, status_code=status.HTTP_201_CREATED,
             summary="Receive a dossier at the counter (clerks of the receiving centre)")
def receive_dossier(body: DossierIn, session: DbSession, principal: Writer) -> DossierOut:
    procedure = procedures.get_by_code(session, code=body.procedure_code)
    now = utcnow()
    applicant = service.Applicant(name=body.applicant_name, id_number=body.applicant_id_number,
                                  phone=body.applicant_phone, email=body.applicant_email,
                                  address=body.applicant_address)
    dossier, case = service.receive(session, procedure_id=procedure.id, applicant=applicant, actor=principal, now=now)
    return dossier_out(dossier, case, procedure, now)


@router.get("/dossiers/lookup", response_model=PublicDossier,
            summary="Public lookup by dossier code: status and appointment date, no personal data")
def lookup_dossier(session: DbSession, code: Annotated[str, Query(min_length=1, max_length=32)]) -> PublicDossier:
    view = public.lookup(session, code=code)
    return PublicDossier(code=view.code, procedure_code=view.procedure_code, procedure_name=view.procedure_name,
                         status=view.status, received_at=view.received_at, appointment_at=view.appointment_at,
                         closed_at=view.closed_at, outcome=view.outcome)


@router.get("/dossiers/{dossier_id}", response_model=DossierDetail, summary="One dossier with its timeline")
def get_dossier(dossier_id: int, session: DbSession, principal: Reader) -> DossierDetail:
    dossier, case = service.get_dossier(session, dossier_id=dossier_id, actor=principal)
    procedure = procedures.get_procedure(session, procedure_id=dossier.procedure_id)
    out = dossier_out(dossier, case, procedure, utcnow())
    events = [EventOut.model_validate(e) for e in service.timeline(session, case_id=case.id)]
    return DossierDetail(**out.model_dump(), timeline=events)


@router.post("/dossiers/{dossier_id}/transitions", response_model=DossierOut,
             summary="Move the dossier (hand over, supplement, extend, result ready, return, refuse, stop)",
             responses={403: {"description": "`transition-not-allowed` (role) or `wrong-agency`"},
                        409: {"description": "`invalid-transition`, `transition-repeated`, `extension-too-late`"}})
def transition_dossier(dossier_id: int, body: TransitionIn, session: DbSession, principal: Writer) -> DossierOut:
    calendar = default_calendar()
    new = (datetime.combine(body.new_appointment, calendar.office_hours.close, tzinfo=calendar.tz)
           if body.new_appointment else None)
    now = utcnow()
    dossier, case = service.move(session, dossier_id=dossier_id, to=body.to, actor=principal, now=now,
                                 reason=body.reason, new_appointment=new, calendar=calendar)
    procedure = procedures.get_procedure(session, procedure_id=dossier.procedure_id)
    return dossier_out(dossier, case, procedure, now)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)


@router.post("/dossiers/{dossier_id}/next-step", response_model=DossierOut,
             summary="The processing agency finished its step: pass the dossier to the next step's agency",
             responses={409: {"description": "`no-next-step`: last step (mark the result ready) or not in processing"}})
def next_step(dossier_id: int, body: StepIn, session: DbSession, principal: Writer) -> DossierOut:
    now = utcnow()
    dossier, case = service.advance_step(session, dossier_id=dossier_id, actor=principal, now=now, note=body.note)
    procedure = procedures.get_procedure(session, procedure_id=dossier.procedure_id)
    return dossier_out(dossier, case, procedure, now)


@router.get("/dossiers/{dossier_id}/slip.pdf", summary="The receipt-and-appointment slip (form 01) as PDF",
            responses={200: {"content": {"application/pdf": {}}}})
def slip_pdf(dossier_id: int, request: Request, session: DbSession, principal: Reader) -> Response:
    return slip_pdf_response(request, session, dossier_id=dossier_id, actor=principal)
