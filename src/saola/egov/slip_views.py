"""The slip (form 01) for a request: built from a visible dossier, answered as PDF or page context."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from saola.core.directory.models import Agency
from saola.egov import dossiers, procedures
from saola.egov import slip as slips


def build_slip(request: Request, session: Session, *, dossier_id: int, actor: Any) -> slips.Slip:
    dossier, case = dossiers.get_dossier(session, dossier_id=dossier_id, actor=actor)
    procedure = procedures.get_procedure(session, procedure_id=dossier.procedure_id)
    centre = session.get(Agency, dossier.receiving_agency_id)
    return slips.build(dossier, procedure, received_at=case.received_at, centre_name=centre.name if centre else "",
                       base_url=str(request.base_url))


def slip_pdf_response(request: Request, session: Session, *, dossier_id: int, actor: Any) -> Response:
    slip = build_slip(request, session, dossier_id=dossier_id, actor=actor)
    data = slips.pdf(slip, tz=request.app.state.settings.timezone)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{slip.code}.pdf"', "Cache-Control": "no-store"})
