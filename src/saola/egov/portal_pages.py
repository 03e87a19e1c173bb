"""Public portal pages of the one-stop shop: the procedures catalogue, online submission with files,
dossier lookup by code (or the slip's QR link) and the satisfaction rating after the result is returned.

Anonymous pages: forms carry the CSRF token like every other form. The lookup shows no personal
data; rating needs the security code printed on the slip (or carried by its QR link).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from saola.cases.actors import SYSTEM
from saola.core.db import utcnow
from saola.core.deps import DbSession, verify_csrf
from saola.core.errors import DomainError
from saola.egov import dossiers as service
from saola.egov import procedures, public, slip
from saola.egov.dossiers_pages import uploads_of
from saola.egov.errors import ProcedureNotFound
from saola.egov.labels import LABELS
from saola.web.templating import NavItem, form_error, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.egov")
register_nav(NavItem("/portal/procedures", "Administrative procedures", icon="folder", area="portal", order=20))
register_nav(NavItem("/portal/dossiers/lookup", "Look up a dossier", icon="search", area="portal", order=21))
PAGE_SIZE = 30


class OnlineForm(BaseModel):
    procedure_code: str = Field(max_length=30)
    applicant_name: str = Field(max_length=200)
    applicant_id_number: str = Field("", max_length=20)
    applicant_phone: str = Field("", max_length=20)
    applicant_email: str = Field("", max_length=200)
    applicant_address: str = Field("", max_length=300)


class RatingForm(BaseModel):
    code: str = Field(max_length=32)
    pin: str = Field(max_length=12)
    timeliness: int = Field(ge=1, le=5)
    attitude: int = Field(ge=1, le=5)
    visits: int = Field(ge=1, le=20)
    comment: str = Field("", max_length=2000)


def _page(request: Request, template: str, context: dict[str, object], status_code: int = 200) -> Response:
    return render(request, template, {**LABELS, **context}, status_code=status_code)


@router.get("/portal/procedures")
def procedures_page(
    request: Request, session: DbSession,
    q: Annotated[str | None, Query(max_length=100)] = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    rows, total = procedures.list_procedures(session, q=q, level=level or None, limit=PAGE_SIZE,
                                             offset=(page - 1) * PAGE_SIZE)
    return _page(request, "egov/portal_procedures.html", {
        "procedures": rows, "total": total, "q": q or "", "level": level or "", "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    })


@router.get("/portal/procedures/{code}")
def procedure_page(request: Request, session: DbSession, code: str) -> Response:
    return _page(request, "egov/portal_procedure.html", {"procedure": procedures.get_by_code(session, code=code)})


@router.post("/portal/dossiers", dependencies=[Depends(verify_csrf)])
def submit_online(
    request: Request, session: DbSession, form: Annotated[OnlineForm, Form()],
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    procedure = procedures.get_by_code(session, code=form.procedure_code)
    if procedure.online_level == "none":
        raise ProcedureNotFound("The procedure '{code}' cannot be submitted online", code=procedure.code)
    now = utcnow()
    applicant = service.Applicant(name=form.applicant_name, id_number=form.applicant_id_number,
                                  phone=form.applicant_phone, email=form.applicant_email,
                                  address=form.applicant_address)
    uploads = uploads_of(files)
    dossier, case = service.receive(session, procedure_id=procedure.id, applicant=applicant, actor=SYSTEM, now=now,
                                    channel="online")
    if uploads:
        service.attach_files(session, dossier_id=dossier.id, actor=SYSTEM, uploads=uploads,
                             data_dir=request.app.state.settings.data_dir, now=now)
    url = str(request.base_url).rstrip("/") + slip.lookup_path(dossier)
    return _page(request, "egov/portal_submitted.html", {
        "dossier": dossier, "case": case, "procedure": procedure, "qr": slip.qr_svg(url), "lookup_url": url,
        "files": len(uploads),
    }, status_code=201)


@router.get("/portal/dossiers/lookup")
def lookup_page(
    request: Request, session: DbSession,
    code: Annotated[str | None, Query(max_length=32)] = None,
    pin: Annotated[str | None, Query(max_length=12)] = None,
    done: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    view, error = None, None
    if code and code.strip():
        try:
            view = public.lookup(session, code=code)
        except DomainError as exc:
            error = form_error(request, exc)
    return _page(request, "egov/portal_lookup.html", {
        "view": view, "code": (code or "").strip(), "pin": (pin or "").strip(), "error": error,
        "rated_now": done == "rated",
    }, status_code=404 if error else 200)


@router.post("/portal/dossiers/rate", dependencies=[Depends(verify_csrf)])
def rate_dossier(session: DbSession, form: Annotated[RatingForm, Form()]) -> Response:
    public.rate(session, code=form.code, pin=form.pin, timeliness=form.timeliness, attitude=form.attitude,
                 visits=form.visits, comment=form.comment, now=utcnow())
    return RedirectResponse(f"/portal/dossiers/lookup?code={quote(form.code.strip().upper())}&done=rated",
                            status_code=303)
