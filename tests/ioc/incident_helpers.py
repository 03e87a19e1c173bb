"""Helpers of the incident tests: real alerts (through the alerts service), real citizen reports (through the
hotline's API), real entities (through the NGSI-LD API), and reading the PDF's document information."""

from __future__ import annotations

import re
from typing import Any

from saola.core.db import unit_of_work, utcnow
from saola.rules import alerts

POINT = {"type": "Point", "coordinates": [106.0502, 21.1999]}  # Phường Kinh Bắc, Bắc Ninh
LAMP = "urn:ngsi-ld:Streetlight:bn-09187-0001"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def raise_alert(app, *, rule_id: int = 7, subject: str = LAMP, severity: str = "major",
                incident_type: str | None = "lighting_failure", owner_agency: str | None = "SXD",
                title_vi: str = "Đèn đường tắt", title_en: str = "Street lamp off",
                ) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    """An alert raised by the alerts service as the rule engine would; its id and the events to publish."""
    published: list[tuple[str, dict[str, Any]]] = []
    with unit_of_work(app.state.session_factory, events=published) as session:
        alert = alerts.raise_alert(
            session, rule_id=rule_id, rule_version=1, tenant="", subject=subject, entity_type="Streetlight",
            severity=severity, title_vi=title_vi, title_en=title_en, value="off", details={}, at=utcnow(),
            owner_agency=owner_agency, location=POINT, incident_type=incident_type)
        alert_id = alert.id
    return alert_id, published


def create_report(client, secret: str) -> str:
    """A citizen report filed through the hotline's API; its tracking code."""
    created = client.post("/api/v1/reports", headers=bearer(secret), json={
        "description": "Nước ngập sâu 40cm trước chợ, xe máy chết máy", "lat": 21.199973, "long": 106.050204})
    assert created.status_code == 201, created.text
    return created.json()["tracking_code"]


def create_entity(client, secret: str, entity_id: str = LAMP, name: str = "Đèn số 1 đường Kinh Dương Vương") -> str:
    body = {"id": entity_id, "type": "Streetlight", "name": {"type": "Property", "value": name},
            "refWard": {"type": "Property", "value": "09187"},
            "location": {"type": "GeoProperty", "value": POINT}}
    created = client.post("/ngsi-ld/v1/entities", headers=bearer(secret), json=body)
    assert created.status_code == 201, created.text
    return entity_id


def pdf_info(data: bytes, key: str) -> str:
    """A document-information string of a PDF written by fpdf2 (literal or UTF-16 hex)."""
    found = re.search(rb"/" + key.encode() + rb"\s*(<([0-9A-Fa-f]+)>|\(((?:\\.|[^\\)])*)\))", data)
    assert found, f"no /{key} in the PDF"
    if found.group(2):
        raw = bytes.fromhex(found.group(2).decode())
        return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
    text = found.group(3)
    if text.startswith(b"\xfe\xff"):
        return text[2:].decode("utf-16-be")
    return text.decode("latin-1")
