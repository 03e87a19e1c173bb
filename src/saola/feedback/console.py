"""What the staff console of the 1022 hotline reads and does: searching reports, the moves a user may make,
notes, photos, the caller's earlier reports and open reports near a point.

No HTTP here (the console pages and the JSON API call these functions). Visibility is the case
engine's: a user sees only their own agency's reports unless they hold ``agencies:all``. Who
*handles* a report — and so sees its reporter and photos and may write on it — is decided once,
by :func:`handles`: ``feedback:write`` and the owning agency (or every agency).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.actors import role_of
from saola.cases.deadlines import status_of_open, working_day_length
from saola.cases.models import Case, CaseAttachment, CaseEvent, CaseNote
from saola.cases.workflow import (
    ASSIGNEE_REQUIRED,
    REASON_REQUIRED,
    RESOLUTION_REQUIRED,
    TARGET_AGENCY_REQUIRED,
    get_workflow,
)
from saola.core.auth.models import User
from saola.core.calendar import WorkingCalendar
from saola.core.errors import PermissionDenied
from saola.core.scoping import scope_to_agency
from saola.core.settings import Settings
from saola.feedback import categories as catalogue
from saola.feedback import duplicates, reports
from saola.feedback.errors import ReportNotFound
from saola.feedback.models import FeedbackCategory, FeedbackField, FeedbackReport, FeedbackReporter
from saola.feedback.reports import CASE_TYPE, Report

NEEDS_TRIAGE = "none"  # the category filter's value for reports still waiting for a category
DUE_FILTERS = ("overdue", "due_soon")
MIN_PHONE_DIGITS = 9
NEARBY_LIMIT = 5


@dataclass
class ReportFilter:
    """The filters of the console's report list; empty values filter nothing."""

    status: str = ""
    field: str = ""
    category: str = ""  # a service code, or NEEDS_TRIAGE
    channel: str = ""
    ward: str = ""
    due: str = ""  # "overdue" | "due_soon"
    q: str = ""
    start: date | None = None
    end: date | None = None


@dataclass
class Move:
    """A status the user may move a report to, and what the form must ask for it."""

    to: str
    reason: bool = False
    resolution: bool = False
    assignee: bool = False
    agency: bool = False


@dataclass
class Page:
    items: list[Report]
    total: int
    extra: dict[str, Any] = field(default_factory=dict)


def handles(actor: Any, case: Case) -> bool:
    """Whether ``actor`` handles the report of ``case`` (sees its reporter and photos, writes on it)."""
    return bool(actor.can("feedback:write")) and (actor.sees_all_agencies() or actor.agency_id == case.agency_id)


def open_status(case: Case, now: datetime, calendar: WorkingCalendar) -> str | None:
    """``within`` | ``due_soon`` | ``overdue`` for an open report; ``None`` once finished (see its outcome)."""
    if case.closed_at is not None:
        return None
    return status_of_open(now, case.deadline_at, calendar)


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _filtered(stmt: Select[Any], f: ReportFilter, now: datetime, calendar: WorkingCalendar) -> Select[Any]:
    if f.status:
        stmt = stmt.where(Case.status == f.status)
    if f.category == NEEDS_TRIAGE:
        stmt = stmt.where(FeedbackReport.category_id.is_(None))
    elif f.category:
        stmt = stmt.where(FeedbackReport.category_id.in_(
            select(FeedbackCategory.id).where(FeedbackCategory.service_code == f.category)))
    if f.field:
        stmt = stmt.where(FeedbackReport.category_id.in_(
            select(FeedbackCategory.id).join(FeedbackField, FeedbackField.id == FeedbackCategory.field_id)
            .where(FeedbackField.code == f.field)))
    if f.channel:
        stmt = stmt.where(FeedbackReport.channel == f.channel)
    if f.ward:
        stmt = stmt.where(FeedbackReport.ward_code == f.ward)
    if f.due == "overdue":
        stmt = stmt.where(Case.closed_at.is_(None), Case.deadline_at < now)
    elif f.due == "due_soon":
        soon = calendar.add_working_hours(now, working_day_length(calendar).total_seconds() / 3600)
        stmt = stmt.where(Case.closed_at.is_(None), Case.deadline_at >= now, Case.deadline_at <= soon)
    if f.q.strip():
        pattern = _like(f.q.strip())
        stmt = stmt.where(or_(Case.code.ilike(pattern, escape="\\"), Case.description.ilike(pattern, escape="\\")))
    if f.start is not None:
        stmt = stmt.where(Case.received_at >= datetime.combine(f.start, time(), tzinfo=calendar.tz))
    if f.end is not None:
        stmt = stmt.where(Case.received_at < datetime.combine(f.end + timedelta(days=1), time(), tzinfo=calendar.tz))
    return stmt


