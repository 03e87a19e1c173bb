"""Bulk device provisioning from CSV (``POST /iot/devices/import``, the console upload).

A header row names the columns (any order, any subset); ``device_id`` is required. Columns:
``device_id, entity_name, entity_type, apikey, protocol, transport, expected_interval, latitude,
longitude, attributes, static_attributes, token``. Example::

    device_id,entity_type,apikey,expected_interval,latitude,longitude,attributes,static_attributes
    aq-001,AirQualityObserved,aq-key,300,21.186,106.076,t:temperature:Number:CEL;h:humidity:Number:P1,ward:Text:Tu Son

``attributes`` is ``object_id:name:type[:unit]`` entries separated by ``;``; ``static_attributes``
is ``name:type:value`` entries separated by ``;``. The file is checked whole before anything is
written: one bad row rejects the file, and the answer lists every bad row by its line number.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from pydantic import ValidationError

from saola.core.errors import ValidationFailed
from saola.devices.schemas import DeviceIn

COLUMNS = ("device_id", "entity_name", "entity_type", "apikey", "protocol", "transport", "expected_interval",
           "latitude", "longitude", "attributes", "static_attributes", "token")
MAX_ROWS = 10_000
MAX_BYTES = 5_000_000


def _attributes(text: str) -> list[dict[str, Any]]:
    out = []
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        parts = entry.split(":")
        if not 3 <= len(parts) <= 4:
            raise ValueError(f"attribute {entry!r} is not object_id:name:type[:unit]")
        item = {"object_id": parts[0], "name": parts[1], "type": parts[2]}
        if len(parts) == 4 and parts[3]:
            item["unit"] = parts[3]
        out.append(item)
    return out


def _static(text: str) -> list[dict[str, Any]]:
    out = []
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        name, sep, rest = entry.partition(":")
        kind, sep2, value = rest.partition(":")
        if not sep or not sep2:
            raise ValueError(f"static attribute {entry!r} is not name:type:value")
        out.append({"name": name, "type": kind, "value": _number(value) if kind == "Number" else value})
    return out


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _row(record: dict[str, str]) -> DeviceIn:
    data: dict[str, Any] = {k: v.strip() for k, v in record.items() if k in COLUMNS and v and v.strip()}
    if "attributes" in data:
        data["attributes"] = _attributes(data["attributes"])
    if "static_attributes" in data:
        data["static_attributes"] = _static(data["static_attributes"])
    return DeviceIn.model_validate(data)


def parse_csv(body: bytes) -> list[DeviceIn]:
    """The devices of a CSV file, or :class:`ValidationFailed` listing every bad row (``row N: ...``)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed([{"field": "file", "message": "not UTF-8 text"}], "The CSV file is not UTF-8") \
            from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if "device_id" not in header:
        raise ValidationFailed([{"field": "header", "message": "the header row must name a device_id column"}],
                               "The CSV file has no device_id column")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ValidationFailed([{"field": "header", "message": f"unknown columns: {', '.join(unknown)}"}],
                               "The CSV file has unknown columns")
    devices: list[DeviceIn] = []
    errors: list[dict[str, Any]] = []
    try:
        for record in reader:
            line = reader.line_num
            if len(devices) + len(errors) >= MAX_ROWS:
                errors.append({"field": f"row {line}", "message": f"a file holds at most {MAX_ROWS} devices"})
                break
            if None in record:
                errors.append({"field": f"row {line}", "message": "more fields than columns"})
                continue
            try:
                devices.append(_row(record))
            except ValidationError as exc:
                for err in exc.errors():
                    where = ".".join(str(p) for p in err.get("loc", ()))
                    errors.append({"field": f"row {line}", "message": f"{where}: {err.get('msg', '')}"})
            except ValueError as exc:
                errors.append({"field": f"row {line}", "message": str(exc)})
    except csv.Error as exc:
        errors.append({"field": f"row {reader.line_num}", "message": f"not CSV: {exc}"})
    if not devices and not errors:
        errors.append({"field": "file", "message": "no device rows"})
    if errors:
        rows = sorted({e["field"] for e in errors if e["field"].startswith("row ")}, key=lambda r: int(r[4:]))
        raise ValidationFailed(errors, f"The file was not imported; bad rows: {', '.join(rows) or 'none'}")
    repeated = sorted(i for i, n in Counter(d.device_id for d in devices).items() if n > 1)
    if repeated:
        raise ValidationFailed([{"field": "device_id", "message": f"named twice: {', '.join(repeated)}"}],
                               "The file names a device twice")
    return devices
