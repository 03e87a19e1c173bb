"""Use cases of citizen reports, shared by every channel (web, phone, SMS, e-mail, app, Open311).

:func:`submit` checks the submission (:mod:`saola.feedback.intake`), resolves the ward (the point
against the shipped boundaries, else the address through the directory), opens a case of the
``feedback_report`` workflow with the tracking code and the category's agency and deadline,
and keeps the reporter's personal data in its own row. A report without a category goes to the
triage agency's queue (status ``received``), with the classifier's suggestion when a model is
configured (or takes the suggested category when the model is sure enough, :mod:`saola.feedback.autoroute`);
a report with one is routed at once (status ``triaged``) to the agency the routing rules
choose (:mod:`saola.feedback.routing`; the category's agency when no rule matches). Nothing is saved unless
every check passes. The case is opened by the channel (:data:`~saola.cases.actors.SYSTEM`); the
signed-in user or API token that submitted it is recorded in ``submitted_by``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.actors import SYSTEM
from saola.cases.models import Case, CaseNote
from saola.cases.storage import filesystem_store
from saola.core.directory import service as directory
from saola.core.directory.models import Agency
from saola.core.errors import DomainError
from saola.core.settings import Settings
from saola.feedback import autoroute, geo, routing
from saola.feedback import categories as catalogue
from saola.feedback.errors import CategoryNotFound, InvalidReport, ReportNotFound, TriageAgencyMissing
from saola.feedback.intake import Submission, normalise
from saola.feedback.models import FeedbackCategory, FeedbackReport, FeedbackReporter
from saola.feedback.suggest import suggest

CASE_TYPE = "feedback_report"
TITLE_LENGTH = 120
# Phone numbers and e-mail addresses a reporter typed into the description are hidden from the public.
_PHONE_IN_TEXT = re.compile(r"(?<!\w)\+?\d[\d .-]{7,}\d(?!\w)")
_EMAIL_IN_TEXT = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[A-Za-z]{2,}")


@dataclass
class Report:
    """A report with everything a view of it needs, loaded once."""

    report: FeedbackReport
    case: Case
    category: FeedbackCategory | None
    agency: Agency
    reporter: FeedbackReporter | None = None
    suggested: FeedbackCategory | None = None  # the classifier's guess, for reports filed without a category


def redact(text: str) -> str:
    """The text without phone numbers and e-mail addresses (for public answers)."""
    return _PHONE_IN_TEXT.sub("[…]", _EMAIL_IN_TEXT.sub("[…]", text))


def _title(category: FeedbackCategory | None, description: str) -> str:
    first = " ".join(description.split())
    if category is not None:
        return category.name_vi
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"


def _resolve_ward(session: Session, sub: Submission, errors: list[dict[str, str]]) -> tuple[str | None, str]:
    if sub.lat is not None and sub.lon is not None:
        ward = geo.ward_at(sub.lat, sub.lon)
        if ward is None:
            errors.append({"field": "location", "message": "the point is outside the area this hotline serves"})
            return None, ""
        return ward.code, ward.name
    try:
        found = directory.resolve_address(session, address=sub.address)
    except DomainError:  # no ward named, or the directory is not loaded: staff place it by hand
        return None, ""
    return found.ward.code, found.ward.full_name


def _triage_agency(session: Session, settings: Settings) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == settings.feedback_triage_agency))
    if agency is None:
        raise TriageAgencyMissing("No agency has the code '{code}' (SAOLA_FEEDBACK_TRIAGE_AGENCY)",
                                  code=settings.feedback_triage_agency)
    return agency


def submit(session: Session, *, submission: Submission, actor: Any | None, now: datetime,
           settings: Settings) -> Report:
    """A new report from ``submission``; :class:`InvalidReport` (422) lists every problem, nothing saved."""
    sub, errors, types = normalise(submission, max_file_bytes=settings.feedback_max_photo_mb * 1024 * 1024)
    category: FeedbackCategory | None = None
    if sub.service_code:
        try:
            category = catalogue.get_by_service_code(session, service_code=sub.service_code)
        except CategoryNotFound:
            errors.append({"field": "service_code", "message": f"no category has the code '{sub.service_code}'"})
    answers, answer_errors = catalogue.check_answers(category, sub.answers) if category or sub.answers else ({}, [])
    errors.extend(answer_errors)
    ward_code, ward_name = (None, "") if errors else _resolve_ward(session, sub, errors)
    if errors:
        raise InvalidReport(errors, "The report is not valid")

    suggestion = None if category else suggest(session, settings=settings, text=sub.description)
    auto = autoroute.confident(suggestion, settings=settings)  # sure enough: routed as if the citizen chose it
    category = category or (auto[0] if auto else None)
    decision = routing.route(session, category=category, ward_code=ward_code, at=now) if category else None
    agency = decision.agency if decision else _triage_agency(session, settings)
    case = cases.open_case(
        session, case_type=CASE_TYPE, title=_title(category, sub.description), agency_id=agency.id, actor=SYSTEM,
        now=now, deadline_rule=catalogue.deadline_rule(category) if category else None,
        description=sub.description, metadata={"channel": sub.channel},
    )
    report = FeedbackReport(
        case_id=case.id, token=secrets.token_urlsafe(18), channel=sub.channel,
        category_id=category.id if category else None, lat=sub.lat, lon=sub.lon, address=sub.address,
        ward_code=ward_code, ward_name=ward_name, answers=answers,
        suggested_category_id=suggestion[0].id if suggestion else None,
        suggestion_confidence=suggestion[1] if suggestion else None,
        submitted_by=getattr(actor, "id", None), created_at=now,
    )
    session.add(report)
    session.flush()
    reporter = None
    if sub.has_contact:
        reporter = FeedbackReporter(report_id=report.id, name=sub.name, phone=sub.phone, email=sub.email,
                                    device_id=sub.device_id, account_id=sub.account_id, consent=sub.consent,
                                    created_at=now)
        session.add(reporter)
    if category is not None:
        assert decision is not None
        cases.transition(session, case_id=case.id, to="triaged", actor=SYSTEM, now=now,
                         reason=autoroute.reason(decision.reason(f"Routed by category {category.service_code}"),
                                                 auto),
                         data={**decision.history(), **autoroute.history(auto)})
    store = filesystem_store(Path(settings.data_dir))
    for upload, content_type in zip(sub.uploads, types, strict=True):
        cases.add_attachment(session, case_id=case.id, actor=SYSTEM, file_name=upload.file_name or "photo",
                             content_type=content_type, data=upload.data, store=store, now=now)
    session.flush()
    return Report(report=report, case=case, category=category, agency=agency, reporter=reporter)


# --- reading ---------------------------------------------------------------------------------


def _load(session: Session, rows: Sequence[tuple[FeedbackReport, Case]]) -> list[Report]:
    category_ids = {r.category_id for r, _ in rows if r.category_id} | {
        r.suggested_category_id for r, _ in rows if r.suggested_category_id}
    found = {c.id: c for c in session.scalars(select(FeedbackCategory).where(FeedbackCategory.id.in_(category_ids)))}
    agencies = directory.agencies_by_id(session, ids={c.agency_id for _, c in rows})
    return [Report(report=r, case=c, category=found.get(r.category_id) if r.category_id else None,
                   agency=agencies[c.agency_id],
                   suggested=found.get(r.suggested_category_id) if r.suggested_category_id else None)
            for r, c in rows]


def load_public(session: Session, rows: Sequence[tuple[FeedbackReport, Case]]) -> list[Report]:
    """Reports of ``rows`` with their category and agency (no reporter), in the same order."""
    return _load(session, rows)


def _base() -> Select[tuple[FeedbackReport, Case]]:
    return select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id)


def get_public(session: Session, *, tracking_code: str) -> Report:
    """A report by its tracking code, for anyone (the caller shows only public fields)."""
    row = session.execute(_base().where(Case.code == tracking_code.strip().upper())).first()
    if row is None:
        raise ReportNotFound("No report with the tracking code '{code}'", code=tracking_code[:40])
    return _load(session, [(row[0], row[1])])[0]


def get_by_case(session: Session, *, case_id: int) -> Report:
    """A report by its case id, without any access check (callers show only public fields)."""
    row = session.execute(_base().where(Case.id == case_id)).first()
    if row is None:
        raise ReportNotFound("No report with id {case_id}", case_id=case_id)
    return _load(session, [(row[0], row[1])])[0]


def get_by_token(session: Session, *, token: str) -> Report:
    row = session.execute(_base().where(FeedbackReport.token == token)).first()
    if row is None:
        raise ReportNotFound("No report with the token '{token}'", token=token[:40])
    return _load(session, [(row[0], row[1])])[0]


def search_public(session: Session, *, codes: list[str] | None = None, service_codes: list[str] | None = None,
                  start: datetime | None = None, end: datetime | None = None, status: str | None = None,
                  limit: int = 1000) -> list[Report]:
    """Reports for public lists (Open311 ``GET requests``), newest first."""
    stmt = _base()
    if codes is not None:
        stmt = stmt.where(Case.code.in_([c.strip().upper() for c in codes]))
    if service_codes is not None:
        stmt = stmt.join(FeedbackCategory, FeedbackCategory.id == FeedbackReport.category_id).where(
            FeedbackCategory.service_code.in_(service_codes))
    if start is not None:
        stmt = stmt.where(Case.received_at >= start)
    if end is not None:
        stmt = stmt.where(Case.received_at <= end)
    if status == "open":
        stmt = stmt.where(Case.closed_at.is_(None))
    elif status == "closed":
        stmt = stmt.where(Case.closed_at.is_not(None))
    stmt = stmt.order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)
    return _load(session, [(r, c) for r, c in session.execute(stmt)])


def get_for_staff(session: Session, *, case_id: int, actor: Any) -> Report:
    """A report as staff see it (with the reporter) when the actor's agency handles it, else not found."""
    try:
        case = cases.get_case(session, case_id=case_id, actor=actor)
    except DomainError:
        raise ReportNotFound("No report with id {case_id}", case_id=case_id) from None
    report = session.scalar(select(FeedbackReport).where(FeedbackReport.case_id == case.id))
    if report is None:
        raise ReportNotFound("No report with id {case_id}", case_id=case_id)
    out = _load(session, [(report, case)])[0]
    out.reporter = session.scalar(select(FeedbackReporter).where(FeedbackReporter.report_id == report.id))
    return out