def search(session: Session, *, actor: Any, filters: ReportFilter, now: datetime, calendar: WorkingCalendar,
           limit: int = 50, offset: int = 0) -> Page:
    """The reports the actor sees that match ``filters`` and how many: the open ones first, nearest deadline first
    (none last), then the finished ones."""
    base = scope_to_agency(select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id),
                           Case.agency_id, actor).where(Case.case_type == CASE_TYPE)
    stmt = _filtered(base, filters, now, calendar)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    order = (Case.closed_at.is_not(None), Case.deadline_at.is_(None), Case.deadline_at, Case.received_at.desc(),
             Case.id.desc())
    rows = session.execute(stmt.order_by(*order).limit(min(max(limit, 1), 500)).offset(max(offset, 0)))
    return Page(items=reports.load_public(session, [(r, c) for r, c in rows]), total=int(total))


def wards(session: Session, *, actor: Any) -> list[tuple[str, str]]:
    """``(code, name)`` of the wards of the reports the actor sees, by name."""
    stmt = scope_to_agency(select(FeedbackReport.ward_code, FeedbackReport.ward_name)
                           .join(Case, Case.id == FeedbackReport.case_id), Case.agency_id, actor)
    stmt = stmt.where(FeedbackReport.ward_code.is_not(None)).distinct()
    return sorted(((str(c), str(n)) for c, n in session.execute(stmt)), key=lambda w: (w[1], w[0]))


def category_tree(session: Session) -> list[tuple[FeedbackField, list[FeedbackCategory]]]:
    """The active fields with their active categories (for pickers), empty fields left out."""
    categories = catalogue.list_categories(session, active_only=True)
    fields = catalogue.list_fields(session, active_only=True)
    tree = [(f, [c for c in categories if c.field_id == f.id]) for f in fields]
    return [(f, cs) for f, cs in tree if cs]


def triage_queue(session: Session, *, actor: Any, limit: int = 100, offset: int = 0) -> list[Report]:
    """Reports waiting for a category (status ``received``) the actor sees, oldest first."""
    stmt = scope_to_agency(select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id),
                           Case.agency_id, actor)
    stmt = (stmt.where(Case.case_type == CASE_TYPE, Case.status == "received")
            .order_by(Case.received_at, Case.id).limit(min(max(limit, 1), 500)).offset(max(offset, 0)))
    return reports.load_public(session, [(r, c) for r, c in session.execute(stmt)])


# --- one report ---------------------------------------------------------------------------------


def allowed_moves(item: Report, actor: Any) -> list[Move]:
    """The moves the actor could make now (the engine still checks the guards), with the fields each needs.

    A report waiting for triage is given its category instead (:func:`saola.feedback.triage.categorise`).
    """
    if not handles(actor, item.case):
        return []
    out = []
    for to, rule in get_workflow(CASE_TYPE).moves_from(item.case.status).items():
        if role_of(actor) not in rule.roles or (item.case.status == "received" and to == "triaged"):
            continue
        out.append(Move(to=to, reason=REASON_REQUIRED in rule.guards, resolution=RESOLUTION_REQUIRED in rule.guards,
                        assignee=ASSIGNEE_REQUIRED in rule.guards, agency=TARGET_AGENCY_REQUIRED in rule.guards))
    return out


def assignees(session: Session, *, agency_id: int) -> list[User]:
    """The active users of an agency a report of it can be given to."""
    return list(session.scalars(select(User).where(User.agency_id == agency_id, User.active.is_(True))
                                .order_by(User.full_name, User.username)))


def timeline(session: Session, *, case_id: int, actor: Any) -> list[CaseEvent]:
    return cases.history(session, case_id=case_id, actor=actor)


def notes(session: Session, *, case_id: int, actor: Any) -> list[CaseNote]:
    """Every note of the report, internal and public, oldest first (staff who see the report)."""
    return cases.notes(session, case_id=case_id, actor=actor)


def visible(session: Session, *, case_id: int, actor: Any) -> bool:
    """Whether the actor sees the report (after a triage it may have gone to another agency)."""
    case = session.get(Case, case_id)
    return case is not None and (actor.sees_all_agencies() or case.agency_id == actor.agency_id)


