"""Saola's JSON API on downlink commands and on the MQTT ingest worker.

* ``POST /api/v1/devices/{device_id}/commands`` ``{"command": "dim", "value": 50}`` → 202 with the
  command (``PENDING``); ``GET /api/v1/devices/{device_id}/commands`` lists the latest ones;
  ``GET /api/v1/devices/{device_id}/commands/{id}`` follows one. ``devices:write`` / ``devices:read``.
  The tenant is the ``fiware-service`` header, as in the provisioning API.
* ``GET /api/v1/ingest/status``: the counters of this process's MQTT ingest worker (received, stored,
  duplicates, rejected by reason, buffered, lag percentiles) — ``devices:read``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.core.errors import NotFound
from saola.devices import commands, service
from saola.devices.commands_models import DeviceCommand
from saola.devices.provisioning_api import scope_of
from saola.devices.schemas import NAME

router = APIRouter(prefix="/api/v1", tags=["devices"])
Reader = Annotated[Principal, Depends(require("devices:read"))]
Writer = Annotated[Principal, Depends(require("devices:write"))]
Service = Annotated[str | None, Header(alias="fiware-service")]


class CommandNotFound(NotFound):
    code = "command-not-found"
    title = "No such command"


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(pattern=NAME, description="A command the device or its group declares")
    value: Any = Field(None, description="The command's parameter (JSON); UltraLight devices get it as text")


@router.post("/devices/{device_id}/commands", status_code=status.HTTP_202_ACCEPTED,
             summary="Send a command to a device (PENDING until the MQTT worker publishes it)")
def send_command(device_id: str, body: CommandIn, request: Request, session: DbSession, principal: Writer,
                 fiware_service: Service = None) -> dict[str, Any]:
    tenant, _ = scope_of(principal, fiware_service, None)
    device = service.get_device(session, tenant=tenant, device_id=device_id)
    command = commands.request(session, device=device, name=body.command, value=body.value,
                               settings=request.app.state.settings)
    worker = getattr(request.app.state, "mqtt_worker", None)
    if worker is not None:
        worker.command_wake.set()
    return commands.view(command)


@router.get("/devices/{device_id}/commands", summary="The latest commands of a device")
def list_commands(device_id: str, session: DbSession, principal: Reader, fiware_service: Service = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    tenant, _ = scope_of(principal, fiware_service, None)
    device = service.get_device(session, tenant=tenant, device_id=device_id)
    rows = session.scalars(select(DeviceCommand).where(DeviceCommand.device_pk == device.id)
                           .order_by(DeviceCommand.id.desc()).limit(limit))
    return {"device_id": device.device_id, "commands": [commands.view(c) for c in rows]}


@router.get("/devices/{device_id}/commands/{command_id}", summary="One command of a device")
def get_command(device_id: str, command_id: int, session: DbSession, principal: Reader,
                fiware_service: Service = None) -> dict[str, Any]:
    tenant, _ = scope_of(principal, fiware_service, None)
    device = service.get_device(session, tenant=tenant, device_id=device_id)
    command = session.get(DeviceCommand, command_id)
    if command is None or command.device_pk != device.id:
        raise CommandNotFound("No command {id} for this device", id=command_id)
    return commands.view(command)


@router.get("/ingest/status", summary="Counters of this process's MQTT ingest worker")
def ingest_status(request: Request, principal: Reader) -> dict[str, Any]:
    worker = getattr(request.app.state, "mqtt_worker", None)
    if worker is None:
        return {"running": False}
    return {"running": True, **worker.status()}