def list_for_staff(session: Session, *, actor: Any, status: list[str] | None = None, limit: int = 50,
                   offset: int = 0) -> list[Report]:
    """Reports of the agencies the actor sees, newest first, with their reporters (callers decide who sees them)."""
    found = cases.list_cases(session, actor=actor, case_type=CASE_TYPE, status=status, limit=limit, offset=offset)
    by_case = {r.case_id: r for r in session.scalars(
        select(FeedbackReport).where(FeedbackReport.case_id.in_([c.id for c in found])))}
    out = _load(session, [(by_case[c.id], c) for c in found if c.id in by_case])
    reporters = {p.report_id: p for p in session.scalars(
        select(FeedbackReporter).where(FeedbackReporter.report_id.in_([r.id for r in by_case.values()])))}
    for item in out:
        item.reporter = reporters.get(item.report.id)
    return out


def public_replies(session: Session, *, case_ids: list[int]) -> dict[int, list[str]]:
    """The public replies of each case, oldest first."""
    out: dict[int, list[str]] = {i: [] for i in case_ids}
    stmt = (select(CaseNote.case_id, CaseNote.text).where(CaseNote.case_id.in_(case_ids), CaseNote.public.is_(True))
            .order_by(CaseNote.created_at, CaseNote.id))
    for case_id, text in session.execute(stmt):
        out[case_id].append(text)
    return out


def default_window(now: datetime) -> datetime:
    """Open311 lists cover the last 90 days unless a start date is given."""
    return now - timedelta(days=90)