def _handled(session: Session, *, case_id: int, actor: Any) -> Report:
    item = reports.get_for_staff(session, case_id=case_id, actor=actor)
    if not handles(actor, item.case):
        raise PermissionDenied("Only staff handling the report may do this")
    return item


def add_note(session: Session, *, case_id: int, actor: Any, text: str, public: bool, now: datetime) -> CaseNote:
    """An internal note, or with ``public`` a reply the citizen sees; only staff handling the report."""
    _handled(session, case_id=case_id, actor=actor)
    return cases.add_note(session, case_id=case_id, actor=actor, text=text, public=public, now=now)


def attachments(session: Session, *, case_id: int) -> list[CaseAttachment]:
    return list(session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case_id)
                                .order_by(CaseAttachment.id)))


def get_attachment(session: Session, *, case_id: int, attachment_id: int, actor: Any) -> CaseAttachment:
    """A photo or document of a report, for staff handling it only."""
    _handled(session, case_id=case_id, actor=actor)
    found = session.get(CaseAttachment, attachment_id)
    if found is None or found.case_id != case_id:
        raise ReportNotFound("No such file on this report")
    return found


# --- the hotline operator -----------------------------------------------------------------------


def phone_digits(value: str) -> str:
    """The digits of a phone number, ``+84 912…`` written as ``0912…``."""
    digits = re.sub(r"\D", "", value)
    return "0" + digits[2:] if digits.startswith("84") and len(digits) > 9 else digits


def _clean_phone() -> ColumnElement[str]:
    column: ColumnElement[str] = FeedbackReporter.phone
    for char in (" ", ".", "-", "+", "(", ")"):
        column = func.replace(column, char, "")
    return column


def caller_reports(session: Session, *, phone: str, limit: int = 10) -> list[Report]:
    """Earlier reports of the caller with this phone number, newest first (empty for too short a number)."""
    digits = phone_digits(phone)
    if len(digits) < MIN_PHONE_DIGITS:
        return []
    forms = {digits, "84" + digits[1:]} if digits.startswith("0") else {digits}
    stmt = (select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id)
            .join(FeedbackReporter, FeedbackReporter.report_id == FeedbackReport.id)
            .where(_clean_phone().in_(sorted(forms)))
            .order_by(Case.received_at.desc(), Case.id.desc()).limit(limit))
    return reports.load_public(session, [(r, c) for r, c in session.execute(stmt)])


def nearby_open(session: Session, *, lat: float, lon: float, now: datetime, settings: Settings,
                service_code: str | None = None, text: str = "", exclude_case_id: int | None = None,
                limit: int = NEARBY_LIMIT) -> list[duplicates.Candidate]:
    """Open reports near the point: of ``service_code`` ranked by :func:`duplicates.similar`, or of any
    category (and none) within the duplicate radius, nearest first."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return []
    if service_code:
        found = duplicates.similar(session, service_code=service_code, lat=lat, lon=lon, text=text, now=now,
                                   settings=settings, limit=limit + 1)
    else:
        found = _within_radius(session, lat=lat, lon=lon, now=now, settings=settings)
    return [c for c in found if c.item.case.id != exclude_case_id][:limit]


def _within_radius(session: Session, *, lat: float, lon: float, now: datetime,
                   settings: Settings) -> list[duplicates.Candidate]:
    radius = settings.feedback_duplicate_radius_m
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(0.01, math.cos(math.radians(lat))))
    stmt = (select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id)
            .where(Case.case_type == CASE_TYPE, Case.status.not_in(duplicates.SETTLED), Case.closed_at.is_(None),
                   Case.received_at >= now - timedelta(days=settings.feedback_duplicate_days),
                   FeedbackReport.lat.between(lat - dlat, lat + dlat),
                   FeedbackReport.lon.between(lon - dlon, lon + dlon))
            .order_by(Case.received_at.desc()).limit(500))
    rows = [(r, c) for r, c in session.execute(stmt) if r.lat is not None and r.lon is not None]
    loaded = reports.load_public(session, rows)
    found = [duplicates.Candidate(item=item, distance_m=duplicates.distance_m(lat, lon, r.lat, r.lon), similarity=0.0)
             for item, (r, _c) in zip(loaded, rows, strict=True)]
    return sorted((c for c in found if c.distance_m <= radius), key=lambda c: c.distance_m)
