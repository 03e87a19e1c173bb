"""Request and response models of the procedures catalogue (``/api/v1/procedures``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["province", "commune", "district", "central"]
DayKind = Literal["working", "calendar"]
OnlineLevel = Literal["none", "partial", "full"]
SupplementClock = Literal["pause", "restart"]


class Step(BaseModel):
    """One processing step: the agency (by code) that handles it and its time budget."""

    model_config = ConfigDict(extra="forbid")

    agency: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    days: int = Field(ge=0, le=3650)
    title: str = Field("", max_length=200)


class ProcedureIn(BaseModel):
    """A procedure as created, imported or replaced (a full record)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=30, pattern=r"^[0-9A-Za-z._-]+$",
                      description="National procedure code, e.g. 1.001193")
    name_vi: str = Field(min_length=1, max_length=600)
    name_en: str = Field("", max_length=600)
    field: str = Field("", max_length=200)
    level: Level
    processing_days: int = Field(ge=0, le=3650, description="Legal processing time")
    day_kind: DayKind = Field("working", description="Whether the time counts working or calendar days")
    fee: int | None = Field(None, ge=0, le=1_000_000_000, description="Fee in VND; null when not recorded")
    online_level: OnlineLevel = "partial"
    supplement_clock: SupplementClock = Field("pause", description="A supplement request pauses or restarts the clock")
    extension_allowed: bool = True
    documents: list[str] = Field(default_factory=list, max_length=50)
    steps: list[Step] = Field(default_factory=list, max_length=20)
    legal_basis: str = Field("", max_length=200)
    source_url: str = Field("", max_length=300, pattern=r"^(https?://\S+)?$", description="Where it is published")
    active: bool = True


class ProcedureOut(ProcedureIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int


class ImportReport(BaseModel):
    created: int
    updated: int


class ProcedureForm(BaseModel):
    """The console's edit form, as typed: text cells in the CSV formats, checked by ``procedures.from_form``."""

    code: str = Field(max_length=30)
    name_vi: str = Field(max_length=600)
    name_en: str = Field("", max_length=600)
    field: str = Field("", max_length=200)
    level: str = Field(max_length=20)
    processing_days: str = Field(max_length=10)
    day_kind: str = Field("working", max_length=10)
    fee: str = Field("", max_length=15)
    online_level: str = Field("partial", max_length=10)
    supplement_clock: str = Field("pause", max_length=10)
    extension_allowed: str = Field("", max_length=5)
    documents: str = Field("", max_length=20000)
    steps: str = Field("", max_length=5000)
    legal_basis: str = Field("", max_length=200)
    source_url: str = Field("", max_length=300)
    active: str = Field("", max_length=5)
