"""Request and response bodies of the directory API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PHONE_PATTERN = r"^[0-9+ ().-]*$"


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
    phone: str = Field("", max_length=40, pattern=PHONE_PATTERN)
    email: str = Field("", max_length=200)
    on_duty: bool = False
    note: str = Field("", max_length=2000)


class ContactUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=120)
    position: str | None = Field(None, max_length=120)
    phone: str | None = Field(None, max_length=40, pattern=PHONE_PATTERN)
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


class ResolvedAddress(BaseModel):
    """The current ward (and province) of an address written the old way or the new way."""

    address: str = Field(description="The address as read (spaces tidied)")
    matched_edition: Literal["2025", "legacy"] = Field(
        description="'legacy' when the address names a former ward and district (before 1 July 2025), else '2025'"
    )
    ward: UnitOut = Field(description="The current ward/commune (for a split former ward: the one taking most of it)")
    province: UnitOut = Field(description="The current province of that ward")
    former: UnitOut | None = Field(None, description="The former ward (or island district) the address names")
    other_wards: list[UnitOut] = Field(default_factory=list,
                                       description="Other current wards that took part of the former ward")
    street: str | None = Field(None, description="What precedes the ward (house number, street), if anything")


class ContactForm(BaseModel):
    """A contact as posted by the console form (same rules as the API; the CSRF field is ignored)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    agency_id: int | None = None
    name: str = Field(min_length=1, max_length=120)
    position: str = Field("", max_length=120)
    phone: str = Field("", max_length=40, pattern=PHONE_PATTERN)
    email: str = Field("", max_length=200)
    on_duty: bool = False
    note: str = Field("", max_length=2000)

    def contact_fields(self) -> dict[str, object]:
        """The contact's own fields (without ``agency_id``)."""
        return self.model_dump(exclude={"agency_id"})
