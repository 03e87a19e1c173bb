"""Console pages of the procedures catalogue: browse (all staff), create, edit and import (``procedures:manage``).

Thin handlers over :mod:`saola.egov.procedures`, the functions the JSON API uses. A rejected form
answers with a 4xx page naming the problem, and the request's transaction saves nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.egov import procedures as service
from saola.egov.errors import InvalidCatalogue
from saola.egov.labels import LABELS
from saola.egov.procedures_api import MAX_IMPORT_BYTES
from saola.egov.procedures_schemas import ProcedureForm
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.egov")
register_nav(NavItem("/console/procedures", "Procedures", icon="folder", permission="console:access", order=31))

Staff = Annotated[Principal, Depends(require("console:access", page=True))]
Manager = Annotated[Principal, Depends(require("procedures:manage", page=True))]
PAGE_SIZE = 50
NOTICES = {"saved": "The procedure was saved", "imported": "The catalogue file was imported"}


def _page(request: Request, template: str, context: dict[str, object]) -> Response:
    return render(request, template, {**LABELS, **context})


@router.get("/console/procedures")
def procedures_page(
    request: Request, session: DbSession, principal: Staff,
    q: Annotated[str | None, Query(max_length=100)] = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
    field: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    rows, total = service.list_procedures(session, q=q, level=level or None, field=field or None,
                                          limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return _page(request, "egov/procedures.html", {
        "procedures": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "q": q or "",
        "level": level or "", "field": field or "", "fields": service.fields(session),
        "can_manage": principal.can("procedures:manage"), "notice": NOTICES.get(done or ""),
    })


@router.get("/console/procedures/new")
def new_procedure_page(request: Request, _: Manager) -> Response:
    return _page(request, "egov/procedure_form.html", {"procedure": None})


@router.post("/console/procedures")
def create_procedure(session: DbSession, principal: Manager, form: Annotated[ProcedureForm, Form()]) -> Response:
    procedure = service.create_procedure(session, actor=principal, data=service.from_form(form.model_dump()))
    return RedirectResponse(f"/console/procedures/{procedure.id}?done=saved", status_code=303)


@router.post("/console/procedures/import")
def import_catalogue(session: DbSession, principal: Manager, file: Annotated[UploadFile, File()]) -> Response:
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidCatalogue("The file is larger than {mb} MB", mb=MAX_IMPORT_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidCatalogue("The file is not UTF-8 text") from None
    fmt = "json" if (file.filename or "").lower().endswith(".json") else "csv"
    service.import_procedures(session, actor=principal, records=service.parse(text, fmt=fmt))
    return RedirectResponse("/console/procedures?done=imported", status_code=303)


@router.get("/console/procedures/{procedure_id}")
def procedure_page(
    request: Request, session: DbSession, principal: Staff, procedure_id: int,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    procedure = service.get_procedure(session, procedure_id=procedure_id)
    template = "egov/procedure_form.html" if principal.can("procedures:manage") else "egov/procedure.html"
    return _page(request, template, {"procedure": procedure, "notice": NOTICES.get(done or "")})


@router.post("/console/procedures/{procedure_id}")
def save_procedure(
    session: DbSession, principal: Manager, procedure_id: int, form: Annotated[ProcedureForm, Form()]
) -> Response:
    service.update_procedure(session, actor=principal, procedure_id=procedure_id,
                             data=service.from_form(form.model_dump()))
    return RedirectResponse(f"/console/procedures/{procedure_id}?done=saved", status_code=303)
