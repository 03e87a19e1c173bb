"""The provisioning API, in the shape of the FIWARE IoT Agent API: ``/iot/services`` and ``/iot/devices``.

The ``fiware-service`` header names the NGSI-LD tenant the devices write to (empty: the default
tenant) and ``fiware-servicepath`` the service path (default ``/``). Callers authenticate with a Saola
API token (``Authorization: Bearer``) holding ``devices:read`` or ``devices:write``; a token limited
to some tenants may only use those. Errors are problem+json with a stable ``code`` (409
``device-exists``, 404 ``device-not-found``, 422 ``validation-failed``...).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.core.errors import BadRequest, PermissionDenied
from saola.devices import csv_import, service
from saola.devices.schemas import DevicesIn, DeviceUpdate, ServicesIn, ServiceUpdate

router = APIRouter(prefix="/iot", tags=["devices"])
Reader = Annotated[Principal, Depends(require("devices:read"))]
Writer = Annotated[Principal, Depends(require("devices:write"))]
TENANT = re.compile(r"^[A-Za-z0-9_-]{0,50}$")
SERVICE_PATH = re.compile(r"^/[A-Za-z0-9_/-]{0,50}$")


def scope_of(principal: Principal, fiware_service: str | None, fiware_servicepath: str | None) -> tuple[str, str]:
    tenant = (fiware_service or "").strip()
    path = (fiware_servicepath or "/").strip() or "/"
    if not TENANT.match(tenant):
        raise BadRequest("The fiware-service header holds letters, digits, '_' and '-' only (at most 50)")
    if not SERVICE_PATH.match(path):
        raise BadRequest("The fiware-servicepath header is a path starting with '/'")
    allowed = list(principal.token.tenants or []) if principal.token is not None else []
    if allowed and tenant not in allowed and not (tenant == "" and "default" in allowed):
        raise PermissionDenied("This token may not use the service {tenant}", tenant=tenant or "default")
    return tenant, path


Service = Annotated[str | None, Header(alias="fiware-service")]
ServicePath = Annotated[str | None, Header(alias="fiware-servicepath")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.post("/services", status_code=status.HTTP_201_CREATED, summary="Provision service groups")
def create_services(body: ServicesIn, session: DbSession, principal: Writer, fiware_service: Service = None,
                    fiware_servicepath: ServicePath = None) -> Response:
    tenant, path = scope_of(principal, fiware_service, fiware_servicepath)
    service.create_groups(session, tenant=tenant, service_path=path, services=body.services)
    return Response(status_code=status.HTTP_201_CREATED)


@router.get("/services", summary="List the service groups of a service")
def list_services(session: DbSession, principal: Reader, fiware_service: Service = None,
                  fiware_servicepath: ServicePath = None, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    tenant, _ = scope_of(principal, fiware_service, None)
    path = fiware_servicepath.strip() if fiware_servicepath and fiware_servicepath.strip() not in ("/*", "") \
        else None
    total, groups = service.list_groups(session, tenant=tenant, service_path=path, limit=limit, offset=offset)
    return {"count": total, "services": [service.group_view(g) for g in groups]}


@router.put("/services", status_code=status.HTTP_204_NO_CONTENT, summary="Change a service group")
def update_service(body: ServiceUpdate, session: DbSession, principal: Writer,
                   apikey: Annotated[str, Query(min_length=1, max_length=128)],
                   resource: Annotated[str | None, Query(max_length=255)] = None, fiware_service: Service = None,
                   fiware_servicepath: ServicePath = None) -> Response:
    tenant, _ = scope_of(principal, fiware_service, fiware_servicepath)
    service.update_group(session, tenant=tenant, apikey=apikey, resource=resource, changes=body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/services", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a service group")
def delete_service(session: DbSession, principal: Writer, apikey: Annotated[str, Query(min_length=1, max_length=128)],
                   resource: Annotated[str | None, Query(max_length=255)] = None, fiware_service: Service = None,
                   fiware_servicepath: ServicePath = None) -> Response:
    tenant, _ = scope_of(principal, fiware_service, fiware_servicepath)
    service.delete_group(session, tenant=tenant, apikey=apikey, resource=resource)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/devices", status_code=status.HTTP_201_CREATED, summary="Provision devices (all or none)")
def create_devices(body: DevicesIn, session: DbSession, principal: Writer, fiware_service: Service = None,
                   fiware_servicepath: ServicePath = None) -> Response:
    tenant, path = scope_of(principal, fiware_service, fiware_servicepath)
    service.create_devices(session, tenant=tenant, service_path=path, devices=body.devices)
    return Response(status_code=status.HTTP_201_CREATED)


@router.post("/devices/import", status_code=status.HTTP_201_CREATED,
             summary="Provision devices from a CSV file (text/csv; one bad row rejects the file)",
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def import_devices(request: Request, session: DbSession, principal: Writer, fiware_service: Service = None,
                         fiware_servicepath: ServicePath = None) -> dict[str, Any]:
    tenant, path = scope_of(principal, fiware_service, fiware_servicepath)
    body = await request.body()
    if len(body) > csv_import.MAX_BYTES:
        raise BadRequest("The CSV file is larger than {size} bytes", size=csv_import.MAX_BYTES)
    specs = csv_import.parse_csv(body)
    made = service.create_devices(session, tenant=tenant, service_path=path, devices=specs)
    return {"count": len(made)}


@router.get("/devices", summary="List devices with their health")
def list_devices(session: DbSession, principal: Reader, fiware_service: Service = None,
                 fiware_servicepath: ServicePath = None, limit: Limit = 20, offset: Offset = 0,
                 status_filter: Annotated[str | None, Query(alias="status", pattern="^(online|offline|unknown)$")]
                 = None) -> dict[str, Any]:
    tenant, _ = scope_of(principal, fiware_service, None)
    path = fiware_servicepath.strip() if fiware_servicepath and fiware_servicepath.strip() not in ("/*", "") \
        else None
    total, devices = service.list_devices(session, tenant=tenant, service_path=path, limit=limit, offset=offset,
                                          status=status_filter)
    return {"count": total, "devices": [service.device_view(d) for d in devices]}


@router.get("/devices/{device_id}", summary="A device, with its health")
def get_device(device_id: str, session: DbSession, principal: Reader, fiware_service: Service = None,
               fiware_servicepath: ServicePath = None) -> dict[str, Any]:
    tenant, _ = scope_of(principal, fiware_service, fiware_servicepath)
    return service.device_view(service.get_device(session, tenant=tenant, device_id=device_id))


@router.put("/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Change a device")
def update_device(device_id: str, body: DeviceUpdate, session: DbSession, principal: Writer,
                  fiware_service: Service = None, fiware_servicepath: ServicePath = None) -> Response:
    tenant, _ = scope_of(principal, fiware_service, fiware_servicepath)
    service.update_device(session, tenant=tenant, device_id=device_id, changes=body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a device (its NGSI-LD entity is kept)")
def delete_device(device_id: str, session: DbSession, principal: Writer, fiware_service: Service = None,
                  fiware_servicepath: ServicePath = None) -> Response:
    tenant, _ = scope_of(principal, fiware_service, fiware_servicepath)
    service.delete_device(session, tenant=tenant, device_id=device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
