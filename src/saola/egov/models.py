"""Tables of the one-stop shop: the procedures catalogue, dossiers and the applicants' ratings.

A dossier is a case of the shared engine (workflow ``admin_dossier``): status, owner agency,
deadline, history and outcome live in ``cases``; :class:`Dossier` adds what only a dossier has —
its procedure, the applicant's personal data (never published), the receiving centre, the
appointment date printed on the slip (form 01) and the apology letter (form 04) if one was sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow

LEVELS = ("province", "commune", "district", "central")
DAY_KINDS = ("working", "calendar")
ONLINE_LEVELS = ("none", "partial", "full")
SUPPLEMENT_CLOCKS = ("pause", "restart")
CHANNELS = ("counter", "online")


class Procedure(Base):
    """An administrative procedure of the catalogue (thủ tục hành chính), by its national code.

    ``steps`` is a list of ``{"agency": code, "days": n, "title": text}`` (who handles each step
    and its time budget); ``documents`` the list of required documents. ``fee`` is in VND, ``None``
    when not recorded. ``supplement_clock`` says whether a supplement request pauses the clock or
    restarts it when the applicant supplements.
    """

    __tablename__ = "egov_procedures"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_vi: Mapped[str] = mapped_column(String(600))
    name_en: Mapped[str] = mapped_column(String(600), default="")
    field: Mapped[str] = mapped_column(String(200), default="", index=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    processing_days: Mapped[int] = mapped_column(Integer)
    day_kind: Mapped[str] = mapped_column(String(10), default="working")
    fee: Mapped[int | None] = mapped_column(Integer, default=None)
    online_level: Mapped[str] = mapped_column(String(10), default="partial")
    supplement_clock: Mapped[str] = mapped_column(String(10), default="pause")
    extension_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    legal_basis: Mapped[str] = mapped_column(String(200), default="")
    source_url: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Dossier(Base):
    """One dossier (hồ sơ) of a procedure: the case it is, the applicant, the receiving centre.

    ``pin`` is the short secret printed on the slip (and in its QR link) that lets the applicant
    rate the service; looking a dossier up needs only its code and shows no personal data.
    """

    __tablename__ = "egov_dossiers"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("egov_procedures.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    receiving_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_id_number: Mapped[str] = mapped_column(String(20), default="")
    applicant_phone: Mapped[str] = mapped_column(String(20), default="")
    applicant_email: Mapped[str] = mapped_column(String(200), default="")
    applicant_address: Mapped[str] = mapped_column(String(300), default="")
    pin: Mapped[str] = mapped_column(String(12))
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    apology_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DossierRating(Base):
    """The applicant's rating after the result was returned (criteria of Decision 766/QĐ-TTg).

    ``timeliness`` and ``attitude`` are 1 (very dissatisfied) to 5 (very satisfied); ``visits`` is
    how many times the applicant had to come to the centre for this dossier.
    """

    __tablename__ = "egov_ratings"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("egov_dossiers.id", ondelete="CASCADE"), unique=True)
    timeliness: Mapped[int] = mapped_column(Integer)
    attitude: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
