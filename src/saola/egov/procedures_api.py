"""JSON API of the procedures catalogue: ``/api/v1/procedures``.

Reading is public (the catalogue is public information, as on the National Public Service Portal);
creating, changing and importing need ``procedures:manage``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.egov import procedures as service
from saola.egov.errors import InvalidCatalogue
from saola.egov.procedures_schemas import ImportReport, Level, ProcedureIn, ProcedureOut

router = APIRouter(prefix="/api/v1", tags=["procedures"])
Manager = Annotated[Principal, Depends(require("procedures:manage"))]
Format = Literal["csv", "json"]
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


class ProcedurePage(BaseModel):
    total: int
    items: list[ProcedureOut]


@router.get("/procedures", response_model=ProcedurePage, summary="The procedures catalogue (public)")
def list_procedures(
    session: DbSession,
    q: Annotated[str | None, Query(max_length=100, description="Code or name, accents ignored")] = None,
    level: Level | None = None,
    field: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ProcedurePage:
    rows, total = service.list_procedures(session, q=q, level=level, field=field, limit=limit, offset=offset)
    return ProcedurePage(total=total, items=[ProcedureOut.model_validate(p) for p in rows])


@router.get("/procedures/export", summary="The whole catalogue as CSV or JSON (public)",
            responses={200: {"content": {"text/csv": {}, "application/json": {}}}})
def export_procedures(session: DbSession, format: Format = "json") -> Response:
    return Response(service.export(session, fmt=format), media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="procedures.{format}"'})


@router.post("/procedures/import", response_model=ImportReport, summary="Import a CSV or JSON catalogue file",
             responses={400: {"description": "The file cannot be read (code `invalid-catalogue`); nothing saved"}})
def import_procedures(session: DbSession, principal: Manager, file: Annotated[UploadFile, File()],
                      format: Format | None = None) -> ImportReport:
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidCatalogue("The file is larger than {mb} MB", mb=MAX_IMPORT_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidCatalogue("The file is not UTF-8 text") from None
    fmt = format or ("json" if (file.filename or "").lower().endswith(".json") or text.lstrip()[:1] in "[{"
                     else "csv")
    records = service.parse(text, fmt=fmt)
    return service.import_procedures(session, actor=principal, records=records)


@router.get("/procedures/{code}", response_model=ProcedureOut, summary="One procedure by its national code (public)")
def get_procedure(code: str, session: DbSession) -> ProcedureOut:
    return ProcedureOut.model_validate(service.get_by_code(session, code=code))


@router.post("/procedures", response_model=ProcedureOut, status_code=status.HTTP_201_CREATED,
             summary="Add a procedure")
def create_procedure(body: ProcedureIn, session: DbSession, principal: Manager) -> ProcedureOut:
    return ProcedureOut.model_validate(service.create_procedure(session, actor=principal, data=body))


@router.put("/procedures/{code}", response_model=ProcedureOut, summary="Replace a procedure")
def replace_procedure(code: str, body: ProcedureIn, session: DbSession, principal: Manager) -> ProcedureOut:
    procedure = service.get_by_code(session, code=code)
    return ProcedureOut.model_validate(service.update_procedure(session, actor=principal, procedure_id=procedure.id,
                                                                data=body))
