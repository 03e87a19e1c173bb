"""Device payload formats: IoT Agent JSON, UltraLight 2.0 and the single-attribute bare value.

Each parser turns the bytes of one message into :class:`Reading` objects (one per measure group,
with its own ``TimeInstant`` if it carries one) holding raw values keyed by ``object_id``; mapping
names, types and units is the ingest core's job (:mod:`saola.devices.measures`). Anything that is
not the format raises :class:`MalformedPayload` with a message saying what is wrong; no other
exception escapes for any input bytes (property-tested).

* IoT Agent JSON: ``{"t": 25.3, "h": 60}`` or ``[{"t": 25.3, "TimeInstant": "2026-11-24T10:00:00Z"}, ...]``.
* UltraLight 2.0: ``t|25.3|h|60``; measure groups separated by ``#``; a group may start with its
  timestamp, either as a bare field (``2026-11-24T10:00:00Z|t|25.3``) or as ``TimeInstant|<time>|...``.
* Single attribute (MQTT ``.../attrs/<attr>`` topics): the payload is that attribute's bare value.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from saola.devices.errors import MalformedPayload

TIME_INSTANT = "TimeInstant"
MAX_PAYLOAD = 1_000_000  # bytes
MAX_READINGS = 1_000  # measure groups in one message
MAX_KEY = 128
MIN_YEAR, MAX_YEAR = 1900, 9998  # device clocks; keeps observedAt a 4-digit year in every time zone
UL_SEPARATORS = frozenset("|#")


@dataclass(frozen=True, slots=True)
class Reading:
    """One measure group: raw values by object_id, and its own time if the payload gave one."""

    values: dict[str, Any]
    observed: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_time(text: Any) -> datetime:
    """An ISO 8601 instant (``Z`` or an offset; a naive one is UTC)."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40:
        raise MalformedPayload(f"TimeInstant {text!r} is not an ISO 8601 date-time")
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MalformedPayload(f"TimeInstant {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is UTC:  # the common ``...Z``: already UTC
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise MalformedPayload(f"TimeInstant {text!r} is not between the years {MIN_YEAR} and {MAX_YEAR}")
        return moment
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise MalformedPayload(f"TimeInstant {text!r} is out of range") from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise MalformedPayload(f"TimeInstant {text!r} is not between the years {MIN_YEAR} and {MAX_YEAR}")
    return moment


def _text(payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD:
        raise MalformedPayload(f"The payload is larger than {MAX_PAYLOAD} bytes")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("The payload is not UTF-8 text") from None
    if "\x00" in text:
        raise MalformedPayload("The payload contains a NUL character")
    return text


# what NGSI-LD refuses in an attribute name (saola.context.normalize.check_name), plus the characters
# of UltraLight and MQTT topics
KEY_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f<>\"'=;()\\|#+/]")


_GOOD_KEYS: set[str] = set()  # devices send the same few keys again and again: checked once


def _check_key(key: str) -> str:
    if key in _GOOD_KEYS:
        return key
    if not key or len(key) > MAX_KEY or KEY_FORBIDDEN.search(key) or key.startswith("@"):
        raise MalformedPayload(f"{key[:40]!r} is not a valid attribute name (1-{MAX_KEY} characters, no spaces, "
                               "quotes, brackets or control characters)")
    if len(_GOOD_KEYS) < 10_000:
        _GOOD_KEYS.add(key)
    return key


def _finite(value: Any) -> Any:
    """``value`` checked to be storable: finite numbers, no NUL character in any text."""
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedPayload("Numbers must be finite")
    if isinstance(value, str) and "\x00" in value:
        raise MalformedPayload("The payload contains a NUL character")
    if isinstance(value, dict):
        return {_finite(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _json_reading(item: Any) -> Reading:
    if not isinstance(item, dict):
        raise MalformedPayload("A JSON measure is an object of attribute: value pairs")
    observed = None
    values: dict[str, Any] = {}
    good = _GOOD_KEYS
    for key, value in item.items():
        if key == TIME_INSTANT:
            observed = parse_time(value)
            continue
        if key not in good:
            _check_key(key)
        kind = type(value)  # the common plain values checked inline, the rest by _finite
        values[key] = value if kind is int or (kind is float and math.isfinite(value)) else _finite(value)
    if not values:
        raise MalformedPayload("The measure holds no attribute")
    return Reading(values, observed)


def parse_json(payload: bytes) -> list[Reading]:
    """IoT Agent JSON: one object of measures, or an array of them (each with its optional TimeInstant)."""
    text = _text(payload)
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedPayload("The payload is not valid JSON") from None
    items = body if isinstance(body, list) else [body]
    if not items:
        raise MalformedPayload("The array of measures is empty")
    if len(items) > MAX_READINGS:
        raise MalformedPayload(f"A message holds at most {MAX_READINGS} measure groups")
    return [_json_reading(item) for item in items]


def _looks_like_time(field_text: str) -> bool:
    return len(field_text) >= 10 and field_text[:4].isdigit() and field_text[4:5] == "-"


def _ul_group(group: str) -> Reading:
    fields = group.split("|")
    observed = None
    if len(fields) % 2 == 1:  # a leading bare timestamp
        if not _looks_like_time(fields[0]):
            raise MalformedPayload(f"The UltraLight measure {group[:60]!r} has a key without a value")
        observed = parse_time(fields[0])
        fields = fields[1:]
    values: dict[str, Any] = {}
    for key, value in zip(fields[0::2], fields[1::2], strict=True):
        if key == TIME_INSTANT:
            observed = parse_time(value)
            continue
        values[_check_key(key)] = value
    if not values:
        raise MalformedPayload("The UltraLight measure holds no attribute")
    return Reading(values, observed)


def parse_ul(payload: bytes) -> list[Reading]:
    """UltraLight 2.0: ``key|value|key|value``, groups separated by ``#`` (a trailing ``#`` is allowed)."""
    text = _text(payload).strip()
    if not text:
        raise MalformedPayload("The payload is empty")
    groups = text.split("#")
    if groups[-1] == "":
        groups.pop()
    if len(groups) > MAX_READINGS:
        raise MalformedPayload(f"A message holds at most {MAX_READINGS} measure groups")
    return [_ul_group(g.strip("\r\n")) for g in groups]


def parse_single(payload: bytes, attribute: str, fmt: str) -> list[Reading]:
    """The bare value of one attribute (MQTT ``/attrs/<attr>``); JSON values are decoded, text kept."""
    text = _text(payload)
    value: Any = text
    if fmt == "json":
        try:
            value = _finite(json.loads(text))
        except (ValueError, RecursionError):
            value = text  # IoT Agents accept a bare text value on JSON single-attribute topics
    return [Reading({_check_key(attribute): value})]


def parse(payload: bytes, fmt: str, attribute: str | None = None) -> list[Reading]:
    if attribute is not None:
        return parse_single(payload, attribute, fmt)
    if fmt == "json":
        return parse_json(payload)
    if fmt == "ul":
        return parse_ul(payload)
    raise MalformedPayload(f"Unknown payload format {fmt!r}")


def format_ul(readings: list[Reading]) -> str:
    """The UltraLight text of ``readings`` (values written with ``str``); the inverse of :func:`parse_ul`."""
    groups = []
    for reading in readings:
        fields: list[str] = []
        if reading.observed is not None:
            fields += [TIME_INSTANT, reading.observed.isoformat().replace("+00:00", "Z")]
        for key, value in reading.values.items():
            fields += [key, str(value)]
        groups.append("|".join(fields))
    return "#".join(groups)


def valid_device_id(device_id: str) -> bool:
    """1-255 printable characters without spaces or the MQTT topic characters ``/ + #``."""
    return (0 < len(device_id) <= 255 and device_id.isprintable()
            and not any(ch.isspace() or ch in "/+#" for ch in device_id))
