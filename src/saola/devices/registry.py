"""Looking up devices and service groups, and checking a device's credentials.

The ingest core and the MQTT worker find a device by the API key of its group plus its device id
(:func:`find_device`, or :func:`devices_for` for a whole batch in one query). A per-device token is
random and long, so it is stored as a SHA-256 hash (a slow password hash would cost more than the
rest of a message's ingestion) and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select, tuple_
from sqlalchemy.orm import Session

from saola.devices import pg_bulk
from saola.devices.models import Device, ServiceGroup

LOOKUP_CHUNK = 500


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(stored_hash: str | None, token: str | None) -> bool:
    """True when the device has no token, or ``token`` is its token."""
    if stored_hash is None:
        return True
    return token is not None and hmac.compare_digest(stored_hash, hash_token(token))


def find_device(session: Session, *, api_key: str, device_id: str) -> Device | None:
    return session.scalars(select(Device).where(Device.api_key == api_key, Device.device_id == device_id)).first()


def find_group(session: Session, *, api_key: str) -> ServiceGroup | None:
    return session.scalars(select(ServiceGroup).where(ServiceGroup.apikey == api_key)).first()


def devices_for(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Row[Any]]:
    """The device rows (columns ``pg_bulk.DEVICE_COLUMNS``) for ``(api_key, device_id)`` pairs, in few queries."""
    wanted = list(dict.fromkeys(keys))
    table = Device.__table__
    found: dict[tuple[str, str], Row[Any]] = {}
    conn = session.connection()
    if conn.dialect.name == "postgresql":  # one short statement with an array (see pg_bulk)
        wanted_set = set(wanted)
        rows = pg_bulk.devices_by_id(conn, list({device_id for _key, device_id in wanted}))
        return {(r.api_key, r.device_id): r for r in rows if (r.api_key, r.device_id) in wanted_set}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start:start + LOOKUP_CHUNK]
        rows = session.execute(select(*(table.c[name] for name in pg_bulk.DEVICE_COLUMNS))
                               .where(tuple_(table.c.api_key, table.c.device_id).in_(chunk)))
        found.update({(row.api_key, row.device_id): row for row in rows})
    return found


def groups_for(session: Session, api_keys: Iterable[str]) -> dict[str, ServiceGroup]:
    keys = list(dict.fromkeys(api_keys))
    if not keys:
        return {}
    return {g.apikey: g for g in session.scalars(select(ServiceGroup).where(ServiceGroup.apikey.in_(keys)))}


def group_for_path(session: Session, *, tenant: str, service_path: str) -> ServiceGroup | None:
    """The service group of a tenant and service path (the IoT Agent finds a device's group so)."""
    return session.scalars(select(ServiceGroup).where(ServiceGroup.tenant == tenant,
                                                      ServiceGroup.service_path == service_path)
                           .order_by(ServiceGroup.id)).first()
