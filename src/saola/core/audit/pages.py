"""The audit log browser in the staff console (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime

from saola.core.audit import service
from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.web.templating import NavItem, register_nav, render

router = APIRouter()
register_nav(NavItem("/console/audit", "Audit log", icon="📜", permission="audit:read", order=90))

PAGE_SIZE = 50


@router.get("/console/audit")
def audit_page(
    request: Request,
    session: DbSession,
    _: Annotated[Principal, Depends(require("audit:read", page=True))],
    actor: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    object_type: Annotated[str | None, Query(max_length=60)] = None,
    object_id: Annotated[str | None, Query(max_length=80)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    flt = service.AuditFilter(actor=actor or None, action=action or None, object_type=object_type or None,
                              object_id=object_id or None, since=since, until=until)
    rows, total = service.search(session, flt=flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(request, "audit/list.html", {
        "entries": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "flt": flt, "object_types": service.object_types(session),
    })
