"""Saola's own JSON API on devices: ``GET /api/v1/devices/{device_id}/series`` (rollups for charts).

``attr`` is the attribute's name on the entity (``temperature``) or the device's object_id (``t``);
``period`` is ``1m`` or ``1h``; ``from``/``to`` are ISO 8601 instants (default: the last 24 hours for
``1m``, the last 30 days for ``1h``; at most 7 and 400 days). The tenant is the ``fiware-service``
header, as in the provisioning API. Needs ``devices:read``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import BadRequest
from saola.devices import rollups, service
from saola.devices.formats import parse_time
from saola.devices.measures import expand, mappings_of
from saola.devices.models import ServiceGroup
from saola.devices.provisioning_api import scope_of

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
Reader = Annotated[Principal, Depends(require("devices:read"))]
DEFAULT_SPAN = {"1m": timedelta(hours=24), "1h": timedelta(days=30)}
MAX_SPAN = {"1m": timedelta(days=7), "1h": timedelta(days=400)}


def _instant(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except BadRequest:
        raise BadRequest("{name} is not an ISO 8601 date-time", field=name, name=name) from None


@router.get("/{device_id}/series", summary="1-minute or 1-hour count/min/max/avg of a device's attribute")
def device_series(device_id: str, session: DbSession, principal: Reader,
                  attr: Annotated[str, Query(min_length=1, max_length=128)],
                  period: Annotated[str, Query(pattern="^(1m|1h)$")] = "1m",
                  start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                  end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
                  fiware_service: Annotated[str | None, Header(alias="fiware-service")] = None) -> dict[str, Any]:
    tenant, _ = scope_of(principal, fiware_service, None)
    device = service.get_device(session, tenant=tenant, device_id=device_id)
    until = _instant(end, "to") or utcnow()
    since = _instant(start, "from") or until - DEFAULT_SPAN[period]
    if since >= until:
        raise BadRequest("'from' must be before 'to'", field="from")
    if until - since > MAX_SPAN[period]:
        raise BadRequest("A {period} series spans at most {days} days", field="from", period=period,
                         days=MAX_SPAN[period].days)
    group = session.get(ServiceGroup, device.group_id) if device.group_id else None
    mapping = mappings_of(device.attributes or [], group.attributes if group else []).get(attr)
    name = mapping.name if mapping else attr
    points = rollups.series(session, tenant=tenant, entity_id=device.entity_id, attr_iri=expand(name), period=period,
                            start=rollups.bucket_of(since, rollups.PERIODS[period]), end=until)
    return {"device_id": device.device_id, "entity_id": device.entity_id, "attr": name, "period": period,
            "from": since.isoformat().replace("+00:00", "Z"), "to": until.isoformat().replace("+00:00", "Z"),
            "points": [p.as_json() for p in points]}
