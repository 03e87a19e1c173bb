"""From parsed readings to measures: attribute mapping, value types, units, observedAt, instance ids.

A device's ``attributes`` mapping (``object_id → name, type, unit``) wins over its group's; an
object_id with no mapping keeps its own name and its value as sent (as IoT Agents do). A mapping of
type ``Number`` (or ``Integer``/``Float``) parses text as a number, ``Boolean`` parses ``true``/
``false``. Each measure is an NGSI-LD Property instance with ``observedAt`` (the reading's
TimeInstant, else when Saola received the message) and ``unitCode`` when the mapping has a unit.

Its history instance id is deterministic (:func:`instance_id`): the same device, attribute and
observedAt always give the same id, so a message received twice is stored once.

Health: an attribute mapped with ``"health": "battery"`` or ``"signal"``, or named ``batteryLevel``/
``battery`` (battery, percent) or ``rssi``/``signalStrength``/``rsrp`` (signal, dBm), also updates
the device's battery or signal field.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from saola.context.jsonld import ContextProcessor, TermMap
from saola.context.representation import NGSI_LD
from saola.devices.errors import MalformedPayload
from saola.devices.formats import Reading

INSTANCE_NAMESPACE = uuid.UUID("5d1f6c3e-8a0b-4f4e-9c61-3b2f7a9e0d42")
NUMBER_TYPES = frozenset({"Number", "Float", "Integer", "number", "float", "integer", "Double"})
BOOLEAN_TYPES = frozenset({"Boolean", "boolean", "Bool"})
BATTERY_NAMES = frozenset({"batteryLevel", "battery"})
SIGNAL_NAMES = frozenset({"rssi", "signalStrength", "rsrp"})
RESERVED = frozenset({NGSI_LD + "location", NGSI_LD + "observationSpace", NGSI_LD + "operationSpace"})


@cache
def core_terms() -> TermMap:
    """The core @context's term map: devices name their attributes with plain terms."""
    return ContextProcessor().term_map(None)


@cache
def expand(name: str) -> str:
    return core_terms().expand(name)


@dataclass(frozen=True, slots=True)
class Mapping:
    name: str
    type: str | None = None
    unit: str | None = None
    health: str | None = None


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each of its 10 fields through object.__setattr__
class Measure:
    device_pk: int
    tenant: str
    entity_id: str
    attr_iri: str
    value: Any
    unit: str | None
    observed: datetime
    observed_text: str
    instance_id: str
    health: str | None

    def instance(self, now_text: str) -> dict[str, Any]:
        inst: dict[str, Any] = {"type": "Property", "value": self.value, "observedAt": self.observed_text}
        if self.unit:
            inst["unitCode"] = self.unit
        inst["createdAt"] = now_text
        inst["modifiedAt"] = now_text
        return inst

    @property
    def number(self) -> float | None:
        """The value as a finite float when it is a number (rollups), else ``None``."""
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            return None
        try:
            number = float(self.value)
        except OverflowError:
            return None
        return number if math.isfinite(number) and abs(number) <= 1e300 else None


def mappings_of(device_attrs: Sequence[Any], group_attrs: Sequence[Any] = ()) -> dict[str, Mapping]:
    """``object_id → Mapping`` from IoT Agent attribute lists (the device's entries win)."""
    out: dict[str, Mapping] = {}
    for entry in [*group_attrs, *device_attrs]:
        if not isinstance(entry, dict):
            continue
        name = entry.get("name") or entry.get("object_id")
        object_id = entry.get("object_id") or name
        if isinstance(name, str) and isinstance(object_id, str):
            out[object_id] = Mapping(name, entry.get("type"), entry.get("unit") or entry.get("unitCode"),
                                     entry.get("health"))
    return out


_NAMESPACE_BYTES = INSTANCE_NAMESPACE.bytes


def instance_id(tenant: str, entity_id: str, attr_iri: str, observed_text: str, observed: datetime) -> str:
    """``urn:ngsi-ld:`` + a UUID made from the measure's key: its first 48 bits are ``observed`` in
    milliseconds since 1970 (as in a UUID 7), the rest the SHA-1 of the key (as in a UUID 5), with
    version 8 ("custom", RFC 9562). The same measure always gets the same id (a duplicate is stored once),
    and ids grow with time, so the history's unique index takes new rows at its end instead of all over
    it (random ids cost PostgreSQL a page read and a full-page write per row once the index outgrew memory).
    Computed without building a :class:`uuid.UUID`: a third of the cost, measured."""
    key = f"{tenant}\x1f{entity_id}\x1f{attr_iri}\x1f{observed_text}"
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + key.encode()).digest()[:16])
    digest[0:6] = (int(observed.timestamp() * 1000) & 0xFFFF_FFFF_FFFF).to_bytes(6, "big")
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    h = digest.hex()
    return f"urn:ngsi-ld:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def convert(value: Any, kind: str | None, name: str) -> Any:
    if kind in NUMBER_TYPES and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise MalformedPayload(f"The value {value[:40]!r} of {name!r} is not a number") from None
        if not math.isfinite(number):
            raise MalformedPayload(f"The value of {name!r} is not a finite number")
        text = value.strip()
        return int(text) if text.lstrip("+-").isdigit() and abs(number) < 2**53 else number
    if kind in BOOLEAN_TYPES and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise MalformedPayload(f"The value {value[:40]!r} of {name!r} is not true or false")
        return lowered == "true"
    return value


def _health(mapping: Mapping) -> str | None:
    if mapping.health in ("battery", "signal"):
        return mapping.health
    if mapping.name in BATTERY_NAMES:
        return "battery"
    if mapping.name in SIGNAL_NAMES:
        return "signal"
    return None


@lru_cache(maxsize=4096)  # bounded: object ids come from devices
def _plain(object_id: str) -> Mapping:
    return Mapping(object_id)


@lru_cache(maxsize=4096)
def _target(mapping: Mapping) -> tuple[str, str | None] | None:
    """The attribute IRI and health role a mapping writes to; None when it names a reserved attribute."""
    iri = expand(mapping.name)
    if iri in RESERVED or ":" in mapping.name:
        return None
    return iri, _health(mapping)


def observed_of(moment: datetime) -> tuple[datetime, str]:
    """``moment`` in UTC to the millisecond (as stored) and its ``observedAt`` text (what
    :func:`saola.context.normalize.now_iso` writes; ``isoformat`` costs a third of ``strftime``)."""
    moment = moment.astimezone(UTC)
    moment = moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)
    return moment, moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def to_measures(readings: list[Reading], *, device_pk: int, tenant: str, entity_id: str,
                mappings: dict[str, Mapping], received_at: datetime) -> list[Measure]:
    """The measures of one message; raises :class:`MalformedPayload` (the whole message is refused)."""
    out: list[Measure] = []
    for reading in readings:
        observed, observed_text = observed_of(reading.observed or received_at)
        for object_id, raw in reading.values.items():
            mapping = mappings.get(object_id) or _plain(object_id)
            target = _target(mapping)
            if target is None:
                raise MalformedPayload(f"{mapping.name!r} cannot be sent as a measure")
            iri, health = target
            kind = mapping.type
            value = convert(raw, kind, mapping.name) if kind is not None and type(raw) is str else raw
            out.append(Measure(device_pk, tenant, entity_id, iri, value, mapping.unit, observed, observed_text,
                               instance_id(tenant, entity_id, iri, observed_text, observed), health))
    return out
