"""Request and response models of the hotline's JSON API (``/api/v1/feedback/...``, ``/api/v1/reports``).

The extra questions of a category are Open311 service-definition attributes, validated here
once (:class:`Attribute`) so that the category API, the demo data and Open311 agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
FieldCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9_-]{2,40}$")]
ServiceCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.-]{2,60}$")]
DeadlineUnit = Literal["working_hours", "working_days", "calendar_hours", "calendar_days"]
Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
LIST_TYPES = ("singlevaluelist", "multivaluelist")


class AttributeValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    name: Text200


class Attribute(BaseModel):
    """An extra question of a category (an Open311 service definition attribute)."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,60}$")]
    variable: bool = True
    datatype: Datatype = "string"
    required: bool = False
    datatype_description: Annotated[str, StringConstraints(max_length=300)] = ""
    order: int = Field(0, ge=0, le=1000)
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    values: list[AttributeValue] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _values_match_type(self) -> Attribute:
        if self.datatype in LIST_TYPES and not self.values:
            raise ValueError(f"a {self.datatype} attribute needs at least one value")
        if self.datatype not in LIST_TYPES and self.values:
            raise ValueError("only singlevaluelist and multivaluelist attributes have values")
        keys = [v.key for v in self.values]
        if len(keys) != len(set(keys)):
            raise ValueError("the keys of the values must be different")
        return self


def _unique_codes(attributes: list[Attribute] | None) -> list[Attribute] | None:
    if attributes is not None:
        codes = [a.code for a in attributes]
        if len(codes) != len(set(codes)):
            raise ValueError("the codes of the attributes must be different")
    return attributes


class FieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: FieldCode
    name_vi: Text200
    name_en: Text200
    position: int = Field(0, ge=0, le=10_000)
    active: bool = True


class FieldUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_vi: Text200 | None = None
    name_en: Text200 | None = None
    position: int | None = Field(None, ge=0, le=10_000)
    active: bool | None = None


class FieldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_vi: str
    name_en: str
    position: int
    active: bool


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field_id: int = Field(ge=1, le=2**31 - 1)
    service_code: ServiceCode
    name_vi: Text200
    name_en: Text200
    description_vi: Annotated[str, StringConstraints(max_length=2000)] = ""
    description_en: Annotated[str, StringConstraints(max_length=2000)] = ""
    keywords: Annotated[str, StringConstraints(max_length=400)] = ""
    agency_id: int = Field(ge=1, le=2**31 - 1)
    deadline_amount: float = Field(gt=0, le=10_000, allow_inf_nan=False)
    deadline_unit: DeadlineUnit
    attributes: list[Attribute] = Field(default_factory=list, max_length=50)
    position: int = Field(0, ge=0, le=10_000)
    active: bool = True

    _codes = field_validator("attributes")(_unique_codes)


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field_id: int | None = Field(None, ge=1, le=2**31 - 1)
    name_vi: Text200 | None = None
    name_en: Text200 | None = None
    description_vi: Annotated[str, StringConstraints(max_length=2000)] | None = None
    description_en: Annotated[str, StringConstraints(max_length=2000)] | None = None
    keywords: Annotated[str, StringConstraints(max_length=400)] | None = None
    agency_id: int | None = Field(None, ge=1, le=2**31 - 1)
    deadline_amount: float | None = Field(None, gt=0, le=10_000, allow_inf_nan=False)
    deadline_unit: DeadlineUnit | None = None
    attributes: list[Attribute] | None = Field(None, max_length=50)
    position: int | None = Field(None, ge=0, le=10_000)
    active: bool | None = None

    _codes = field_validator("attributes")(_unique_codes)


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    field_id: int
    service_code: str
    name_vi: str
    name_en: str
    description_vi: str
    description_en: str
    keywords: str
    agency_id: int
    deadline_amount: float
    deadline_unit: str
    attributes: list[dict[str, Any]]
    position: int
    active: bool


class FieldTree(FieldOut):
    categories: list[CategoryOut] = Field(default_factory=list)


# --- reports ---------------------------------------------------------------------------------


class ReportIn(BaseModel):
    """A report sent by a mobile app (JSON); the same checks as every other channel follow in the service."""

    model_config = ConfigDict(extra="forbid")

    service_code: Annotated[str, StringConstraints(max_length=60)] | None = Field(
        None, description="The category's code; leave out when the reporter does not know (triage)")
    description: Annotated[str, StringConstraints(max_length=5000)]
    lat: float | None = Field(None, allow_inf_nan=False)
    long: float | None = Field(None, allow_inf_nan=False)
    address: Annotated[str, StringConstraints(max_length=300)] = ""
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    phone: Annotated[str, StringConstraints(max_length=40)] = ""
    email: Annotated[str, StringConstraints(max_length=200)] = ""
    consent: bool = Field(False, description="The reporter agrees that Saola keeps their contact details")
    attributes: dict[str, str | list[str]] = Field(default_factory=dict, max_length=50)


class ReportReceipt(BaseModel):
    tracking_code: str
    token: str
    status: str
    service_code: str | None
    agency: str
    deadline_at: datetime | None


class PublicReport(BaseModel):
    """What anyone may read of a report: no personal data."""

    tracking_code: str
    status: str
    open: bool
    service_code: str | None
    service_name: str | None
    description: str
    agency: str
    ward_code: str | None
    ward_name: str
    address: str
    lat: float | None
    long: float | None
    requested_at: datetime
    updated_at: datetime
    expected_at: datetime | None
    public_replies: list[str]


class ReporterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    phone: str
    email: str
    consent: bool


class StaffReport(PublicReport):
    """A report as staff handling it see it: the case id, the classifier's guess, the reporter."""

    case_id: int
    channel: str
    suggested_service_code: str | None
    suggestion_confidence: float | None
    reporter: ReporterOut | None
