"""Console pages of dossiers: the list (with overdue-without-apology flags), intake at the counter, a
dossier's page (details, control sheet, timeline, actions), the slip (form 01) and forms 02–05.

Thin handlers over :mod:`saola.egov.dossiers`, the functions the JSON API uses, so visibility and
the checks of every move are the same. A rejected form answers with a 4xx page naming the problem;
the request's transaction is rolled back, so nothing of it is saved.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from saola.cases.storage import filesystem_store
from saola.core.auth.service import Principal
from saola.core.calendar import WorkingCalendar, default_calendar
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.directory.models import Agency
from saola.egov import dossiers as service
from saola.egov import procedures, public, slip
from saola.egov.dossiers_schemas import Status
from saola.egov.errors import DossierNotFound
from saola.egov.files import MAX_FILE_BYTES, Upload
from saola.egov.labels import LABELS, STATUSES
from saola.egov.slip_views import build_slip, slip_pdf_response
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.egov")
register_nav(NavItem("/console/dossiers", "Dossiers", icon="folder", permission="dossiers:read", order=30))

Reader = Annotated[Principal, Depends(require("dossiers:read", page=True))]
Writer = Annotated[Principal, Depends(require("dossiers:write", page=True))]
NOTICES = {"received": "The dossier was received", "moved": "The dossier's status was changed"}


class IntakeForm(BaseModel):
    procedure_id: int = Field(ge=1, le=2_000_000_000)
    applicant_name: str = Field(max_length=200)
    applicant_id_number: str = Field("", max_length=20)
    applicant_phone: str = Field("", max_length=20)
    applicant_email: str = Field("", max_length=200)
    applicant_address: str = Field("", max_length=300)


class MoveForm(BaseModel):
    to: Status
    reason: str = Field("", max_length=2000)
    new_appointment: date | None = None


def _page(request: Request, template: str, context: dict[str, object]) -> Response:
    return render(request, template, {**LABELS, **context})


def uploads_of(files: list[UploadFile] | None) -> list[Upload]:
    """The non-empty uploaded files, each read up to one byte past the limit (so an oversize file is refused)."""
    out = []
    for f in files or []:
        if not f.filename:
            continue
        out.append(Upload(file_name=f.filename, data=f.file.read(MAX_FILE_BYTES + 1)))
    return out


@router.get("/console/dossiers")
def dossiers_page(
    request: Request, session: DbSession, principal: Reader,
    status: Annotated[Status | None, Query()] = None,
    open_only: bool = False,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    now = utcnow()
    rows = service.list_dossiers(session, actor=principal, status=[status] if status else None, open_only=open_only,
                                 limit=100, offset=(page - 1) * 100)
    items = [{"dossier": d, "case": c, "procedure": p, "open_status": service.open_status(c, now),
              "needs_apology": service.needs_apology(d, c, now)} for d, c, p in rows]
    return _page(request, "egov/dossiers.html", {
        "items": items, "status": status or "", "open_only": open_only, "page": page,
        "can_receive": principal.can("dossiers:write") and principal.user.role in service.RECEIVERS,
        "flagged": service.count_needing_apology(session, actor=principal, now=now),
    })


@router.get("/console/dossiers/new")
def new_dossier_page(request: Request, session: DbSession, _: Writer,
                     procedure: Annotated[int | None, Query(ge=1, le=2_000_000_000)] = None) -> Response:
    rows, _total = procedures.list_procedures(session, limit=5000)
    return _page(request, "egov/dossier_new.html", {"procedures": rows, "selected": procedure})


@router.post("/console/dossiers")
def receive_dossier(
    request: Request, session: DbSession, principal: Writer, form: Annotated[IntakeForm, Form()],
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    now = utcnow()
    applicant = service.Applicant(name=form.applicant_name, id_number=form.applicant_id_number,
                                  phone=form.applicant_phone, email=form.applicant_email,
                                  address=form.applicant_address)
    dossier, _case = service.receive(session, procedure_id=form.procedure_id, applicant=applicant, actor=principal,
                                     now=now)
    uploads = uploads_of(files)
    if uploads:
        service.attach_files(session, dossier_id=dossier.id, actor=principal, uploads=uploads,
                             data_dir=request.app.state.settings.data_dir, now=now)
    return RedirectResponse(f"/console/dossiers/{dossier.id}?done=received", status_code=303)


@router.get("/console/dossiers/{dossier_id}")
def dossier_page(
    request: Request, session: DbSession, principal: Reader, dossier_id: int,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    now = utcnow()
    dossier, case = service.get_dossier(session, dossier_id=dossier_id, actor=principal)
    procedure = procedures.get_procedure(session, procedure_id=dossier.procedure_id)
    calendar = default_calendar()
    moves = service.allowed_moves(dossier, case, principal, procedure) if principal.can("dossiers:write") else []
    events = service.timeline(session, case_id=case.id)
    return _page(request, "egov/dossier.html", {
        "dossier": dossier, "case": case, "procedure": procedure, "events": events, "moves": moves,
        "agency": session.get(Agency, case.agency_id), "centre": session.get(Agency, dossier.receiving_agency_id),
        "open_status": service.open_status(case, now, calendar), "needs_apology": service.needs_apology(
            dossier, case, now), "files": service.attachments(session, case_id=case.id),
        "rating": public.rating_of(session, dossier_id=dossier.id), "notice": NOTICES.get(done or ""),
        "status_labels": STATUSES, "form_events": [e for e in events if e.kind == "transition"
                                                   and e.to_status in LABELS["forms"]],
        "suggested_appointment": calendar.add_working_days(
            (dossier.appointment_at or now).astimezone(calendar.tz).date(), 5),
        "steps": _control_sheet(case, procedure.steps, events, calendar),
        "next_step": service.next_step(procedure, dossier) if _may_advance(principal, case) else None,
    })


def _may_advance(principal: Principal, case: Any) -> bool:
    return (principal.can("dossiers:write") and principal.user.role in ("admin", "agency_staff")
            and case.status in ("in_processing", "extended")
            and (principal.sees_all_agencies() or principal.agency_id == case.agency_id))


def _control_sheet(case: Any, steps: list[dict[str, Any]], events: list[Any],
                   calendar: WorkingCalendar) -> list[dict[str, Any]]:
    """Form 06: each step's agency and budget, its deadline counted from the receipt day, and when it was done."""
    done = {e.data.get("step"): e.at for e in events if e.kind == "step"}
    day = calendar.receipt_day(case.received_at)
    out = []
    for number, step in enumerate(steps, start=1):
        day = calendar.add_working_days(day, int(step.get("days", 0)))
        due = datetime.combine(day, calendar.office_hours.close, tzinfo=calendar.tz)
        finished = done.get(number) or (case.closed_at if number == len(steps) else None)
        out.append({**step, "number": number, "due": due, "done_at": finished,
                    "late": finished is not None and finished > due})
    return out


