"""What a new incident would look like when opened from an alert or a citizen report (form prefill, rule).

Read through the owners' service functions only: :func:`saola.rules.alerts.get_alert`,
:func:`saola.feedback.reports.get_public` and :func:`saola.context.entities.retrieve_entity`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from saola.core.errors import DomainError
from saola.ioc.incident_types import SEVERITIES, get_type

_WARD = re.compile(r"^\d{5}$")
REF_WARD_SUFFIXES = ("/refWard", "#refWard")
# The hotline's fields and categories whose reports usually mean an incident of this type.
REPORT_HINTS = (("ngap", "flood"), ("flood", "flood"), ("mat-dien", "power_outage"), ("power", "power_outage"),
                ("den", "lighting_failure"), ("light", "lighting_failure"), ("lamp", "lighting_failure"),
                ("tai-nan", "traffic_accident"), ("accident", "traffic_accident"), ("chay", "fire"),
                ("fire", "fire"), ("khong-khi", "air_pollution"), ("air", "air_pollution"))


@dataclass
class Draft:
    incident_type: str = "other"
    title: str = ""
    severity: str = "minor"
    description: str = ""
    ward_code: str | None = None
    owner_agency: str | None = None
    location: dict[str, Any] | None = None
    address: str = ""
    alert_ids: list[int] = field(default_factory=list)
    report_codes: list[str] = field(default_factory=list)
    entity_ids: list[str] = field(default_factory=list)


def ward_of_entity(session: Session, entity_id: str, tenant: str = "") -> str | None:
    """The 5-digit ward code in the entity's ``refWard`` property, if it has one."""
    from saola.context.entities import retrieve_entity
    from saola.context.errors import NgsiLdError

    try:
        stored = retrieve_entity(session, tenant=tenant, entity_id=entity_id)
    except NgsiLdError:
        return None
    for key, instances in stored.items():
        if key.endswith(REF_WARD_SUFFIXES) and isinstance(instances, list) and instances:
            value = instances[0].get("value", instances[0].get("object")) if isinstance(instances[0], dict) else None
            text = str(value).rsplit(":", 1)[-1] if value is not None else ""
            if _WARD.match(text):
                return text
    return None


def draft_from_alert(session: Session, *, alert_id: int) -> Draft:
    """An incident about the alert: its type (the rule's ``open_incident``), title, severity, place and subject."""
    from saola.rules import alerts

    alert = alerts.get_alert(session, alert_id=alert_id)
    subject = alert.subject or ""
    ward = subject.removeprefix("area:") if subject.startswith("area:") else None
    entities = [] if subject.startswith("area:") or ":" not in subject else [subject]
    if entities:
        ward = ward_of_entity(session, subject, alert.tenant or "")
    kind = alert.incident_type if alert.incident_type and get_type(alert.incident_type) else "other"
    return Draft(incident_type=kind, title=(alert.title_vi or alert.title_en or subject)[:300],
                 severity=alert.severity if alert.severity in SEVERITIES else "major",
                 description=alert.title_en if alert.title_en and alert.title_en != alert.title_vi else "",
                 ward_code=ward if ward and _WARD.match(ward) else None, owner_agency=alert.owner_agency,
                 location=alert.location if isinstance(alert.location, dict) else None, alert_ids=[alert.id],
                 entity_ids=entities)


def _type_of_report(*codes: str) -> str:
    for code in codes:
        lowered = code.lower()
        for hint, kind in REPORT_HINTS:
            if hint in lowered:
                return kind
    return "other"


def draft_from_report(session: Session, *, tracking_code: str) -> Draft:
    """An incident about the citizen report: its title, place, ward and handling agency."""
    from saola.feedback import reports

    report = reports.get_public(session, tracking_code=tracking_code)
    row, case = report.report, report.case
    location = {"type": "Point", "coordinates": [row.lon, row.lat]} if row.lat is not None and row.lon is not None \
        else None
    kind = _type_of_report(report.category.service_code if report.category else "")
    found = get_type(kind)
    return Draft(incident_type=kind, title=case.title[:300], severity=found.default_severity if found else "minor",
                 description=case.description, ward_code=row.ward_code, owner_agency=report.agency.code,
                 location=location, address=row.address, report_codes=[case.code])


def safe_draft(session: Session, *, alert_id: int | None = None, tracking_code: str | None = None) -> Draft | None:
    """The draft for a form, or None when the alert or report does not exist."""
    try:
        if alert_id is not None:
            return draft_from_alert(session, alert_id=alert_id)
        if tracking_code:
            return draft_from_report(session, tracking_code=tracking_code)
    except DomainError:
        return None
    return None
