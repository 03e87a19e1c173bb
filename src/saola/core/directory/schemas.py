"""Request and response bodies of the directory API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_en: str
    kind: str
    unit_code: str | None
    email: str
    phone: str
    active: bool


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    edition: str
    code: str
    level: str
    name: str
    full_name: str
    name_en: str
    unit_type: str
    parent_code: str | None
    province_code: str


class UnitPage(BaseModel):
    total: int
    items: list[UnitOut]


class SuccessorOut(UnitOut):
    is_default: bool = Field(description="The ward that most of the former ward went to")


class UnitHistory(BaseModel):
    unit: UnitOut
    successors: list[SuccessorOut] = Field(default_factory=list, description="For a former ward")
    predecessors: list[UnitOut] = Field(default_factory=list, description="For a current ward")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_id: int
    name: str = Field(min_length=1, max_length=120)
    position: str = Field("", max_length=120)
    phone: str = Field("", max_length=40, pattern=r"^[0-9+ ().-]*$")
    email: str = Field("", max_length=200)
    on_duty: bool = False
    note: str = Field("", max_length=2000)


class ContactUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=120)
    position: str | None = Field(None, max_length=120)
    phone: str | None = Field(None, max_length=40, pattern=r"^[0-9+ ().-]*$")
    email: str | None = Field(None, max_length=200)
    on_duty: bool | None = None
    note: str | None = Field(None, max_length=2000)


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agency_id: int
    name: str
    position: str
    phone: str
    email: str
    on_duty: bool
    note: str
    created_at: datetime
    updated_at: datetime
