"""Provisioning use cases: service groups and devices, and the NGSI-LD entity each device feeds.

One keyword-only function per use case, taking the session; nothing here commits. Provisioning a
device creates its entity (or merges into the existing one) through :mod:`saola.context`, with the
static attributes of its group and its own, and its location, so the entity is a normal NGSI-LD
entity (history, subscriptions, queries). Deleting a device keeps its entity: it is city data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.context import entities, store
from saola.context.errors import NgsiLdError
from saola.devices.errors import (
    DeviceExists,
    DeviceNotFound,
    InvalidProvisioning,
    ServiceGroupExists,
    ServiceGroupNotFound,
)
from saola.devices.measures import core_terms
from saola.devices.models import Device, ServiceGroup
from saola.devices.registry import group_for_path, hash_token
from saola.devices.schemas import DeviceIn, DeviceUpdate, ServiceIn, ServiceUpdate

GEO_TYPES = frozenset({"geo:json", "GeoProperty", "geo:point"})


# --- views -------------------------------------------------------------------------------------


def group_view(group: ServiceGroup) -> dict[str, Any]:
    return {"apikey": group.apikey, "resource": group.resource, "service": group.tenant,
            "subservice": group.service_path, "entity_type": group.entity_type, "transport": group.transport,
            "protocol": group.protocol, "attributes": group.attributes, "static_attributes": group.static_attributes,
            "commands": group.commands, "autoprovision": group.autoprovision,
            "expected_interval": group.expected_interval}


def status_of(device: Device) -> str:
    return "unknown" if device.online is None else "online" if device.online else "offline"


def device_view(device: Device) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return moment.isoformat().replace("+00:00", "Z") if moment is not None else None

    return {"device_id": device.device_id, "service": device.tenant, "service_path": device.service_path,
            "entity_name": device.entity_id, "entity_type": device.entity_type, "apikey": device.api_key,
            "protocol": device.protocol, "transport": device.transport, "attributes": device.attributes,
            "static_attributes": device.static_attributes, "commands": device.commands,
            "expected_interval": device.expected_interval, "latitude": device.latitude,
            "longitude": device.longitude, "has_token": device.token_hash is not None,
            "auto_provisioned": device.auto_provisioned,
            "health": {"status": status_of(device), "last_seen": iso(device.last_seen),
                       "message_count": device.message_count, "measure_count": device.measure_count,
                       "rejected_count": device.rejected_count, "message_rate_per_minute": device.message_rate,
                       "battery": device.battery, "signal": device.signal}}


# --- service groups ----------------------------------------------------------------------------


def create_groups(session: Session, *, tenant: str, service_path: str, services: Sequence[ServiceIn]) \
        -> list[ServiceGroup]:
    keys = [s.apikey for s in services]
    taken = set(session.scalars(select(ServiceGroup.apikey).where(ServiceGroup.apikey.in_(keys))))
    repeated = {k for k, n in Counter(keys).items() if n > 1}
    if taken or repeated:
        raise ServiceGroupExists("A service group with the API key {apikey} already exists",
                                 apikey=sorted(taken | repeated)[0])
    groups = [ServiceGroup(apikey=s.apikey, tenant=tenant, service_path=service_path, resource=s.resource,
                           entity_type=s.entity_type, transport=s.transport, protocol=s.protocol,
                           attributes=[a.stored() for a in s.attributes],
                           static_attributes=[a.model_dump() for a in s.static_attributes],
                           commands=[c.model_dump() for c in s.commands], autoprovision=s.autoprovision,
                           expected_interval=s.expected_interval) for s in services]
    session.add_all(groups)
    session.flush()
    return groups


def list_groups(session: Session, *, tenant: str, service_path: str | None, limit: int, offset: int) \
        -> tuple[int, list[ServiceGroup]]:
    query = select(ServiceGroup).where(ServiceGroup.tenant == tenant)
    if service_path is not None:
        query = query.where(ServiceGroup.service_path == service_path)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return total, list(session.scalars(query.order_by(ServiceGroup.id).limit(limit).offset(offset)))


def get_group(session: Session, *, tenant: str, apikey: str, resource: str | None = None) -> ServiceGroup:
    query = select(ServiceGroup).where(ServiceGroup.tenant == tenant, ServiceGroup.apikey == apikey)
    if resource:
        query = query.where(ServiceGroup.resource == resource)
    group = session.scalars(query).first()
    if group is None:
        raise ServiceGroupNotFound("No service group with the API key {apikey} in this service", apikey=apikey)
    return group


def update_group(session: Session, *, tenant: str, apikey: str, resource: str | None,
                 changes: ServiceUpdate) -> ServiceGroup:
    group = get_group(session, tenant=tenant, apikey=apikey, resource=resource)
    for name in changes.model_fields_set:
        value = getattr(changes, name)
        if name == "attributes" and value is not None:
            value = [a.stored() for a in changes.attributes or []]
        elif name in ("static_attributes", "commands") and value is not None:
            value = [item.model_dump() for item in getattr(changes, name)]
        if value is not None or name == "expected_interval":
            setattr(group, name, value)
    session.flush()
    return group


def delete_group(session: Session, *, tenant: str, apikey: str, resource: str | None) -> None:
    group = get_group(session, tenant=tenant, apikey=apikey, resource=resource)
    session.delete(group)
    session.flush()


# --- devices -----------------------------------------------------------------------------------


def entity_id_for(entity_name: str | None, entity_type: str, device_id: str) -> str:
    """The IoT Agents' default entity name is ``<type>:<device_id>``; NGSI-LD needs a URI."""
    name = entity_name or f"{entity_type}:{device_id}"
    if name.startswith(("urn:", "http://", "https://")):
        return name
    return f"urn:ngsi-ld:{name}" if ":" in name else f"urn:ngsi-ld:{entity_type}:{name}"