@router.post("/console/dossiers/{dossier_id}/transition")
def move_dossier(session: DbSession, principal: Writer, dossier_id: int, form: Annotated[MoveForm, Form()]) -> Response:
    calendar = default_calendar()
    new = (datetime.combine(form.new_appointment, calendar.office_hours.close, tzinfo=calendar.tz)
           if form.new_appointment else None)
    service.move(session, dossier_id=dossier_id, to=form.to, actor=principal, now=utcnow(), reason=form.reason,
                 new_appointment=new, calendar=calendar)
    return RedirectResponse(f"/console/dossiers/{dossier_id}?done=moved", status_code=303)


@router.post("/console/dossiers/{dossier_id}/next-step")
def pass_to_next_step(session: DbSession, principal: Writer, dossier_id: int,
                      note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    service.advance_step(session, dossier_id=dossier_id, actor=principal, now=utcnow(), note=note)
    return RedirectResponse(f"/console/dossiers/{dossier_id}?done=moved", status_code=303)


@router.get("/console/dossiers/{dossier_id}/slip")
def slip_page(request: Request, session: DbSession, principal: Reader, dossier_id: int) -> Response:
    data = build_slip(request, session, dossier_id=dossier_id, actor=principal)
    return _page(request, "egov/slip.html", {"slip": data, "qr": slip.qr_svg(data.lookup_url),
                                             "time_text": slip.time_text(data), "dossier_id": dossier_id})


@router.get("/console/dossiers/{dossier_id}/slip.pdf")
def slip_pdf(request: Request, session: DbSession, principal: Reader, dossier_id: int) -> Response:
    return slip_pdf_response(request, session, dossier_id=dossier_id, actor=principal)


@router.get("/console/dossiers/{dossier_id}/forms/{event_id}")
def form_page(request: Request, session: DbSession, principal: Reader, dossier_id: int, event_id: int) -> Response:
    """Form 02, 03, 04 or 05 of the circular for the move recorded as event ``event_id``."""
    dossier, case = service.get_dossier(session, dossier_id=dossier_id, actor=principal)
    event = next((e for e in service.timeline(session, case_id=case.id)
                  if e.id == event_id and e.kind == "transition" and e.to_status in LABELS["forms"]), None)
    if event is None:
        raise DossierNotFound("No such form on this dossier")
    procedure = procedures.get_procedure(session, procedure_id=dossier.procedure_id)
    return _page(request, "egov/form.html", {
        "dossier": dossier, "case": case, "procedure": procedure, "event": event,
        "number": LABELS["forms"][event.to_status], "centre": session.get(Agency, dossier.receiving_agency_id),
        "agency": session.get(Agency, case.agency_id),
        "previous": datetime.fromisoformat(event.data["deadline_from"]) if event.data.get("deadline_from") else None,
    })


@router.get("/console/dossiers/{dossier_id}/files/{attachment_id}")
def dossier_file(request: Request, session: DbSession, principal: Reader, dossier_id: int,
                 attachment_id: int) -> Response:
    found = service.get_attachment(session, dossier_id=dossier_id, attachment_id=attachment_id, actor=principal)
    data = filesystem_store(request.app.state.settings.data_dir).get(found.storage_key)
    return Response(data, media_type=found.content_type, headers={
        "Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})

