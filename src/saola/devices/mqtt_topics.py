"""The IoT Agent MQTT topics: which ones the ingest worker subscribes to and what a topic names.

Measures (IoT Agent JSON and UltraLight 2.0 share the unprefixed topics; the payload tells which)::

    /<apikey>/<deviceId>/attrs            JSON object/array, or UltraLight ``t|25.3|h|60``
    /<apikey>/<deviceId>/attrs/<attr>     the bare value of one attribute
    /json/<apikey>/<deviceId>/attrs[/<attr>]   always JSON
    /ul/<apikey>/<deviceId>/attrs[/<attr>]     always UltraLight

Command answers: ``/<apikey>/<deviceId>/cmdexe`` (and the ``/json/`` and ``/ul/`` forms). Commands
are published to ``/<apikey>/<deviceId>/cmd``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MEASURE_FILTERS = ("/+/+/attrs", "/+/+/attrs/+", "/json/+/+/attrs", "/json/+/+/attrs/+", "/ul/+/+/attrs",
                   "/ul/+/+/attrs/+")
ANSWER_FILTERS = ("/+/+/cmdexe", "/json/+/+/cmdexe", "/ul/+/+/cmdexe")
PREFIXES = {"json": "json", "ul": "ul"}


@dataclass(frozen=True, slots=True)
class Topic:
    kind: Literal["attrs", "cmdexe"]
    api_key: str
    device_id: str
    format: Literal["json", "ul"] | None  # None: decided by the payload
    attribute: str | None = None


def subscriptions(group: str) -> list[str]:
    """The topic filters, as shared subscriptions of ``group`` when one is given."""
    filters = [*MEASURE_FILTERS, *ANSWER_FILTERS]
    return [f"$share/{group}/{f}" for f in filters] if group else filters


def parse(topic: str) -> Topic | None:
    """What an IoT Agent topic names, or None when it is not one."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != "":
        return None
    fmt: Literal["json", "ul"] | None = None
    if parts[1] in PREFIXES and len(parts) >= 5 and parts[4] in ("attrs", "cmdexe"):
        fmt = "json" if parts[1] == "json" else "ul"
        parts = ["", *parts[2:]]
    api_key, device_id, kind, rest = parts[1], parts[2], parts[3], parts[4:]
    if not api_key or not device_id:
        return None
    if kind == "attrs" and not rest:
        return Topic("attrs", api_key, device_id, fmt)
    if kind == "attrs" and len(rest) == 1 and rest[0]:
        return Topic("attrs", api_key, device_id, fmt, rest[0])
    if kind == "cmdexe" and not rest:
        return Topic("cmdexe", api_key, device_id, fmt)
    return None


def sniff(payload: bytes) -> Literal["json", "ul"]:
    """IoT Agent JSON starts with ``{`` or ``[``; anything else is UltraLight."""
    head = payload.lstrip()[:1]
    return "json" if head in (b"{", b"[") else "ul"


def command_topic(api_key: str, device_id: str) -> str:
    return f"/{api_key}/{device_id}/cmd"