def _taken(session: Session, tenant: str, device_ids: list[str]) -> set[str]:
    return set(session.scalars(select(Device.device_id).where(Device.tenant == tenant,
                                                              Device.device_id.in_(device_ids))))


def create_devices(session: Session, *, tenant: str, service_path: str, devices: Sequence[DeviceIn]) -> list[Device]:
    """Provision devices (all or none): 409 when one exists already or is named twice."""
    ids = [d.device_id for d in devices]
    clash = _taken(session, tenant, ids) | {i for i, n in Counter(ids).items() if n > 1}
    if clash:
        raise DeviceExists("The device {device_id} already exists", device_id=sorted(clash)[0])
    default_group = group_for_path(session, tenant=tenant, service_path=service_path)
    made = []
    for spec in devices:
        group = default_group
        if spec.apikey is not None:
            group = session.scalars(select(ServiceGroup).where(ServiceGroup.apikey == spec.apikey)).first()
            if group is not None and group.tenant != tenant:
                raise InvalidProvisioning("The API key {apikey} belongs to another service", apikey=spec.apikey)
        api_key = spec.apikey or (group.apikey if group else None)
        if api_key is None:
            raise InvalidProvisioning("No service group for this service and service path: provision one with "
                                      "POST /iot/services or give the device an apikey")
        if session.scalar(select(func.count()).select_from(Device).where(Device.api_key == api_key,
                                                                          Device.device_id == spec.device_id)):
            raise DeviceExists("The device {device_id} already exists", device_id=spec.device_id)
        entity_type = spec.entity_type or (group.entity_type if group else "Device")
        device = Device(group_id=group.id if group else None, api_key=api_key, tenant=tenant,
                        service_path=service_path, device_id=spec.device_id,
                        entity_id=entity_id_for(spec.entity_name, entity_type, spec.device_id),
                        entity_type=entity_type,
                        protocol=spec.protocol or (group.protocol if group else "IoTA-JSON"),
                        transport=spec.transport or (group.transport if group else "MQTT"),
                        attributes=[a.stored() for a in spec.attributes],
                        static_attributes=[a.model_dump() for a in spec.static_attributes],
                        commands=[c.model_dump() for c in spec.commands],
                        token_hash=hash_token(spec.token) if spec.token else None,
                        expected_interval=spec.expected_interval or (group.expected_interval if group else None),
                        latitude=spec.latitude, longitude=spec.longitude)
        session.add(device)
        made.append(device)
        session.flush()
        sync_entity(session, device, group)
    return made


def autoprovision(session: Session, *, group: ServiceGroup, device_id: str) -> Device:
    """A device first heard of on ``group``'s API key (its group allows it): provisioned with defaults."""
    device = Device(group_id=group.id, api_key=group.apikey, tenant=group.tenant, service_path=group.service_path,
                    device_id=device_id, entity_id=entity_id_for(None, group.entity_type, device_id),
                    entity_type=group.entity_type, protocol=group.protocol, transport=group.transport,
                    attributes=[], static_attributes=[], commands=[], expected_interval=group.expected_interval,
                    auto_provisioned=True)
    session.add(device)
    session.flush()
    sync_entity(session, device, group)
    return device


