"""Response bodies of the calendar API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AddOut(BaseModel):
    date: dt.date = Field(description="The N-th working day after the given date")


class CountOut(BaseModel):
    working_days: int = Field(description="Working days after the start date, up to and including the end date")


class CalendarDayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    date: dt.date
    kind: Literal["holiday", "day-off", "working-day"] = Field(
        description="holiday: a paid holiday of the Labour Code; day-off: compensatory, swapped or extra day off; "
        "working-day: a Saturday or Sunday worked in exchange"
    )
    occasion: str
    name_vi: str
    name_en: str
    source: Literal["statute", "notice"]
    estimated: bool = Field(description="Computed for a year whose notices are not all published yet")
    notices: list[str] = Field(description="Ids of the notices it comes from")


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Literal["official", "press", "statute"]
    number: str | None
    issued: dt.date | None
    issuer: str | None
    title_vi: str
    title_en: str
    urls: list[str]
    note: str


class HolidaysOut(BaseModel):
    year: int
    official: bool = Field(description="Every decision of the year is published and entered")
    days: list[CalendarDayOut]
    notices: list[NoticeOut]
