"""Request and response models of the queue API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PriorityKind = Literal["", "elderly", "disabled", "pregnant", "child", "merit"]


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefix: str = Field(min_length=1, max_length=2, description="One or two capital letters: tickets A001, A002…")
    name: str = Field(min_length=1, max_length=200, description="Vietnamese name")
    name_en: str = Field("", max_length=200)
    slot_minutes: int = Field(30, ge=5, le=240, description="Length of an appointment slot")
    slot_capacity: int = Field(2, ge=0, le=100, description="Appointments per slot; 0 takes none")
    position: int = Field(0, ge=0, le=1000, description="Order on the kiosk")
    active: bool = True


class ServiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefix: str | None = Field(None, min_length=1, max_length=2)
    name: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    slot_minutes: int | None = Field(None, ge=5, le=240)
    slot_capacity: int | None = Field(None, ge=0, le=100)
    position: int | None = Field(None, ge=0, le=1000)
    active: bool | None = None


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    prefix: str
    name: str
    name_en: str
    slot_minutes: int
    slot_capacity: int
    position: int
    active: bool


class CounterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=1, le=999)
    name: str = Field("", max_length=120)
    service_ids: list[int] = Field(default_factory=list, max_length=100)


class CounterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int | None = Field(None, ge=1, le=999)
    name: str | None = Field(None, max_length=120)
    active: bool | None = None
    service_ids: list[int] | None = Field(None, max_length=100)


class CounterOut(BaseModel):
    id: int
    number: int
    name: str
    is_open: bool
    active: bool
    service_ids: list[int]
    current_ticket: str | None = None


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_id: int = Field(ge=1, le=2**31 - 1)
    priority: PriorityKind = Field("", description="Priority group served first; empty for an ordinary ticket")


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    public_id: str
    code: str
    day: date
    service_id: int
    issued_service_id: int
    priority: str
    appointment_id: int | None
    status: str
    counter_id: int | None
    target_counter_id: int | None
    issued_at: datetime
    first_called_at: datetime | None
    called_at: datetime | None
    finished_at: datetime | None
    recalls: int


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_service_id: int | None = Field(None, ge=1, le=2**31 - 1)
    to_counter_id: int | None = Field(None, ge=1, le=2**31 - 1)


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    label: str
    capacity: int
    booked: int
    free: int
    bookable: bool


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_id: int = Field(ge=1, le=2**31 - 1)
    day: date
    start: str = Field(pattern=r"^\d{2}:\d{2}$", description="Local start time of the slot, HH:MM")
    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(min_length=9, max_length=20)


class AppointmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    service_id: int
    day: date
    slot_start: datetime
    slot_end: datetime
    name: str
    phone: str
    status: str
    checked_in_at: datetime | None


class CheckInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=20)


class BoardCounter(BaseModel):
    number: int
    name: str
    is_open: bool
    ticket: str | None


class BoardCall(BaseModel):
    code: str
    counter_number: int
    called_at: datetime


class BoardWaiting(BaseModel):
    service_id: int
    prefix: str
    name: str
    name_en: str
    waiting: int


class BoardOut(BaseModel):
    day: date
    counters: list[BoardCounter]
    last_calls: list[BoardCall]
    waiting: list[BoardWaiting]
