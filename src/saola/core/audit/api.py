"""``GET /api/v1/audit``: the audit log, filtered, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from saola.core.audit import service
from saola.core.audit.schemas import AuditEntryOut, AuditPage
from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=AuditPage, summary="Search the audit log (newest first)")
def search_audit(
    session: DbSession,
    _: Annotated[Principal, Depends(require("audit:read"))],
    actor: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    object_type: Annotated[str | None, Query(max_length=60)] = None,
    object_id: Annotated[str | None, Query(max_length=80)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    flt = service.AuditFilter(actor=actor, action=action, object_type=object_type, object_id=object_id,
                              since=since, until=until)
    rows, total = service.search(session, flt=flt, limit=limit, offset=offset)
    return AuditPage(total=total, limit=limit, offset=offset,
                     items=[AuditEntryOut.model_validate(r) for r in rows])
