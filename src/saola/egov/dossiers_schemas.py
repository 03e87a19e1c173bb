"""Request and response models of the dossiers API (``/api/v1/dossiers``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["received", "supplement_requested", "in_processing", "extended", "result_ready", "returned",
                 "refused", "stopped"]


class DossierIn(BaseModel):
    """A dossier received at the counter (the caller is a clerk of the receiving centre)."""

    model_config = ConfigDict(extra="forbid")

    procedure_code: str = Field(min_length=1, max_length=30)
    applicant_name: str = Field(min_length=1, max_length=200)
    applicant_id_number: str = Field("", max_length=20, pattern=r"^[0-9A-Za-z]*$")
    applicant_phone: str = Field("", max_length=20, pattern=r"^[0-9+ ().-]*$")
    applicant_email: str = Field("", max_length=200)
    applicant_address: str = Field("", max_length=300)


class TransitionIn(BaseModel):
    """A move of the dossier; ``new_appointment`` (a date) is required for an extension (form 04)."""

    model_config = ConfigDict(extra="forbid")

    to: Status
    reason: str = Field("", max_length=2000)
    new_appointment: date | None = Field(None, description="Extension: the new appointment day (result by 17:00)")


class DossierOut(BaseModel):
    """A dossier as staff see it (personal data included: staff of the centre and the processing agency only)."""

    id: int
    code: str
    procedure_code: str
    procedure_name: str
    channel: str
    status: str
    agency_id: int
    receiving_agency_id: int
    applicant_name: str
    applicant_phone: str
    received_at: datetime
    appointment_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    open_status: str | None = Field(description="within | due_soon | overdue | paused; null once closed")
    apology_at: datetime | None
    needs_apology: bool = Field(description="Overdue without an apology letter (form 04)")


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    actor_name: str
    from_status: str | None
    to_status: str | None
    reason: str


class DossierDetail(DossierOut):
    timeline: list[EventOut]


class PublicDossier(BaseModel):
    """What the public lookup shows: no personal data."""

    code: str
    procedure_code: str
    procedure_name: str
    status: str
    received_at: datetime
    appointment_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