def get_device(session: Session, *, tenant: str, device_id: str) -> Device:
    device = session.scalars(select(Device).where(Device.tenant == tenant, Device.device_id == device_id)).first()
    if device is None:
        raise DeviceNotFound("No device {device_id} in this service", device_id=device_id)
    return device


def list_devices(session: Session, *, tenant: str, service_path: str | None = None, limit: int, offset: int,
                 status: str | None = None, search: str | None = None, entity_type: str | None = None) \
        -> tuple[int, list[Device]]:
    query = select(Device).where(Device.tenant == tenant)
    if service_path is not None:
        query = query.where(Device.service_path == service_path)
    if status == "online":
        query = query.where(Device.online.is_(True))
    elif status == "offline":
        query = query.where(Device.online.is_(False))
    elif status == "unknown":
        query = query.where(Device.online.is_(None))
    if entity_type:
        query = query.where(Device.entity_type == entity_type)
    if search:
        pattern = f"%{search.replace('%', '').replace('_', '')}%"
        query = query.where(Device.device_id.like(pattern) | Device.entity_id.like(pattern))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return total, list(session.scalars(query.order_by(Device.device_id).limit(limit).offset(offset)))


def update_device(session: Session, *, tenant: str, device_id: str, changes: DeviceUpdate) -> Device:
    device = get_device(session, tenant=tenant, device_id=device_id)
    fields = changes.model_fields_set
    if ("latitude" in fields) != ("longitude" in fields):
        raise InvalidProvisioning("latitude and longitude go together")
    for name in fields:
        value = getattr(changes, name)
        if name == "attributes" and value is not None:
            value = [a.stored() for a in changes.attributes or []]
        elif name in ("static_attributes", "commands") and value is not None:
            value = [item.model_dump() for item in getattr(changes, name)]
        elif name == "token":
            device.token_hash = hash_token(value) if value else None
            continue
        if value is not None or name in ("expected_interval", "latitude", "longitude"):
            setattr(device, name, value)
    session.flush()
    group = session.get(ServiceGroup, device.group_id) if device.group_id else None
    sync_entity(session, device, group)
    return device


def delete_device(session: Session, *, tenant: str, device_id: str) -> None:
    session.delete(get_device(session, tenant=tenant, device_id=device_id))
    session.flush()


# --- the entity --------------------------------------------------------------------------------


def _static_attribute(item: dict[str, Any]) -> dict[str, Any]:
    kind, value = item.get("type", "Text"), item.get("value")
    if value is None:
        raise InvalidProvisioning("The static attribute {name} has no value", name=item.get("name"))
    if kind == "Relationship":
        return {"type": "Relationship", "object": value}
    if kind == "geo:point" and isinstance(value, str):
        try:
            lat, lon = (float(p) for p in value.split(","))
        except ValueError:
            raise InvalidProvisioning("The geo:point {name} is not 'lat, lon'", name=item.get("name")) from None
        return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}
    if kind in GEO_TYPES:
        return {"type": "GeoProperty", "value": value}
    return {"type": "Property", "value": value}


def entity_body(device: Device, group: ServiceGroup | None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": device.entity_id, "type": device.entity_type}
    for item in [*(group.static_attributes if group else []), *device.static_attributes]:
        body[item["name"]] = _static_attribute(item)
    if device.latitude is not None and device.longitude is not None:
        body["location"] = {"type": "GeoProperty",
                            "value": {"type": "Point", "coordinates": [device.longitude, device.latitude]}}
    return body


def sync_entity(session: Session, device: Device, group: ServiceGroup | None) -> None:
    """Create the device's entity, or merge its type, static attributes and location into it."""
    body = entity_body(device, group)
    tm = core_terms()
    try:
        row = store.load(session, device.tenant, device.entity_id, for_update=True)
        if row is None:
            entities.create_entity(session, tenant=device.tenant, body=body, tm=tm)
        elif len(body) > 2 or device.entity_type:
            merged = entities.merge_into(row.data, {k: v for k, v in body.items() if k != "id"}, tm)
            store.replace_entity(session, row, merged)
    except NgsiLdError as exc:
        raise InvalidProvisioning("The device's entity cannot be written: {reason}", reason=exc.detail) from None
