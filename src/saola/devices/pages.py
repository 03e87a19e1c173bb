"""Console pages of the device registry: ``/console/devices`` (list with health, filters, CSV upload)
and ``/console/devices/{device_id}`` (a device, its health and its recent measures).

Thin handlers: they parse, call :mod:`saola.devices.service` and render. The tenant is the
``service`` query parameter (empty: the default tenant).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from saola.context.browse import entity_url
from saola.context.temporal import TemporalQuery, history
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import DomainError, ValidationFailed
from saola.devices import csv_import, service
from saola.devices.measures import core_terms
from saola.web.templating import NavItem, form_error, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.devices")
register_nav(NavItem("/console/devices", "Devices", icon="device", permission="devices:read", order=45))

Reader = Annotated[Principal, Depends(require("devices:read", page=True))]
Writer = Annotated[Principal, Depends(require("devices:write", page=True))]
Tenant = Annotated[str, Query(alias="service", max_length=50, pattern=r"^[A-Za-z0-9_-]*$")]
PAGE = 50
RECENT = 50
NOTICES = {"imported": "The devices were imported"}


@router.get("/console/devices")
def devices_page(request: Request, session: DbSession, principal: Reader, tenant: Tenant = "",
                 status: Annotated[str | None, Query(pattern="^(online|offline|unknown)?$")] = None,
                 q: Annotated[str | None, Query(max_length=100)] = None,
                 page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                 done: Annotated[str | None, Query(max_length=20)] = None,
                 imported: Annotated[int | None, Query(ge=0, le=100_000)] = None) -> Response:
    return _list(request, session, principal, tenant=tenant, status=status or None, q=q, page=page,
                 notice=NOTICES.get(done or ""), imported=imported)


def _list(request: Request, session: DbSession, principal: Principal, *, tenant: str, status: str | None,
          q: str | None, page: int, notice: str | None = None, imported: int | None = None,
          error: dict[str, str] | None = None, errors: list[dict[str, Any]] | None = None,
          status_code: int = 200) -> Response:
    total, devices = service.list_devices(session, tenant=tenant, limit=PAGE, offset=(page - 1) * PAGE,
                                          status=status, search=q)
    return render(request, "devices/list.html", {
        "devices": devices, "total": total, "page": page, "pages": max(1, -(-total // PAGE)), "tenant": tenant,
        "status": status or "", "q": q or "", "notice": notice, "imported": imported, "error": error,
        "errors": errors or [], "status_of": service.status_of, "can_write": principal.can("devices:write"),
    }, status_code=status_code)


@router.post("/console/devices/import")
async def import_page(request: Request, session: DbSession, principal: Writer, tenant: Tenant = "",
                      file: Annotated[UploadFile | None, File()] = None) -> Response:
    try:
        data = await file.read(csv_import.MAX_BYTES + 1) if file is not None else b""
        if len(data) > csv_import.MAX_BYTES:
            raise ValidationFailed([{"field": "file", "message": "the file is too large"}], "The file is too large")
        made = service.create_devices(session, tenant=tenant, service_path="/",
                                      devices=csv_import.parse_csv(data))
    except DomainError as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else []
        return _list(request, session, principal, tenant=tenant, status=None, q=None, page=1,
                     error=form_error(request, exc), errors=errors, status_code=exc.status)
    return RedirectResponse(f"/console/devices?service={tenant}&done=imported&imported={len(made)}",
                            status_code=303)


@router.get("/console/devices/{device_id}")
def device_page(device_id: str, request: Request, session: DbSession, principal: Reader,
                tenant: Tenant = "") -> Response:
    device = service.get_device(session, tenant=tenant, device_id=device_id)
    now = utcnow()
    tm = core_terms()
    found = history(session, tenant=tenant, entity_ids=[device.entity_id], attrs=None,
                    tq=TemporalQuery(timerel="after", time_at=now - timedelta(days=1)))
    recent = sorted(((tm.compact(iri), inst) for iri, items in found.get(device.entity_id, {}).items()
                     for inst in items), key=lambda pair: pair[1].at or now, reverse=True)[:RECENT]
    return render(request, "devices/device.html", {
        "device": device, "tenant": tenant, "status": service.status_of(device), "recent": recent,
        "entity_url": entity_url(device.entity_id, tenant),
    })
