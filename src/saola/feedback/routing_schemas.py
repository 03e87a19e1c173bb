"""Request and response models of the routing rules' API (``/api/v1/feedback/routing-rules``).

Rules are written with codes people know (the category's ``service_code``, the field's code,
official ward codes, the agency's code); the answers carry both the codes and the ids.
Whether the codes exist is checked by :mod:`saola.feedback.routing` (422 ``invalid-routing-rule``).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
WardCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5}$")]
Weekday = Annotated[int, Field(ge=1, le=7, description="ISO weekday: 1 = Monday … 7 = Sunday")]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class RoutingRuleIn(BaseModel):
    """A new rule: conditions left out match anything; ``time_to`` before ``time_from`` runs across midnight."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    active: bool = True
    position: Id | None = Field(None, description="1 = tried first; left out: after the existing rules")
    service_code: Code | None = Field(None, description="Only reports of this category")
    field_code: Code | None = Field(None, description="Only reports of categories of this field")
    ward_codes: list[WardCode] = Field(default_factory=list, max_length=200,
                                       description="Only reports located in these wards (official codes)")
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7, description="Only on these days")
    time_from: time | None = Field(None, description="Local time (Asia/Ho_Chi_Minh) the window opens")
    time_to: time | None = Field(None, description="Local time the window closes (before time_from: next day)")
    agency_code: Code | None = Field(None, description="The agency that receives the reports (or agency_id)")
    agency_id: Id | None = None


class RoutingRuleUpdate(BaseModel):
    """Fields to change; ``null`` removes a condition."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    active: bool | None = None
    position: Id | None = None
    service_code: Code | None = None
    field_code: Code | None = None
    ward_codes: list[WardCode] | None = Field(None, max_length=200)
    weekdays: list[Weekday] | None = Field(None, max_length=7)
    time_from: time | None = None
    time_to: time | None = None
    agency_code: Code | None = None
    agency_id: Id | None = None


class RoutingRuleOut(BaseModel):
    id: int
    position: int
    name: str
    active: bool
    service_code: str | None
    field_code: str | None
    ward_codes: list[str]
    weekdays: list[int]
    time_from: time | None
    time_to: time | None
    agency_id: int
    agency_code: str
    agency_name: str
    updated_at: datetime


class ReorderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(max_length=1000, description="Every rule's id, in the new order")


class RuleRef(BaseModel):
    id: int
    name: str


class RoutingAnswer(BaseModel):
    """Which agency a report would go to, and why."""

    agency_id: int
    agency_code: str
    agency_name: str
    rule: RuleRef | None = Field(None, description="The rule that decided; null: the category's (or triage) agency")
    triage: bool = Field(False, description="No category: the report would wait in the triage queue")
    ward_code: str | None
    ward_name: str
    local_time: datetime = Field(description="The moment asked about, in local time (Asia/Ho_Chi_Minh)")
    passed_over: list[str] = Field(default_factory=list,
                                   description="Matching rules skipped because their agency is inactive")
