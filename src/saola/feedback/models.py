"""Tables of the 1022 hotline: the category tree, the reports and their reporters.

A report is a case of the shared engine (workflow ``feedback_report``): status, owner agency,
deadline, history, replies and attachments live in ``cases``. :class:`FeedbackReport` adds what
only a report has and may be shown to the public (channel, category, location, ward, the
classifier's suggestion); :class:`FeedbackReporter` holds the reporter's personal data, kept in
its own table and shown only to staff handling the case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow

CHANNELS = ("web", "phone", "sms", "chat", "email", "app", "open311")
DEADLINE_UNITS = ("working_hours", "working_days", "calendar_hours", "calendar_days")


class FeedbackField(Base):
    """The first level of the category tree (lĩnh vực): traffic, environment and sanitation..."""

    __tablename__ = "feedback_fields"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FeedbackCategory(Base):
    """A category of reports: its responsible agency, its deadline and its Open311 service definition.

    ``service_code`` is the Open311 ``service_code``; ``attributes`` are the extra questions
    (Open311 service definition attributes: ``code``, ``datatype``, ``required``, ``values``...).
    The deadline is ``deadline_amount`` of ``deadline_unit`` (working or calendar hours or days).
    """

    __tablename__ = "feedback_categories"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("feedback_fields.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(String(400), default="")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    deadline_amount: Mapped[float] = mapped_column(Float)
    deadline_unit: Mapped[str] = mapped_column(String(20))
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FeedbackReport(Base):
    """What a citizen report adds to its case; everything here may be published (no personal data).

    ``token`` answers Open311 ``tokens/{id}``; ``suggested_category_id`` and
    ``suggestion_confidence`` are the classifier's guess for a report filed without a category.
    """

    __tablename__ = "feedback_reports"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(20), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_categories.id"), index=True, default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    address: Mapped[str] = mapped_column(String(300), default="")
    ward_code: Mapped[str | None] = mapped_column(String(10), index=True, default=None)
    ward_name: Mapped[str] = mapped_column(String(160), default="")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    suggested_category_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_categories.id"), default=None)
    suggestion_confidence: Mapped[float | None] = mapped_column(Float, default=None)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The open report this one was merged into (its reporter is told of that report's changes).
    merged_into_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True, default=None)
    # When the reporter's personal data was erased after the retention period (saola.feedback.retention).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class FeedbackReporter(Base):
    """The reporter's personal data, apart from the report; only staff handling the case see it.

    The audit log records that a reporter was stored or changed, never the personal data itself.
    """

    __tablename__ = "feedback_reporters"
    __audited__ = True
    __audit_exclude__ = frozenset({"name", "phone", "email", "device_id", "account_id"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("feedback_reports.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="", index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    device_id: Mapped[str] = mapped_column(String(200), default="")
    account_id: Mapped[str] = mapped_column(String(200), default="")
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
