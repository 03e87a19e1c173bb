"""Request and response models of ``/api/v1/incidents``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from saola.ioc.incident_models import Incident
from saola.ioc.incidents import IncidentDetails

Severity = Literal["critical", "major", "minor", "warning", "info"]
Status = Literal["open", "dispatched", "in_progress", "resolved", "closed"]
UnitKind = Literal["fire", "ambulance", "traffic_police", "police", "electricity", "public_works", "rescue",
                   "environment", "other"]


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_type: str = Field(max_length=40, examples=["flood"])
    title: str = Field(min_length=1, max_length=300)
    severity: Severity
    description: str = Field("", max_length=10_000)
    location: dict[str, Any] | None = Field(None, description="A GeoJSON geometry ([longitude, latitude])")
    ward_code: str | None = Field(None, max_length=10)
    address: str = Field("", max_length=300)
    owner_agency: str | None = Field(None, max_length=40, description="The owner agency's code (default: yours)")
    alert_ids: list[int] = Field(default_factory=list, max_length=100)
    report_codes: list[str] = Field(default_factory=list, max_length=100)
    entity_ids: list[str] = Field(default_factory=list, max_length=100)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Status
    reason: str = Field("", max_length=2000)
    resolution: str | None = Field(None, max_length=10_000, description="Required to resolve or close")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind
    note: str = Field("", max_length=2000)


class UnitMoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["arrived", "released"]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["alert", "report", "entity"]
    ref: str = Field(min_length=1, max_length=500, description="Alert id, report tracking code or NGSI-LD entity id")


class ChecklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=60)
    done: bool = True


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    incident_type: str
    title: str
    description: str
    severity: str
    status: str
    agency_id: int | None
    ward_code: str | None
    location: dict[str, Any] | None
    address: str
    source_alert_id: int | None
    resolution: str
    created_by_name: str
    opened_at: datetime
    dispatched_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_name: str
    kind: str
    from_status: str | None
    to_status: str | None
    text: str
    data: dict[str, Any]


class LinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    ref: str
    label: str
    created_at: datetime
    created_by_name: str


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    note: str
    dispatched_at: datetime
    arrived_at: datetime | None
    released_at: datetime | None


class ChecklistItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    position: int
    text_vi: str
    text_en: str
    done_at: datetime | None
    done_by_name: str


class IncidentDetail(IncidentOut):
    agency_code: str | None
    timeline: list[EventOut]
    links: list[LinkOut]
    units: list[UnitOut]
    checklist: list[ChecklistItemOut]
    allowed_moves: list[str]


def incident_out(incident: Incident) -> IncidentOut:
    return IncidentOut.model_validate(incident)


def detail_out(d: IncidentDetails, moves: list[str]) -> IncidentDetail:
    return IncidentDetail(
        **IncidentOut.model_validate(d.incident).model_dump(), agency_code=d.agency.code if d.agency else None,
        timeline=[EventOut.model_validate(e) for e in d.events], links=[LinkOut.model_validate(x) for x in d.links],
        units=[UnitOut.model_validate(u) for u in d.units],
        checklist=[ChecklistItemOut.model_validate(c) for c in d.checklist], allowed_moves=moves)
