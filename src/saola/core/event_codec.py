"""The wire form of an event on a shared broker (Redis, NATS): one JSON document per event.

``{"v": 1, "o": <origin>, "t": <topic>, "at": <ISO instant>, "p": <payload>}``. ``o`` names the
publishing bus instance, so a process can recognise its own events coming back from the broker and
skip them (it already delivered them locally). Payloads are JSON; the few Python values JSON lacks
travel tagged as ``{"$saola": kind, "v": text}`` and come back as the same type: ``datetime`` (aware or
naive), ``date``, ``time``, ``UUID``, ``Decimal``, ``bytes`` (base64) and ``set``/``frozenset`` (as a list
inside the tag; back as a ``set``). As with any JSON, a ``tuple`` arrives as a list and a number key as
a string. Anything else is refused at publish time with :class:`TypeError` rather than arriving as
something different. Encoding and decoding stay in C (:mod:`json`) unless a tagged value is present.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from saola.core.events import Event

VERSION = 1
TAG = "$saola"
MARKER = b'"$saola"'


def _default(value: Any) -> Any:
    """What :func:`json.dumps` calls for a value JSON has no type for: its tagged form."""
    if isinstance(value, datetime):  # before date: a datetime is a date
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {TAG: "time", "v": value.isoformat()}
    if isinstance(value, UUID):
        return {TAG: "uuid", "v": str(value)}
    if isinstance(value, Decimal):
        return {TAG: "decimal", "v": str(value)}
    if isinstance(value, bytes):
        return {TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, set | frozenset):
        return {TAG: "set", "v": list(value)}
    raise TypeError(f"an event payload cannot carry a {type(value).__name__} ({value!r})")


_DECODERS: dict[str, Any] = {
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "uuid": UUID,
    "decimal": Decimal,
    "bytes": lambda text: base64.b64decode(text),
    "set": set,
}


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 2 and TAG in obj and "v" in obj:
        decode = _DECODERS.get(obj[TAG])
        if decode is not None:
            return decode(obj["v"])
    return obj


def encode(event: Event, origin: str) -> bytes:
    """The broker message of ``event`` published by the bus instance ``origin``."""
    document = {"v": VERSION, "o": origin, "t": event.topic, "at": event.at.isoformat(), "p": event.payload}
    try:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_default).encode()
    except ValueError as exc:  # a circular reference
        raise TypeError(f"an event payload cannot be encoded: {exc}") from exc


def decode(data: bytes | str) -> tuple[str, Event]:
    """``(origin, event)`` of a broker message; :class:`ValueError` if it is not one of ours."""
    tagged = MARKER in data if isinstance(data, bytes) else MARKER.decode() in data
    document = json.loads(data, object_hook=_untag) if tagged else json.loads(data)  # the hook costs: only if needed
    if not isinstance(document, dict) or document.get("v") != VERSION or not isinstance(document.get("t"), str) \
            or not isinstance(document.get("p"), dict):
        raise ValueError("not a Saola event message")
    return str(document.get("o", "")), Event(document["t"], document["p"], datetime.fromisoformat(document["at"]))
