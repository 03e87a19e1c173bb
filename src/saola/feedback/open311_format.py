"""Open311 GeoReport v2 documents: services, service definitions, service requests, errors; JSON and XML.

Each document is built once as plain data with the specification's field names, then written as
JSON or as XML (UTF-8, with the XML declaration), the XML mirroring the JSON element for element:
a list becomes a wrapper element with one child per item (``services`` → ``service``...), ``None``
an empty element, booleans ``true``/``false``. Public documents carry no personal data: the
description has phone numbers and e-mail addresses masked, and reporter fields are never read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.responses import Response

from saola.feedback.models import FeedbackCategory, FeedbackField
from saola.feedback.reports import Report, redact

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The XML element of each item of a list, by the list's element name.
ITEM_NAMES = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
              "errors": "error", "endpoints": "endpoint", "formats": "format"}


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset, in UTC (``2026-11-24T09:30:00+00:00``)."""
    return None if moment is None else moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(name: str, value: Any) -> ET.Element:
    node = ET.Element(name)
    if isinstance(value, dict):
        for key, item in value.items():
            node.append(_element(key, item))
    elif isinstance(value, list):
        child = ITEM_NAMES.get(name, "item")
        for item in value:
            node.append(_element(child, item))
    else:
        node.text = _text(value)
    return node


def to_xml(root: str, document: Any) -> bytes:
    return ET.tostring(_element(root, document), encoding="utf-8", xml_declaration=True)


def render(fmt: str, root: str, document: Any, *, status: int = 200) -> Response:
    """``document`` as JSON or as XML under the element ``root``."""
    if fmt == "xml":
        return Response(to_xml(root, document), status_code=status, media_type=FORMATS["xml"])
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type=FORMATS["json"])


def errors(fmt: str, status: int, descriptions: Iterable[str]) -> Response:
    """The specification's error answer: a list of ``{code, description}``."""
    return render(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status=status)


def _name(lang: str, vi: str, en: str) -> str:
    return en if lang == "en" and en else vi


def service(category: FeedbackCategory, group: FeedbackField, lang: str) -> dict[str, Any]:
    return {
        "service_code": category.service_code,
        "service_name": _name(lang, category.name_vi, category.name_en),
        "description": _name(lang, category.description_vi, category.description_en),
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.keywords,
        "group": _name(lang, group.name_vi, group.name_en),
    }


def definition(category: FeedbackCategory) -> dict[str, Any]:
    attributes = sorted(category.attributes, key=lambda a: (a.get("order", 0), a["code"]))
    return {
        "service_code": category.service_code,
        "attributes": [{
            "variable": a.get("variable", True), "code": a["code"], "datatype": a.get("datatype", "string"),
            "required": a.get("required", False), "datatype_description": a.get("datatype_description") or None,
            "order": a.get("order", 0), "description": a["description"],
            **({"values": [{"key": v["key"], "name": v["name"]} for v in a.get("values", [])]}
               if a.get("values") else {}),
        } for a in attributes],
    }


def request(item: Report, replies: list[str], lang: str) -> dict[str, Any]:
    """One service request as the public sees it."""
    case, report, category = item.case, item.report, item.category
    notes = replies[-1] if replies else (case.resolution or None)
    return {
        "service_request_id": case.code,
        "status": "open" if case.closed_at is None else "closed",
        "status_notes": redact(notes) if notes else None,
        "service_name": _name(lang, category.name_vi, category.name_en) if category else None,
        "service_code": category.service_code if category else None,
        "description": redact(case.description),
        "agency_responsible": _name(lang, item.agency.name, item.agency.name_en),
        "service_notice": None,
        "requested_datetime": iso(case.received_at),
        "updated_datetime": iso(case.updated_at),
        "expected_datetime": iso(case.deadline_at),
        "address": report.address or report.ward_name or None,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": None,
    }


def receipt(item: Report) -> dict[str, Any]:
    """The answer to ``POST requests``: the id at once (reports are created in real time)."""
    return {"service_request_id": item.case.code, "token": item.report.token, "service_notice": None,
            "account_id": None}


def token(item: Report) -> dict[str, Any]:
    return {"service_request_id": item.case.code, "token": item.report.token}


def discovery(base_url: str, changeset: datetime | None, contact: str) -> dict[str, Any]:
    stamp = iso(changeset) or "2026-01-01T00:00:00+00:00"
    return {
        "changeset": stamp,
        "contact": contact,
        "key_service": "API keys are Saola API tokens with the feedback:submit scope "
                       "(saola token create --user USER --scope feedback:submit)",
        "endpoints": [{"specification": SPECIFICATION, "url": base_url.rstrip("/") + "/open311/v2",
                       "changeset": stamp, "type": "production", "formats": ["text/xml", "application/json"]}],
    }
