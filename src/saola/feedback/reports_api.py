"""JSON API of reports: ``/api/v1/reports`` for mobile apps (submit, follow by tracking code) and for staff.

Apps hold an API token with ``feedback:submit``; staff read with ``feedback:read`` (their own
agency's reports unless they see all agencies) and move reports through the case engine with
``feedback:write``. The reporter's personal data is in an answer only for staff who handle the
case (``feedback:write`` and the owning agency, or every agency).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from saola.cases import service as cases
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, api_principal, request_language, require
from saola.core.directory.models import Agency
from saola.core.errors import PermissionDenied
from saola.feedback import console, reports, triage
from saola.feedback.errors import ReportNotFound
from saola.feedback.intake import Submission
from saola.feedback.reports import Report, redact
from saola.feedback.schemas import PublicReport, ReporterOut, ReportIn, ReportReceipt, StaffReport

router = APIRouter(prefix="/api/v1/reports", tags=["feedback"])
Reader = Annotated[Principal, Depends(require("feedback:read"))]
Writer = Annotated[Principal, Depends(require("feedback:write"))]
Submitter = Annotated[Principal, Depends(require("feedback:submit"))]
Channel = Literal["app", "web", "phone", "sms", "email"]


async def _tracker(principal: Principal = Depends(api_principal)) -> Principal:
    if not (principal.can("feedback:read") or principal.can("feedback:submit")):
        raise PermissionDenied("This needs the permission '{permission}'", permission="feedback:read")
    return principal


Tracker = Annotated[Principal, Depends(_tracker)]


class ReportSubmission(ReportIn):
    channel: Channel = Field("app", description="How the report reached Saola (Open311 has its own endpoint)")


class CategoryChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_code: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    resolution: Annotated[str, StringConstraints(max_length=5000)] | None = None
    assignee_id: int | None = Field(None, ge=1, le=2**31 - 1)
    target_agency_id: int | None = Field(None, ge=1, le=2**31 - 1)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    public: bool = Field(False, description="A reply the citizen sees on the lookup page; else an internal note")


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    text: str
    public: bool
    author_name: str
    created_at: datetime


def _name(lang: str, vi: str, en: str) -> str:
    return en if lang == "en" and en else vi


def _public(item: Report, replies: list[str], lang: str) -> dict[str, object]:
    case, report, category = item.case, item.report, item.category
    return {
        "tracking_code": case.code, "status": case.status, "open": case.closed_at is None,
        "service_code": category.service_code if category else None,
        "service_name": _name(lang, category.name_vi, category.name_en) if category else None,
        "description": redact(case.description), "agency": _name(lang, item.agency.name, item.agency.name_en),
        "ward_code": report.ward_code, "ward_name": report.ward_name, "address": report.address,
        "lat": report.lat, "long": report.lon, "requested_at": case.received_at, "updated_at": case.updated_at,
        "expected_at": case.deadline_at, "public_replies": [redact(r) for r in replies],
    }


def _handles(principal: Principal, item: Report) -> bool:
    return console.handles(principal, item.case)


def _staff(session: DbSession, principal: Principal, item: Report, lang: str,
           replies: list[str] | None = None) -> StaffReport:
    if replies is None:
        replies = reports.public_replies(session, case_ids=[item.case.id])[item.case.id]
    handles = _handles(principal, item)
    view = _public(item, replies, lang)
    if handles:  # the handlers read the text as the reporter wrote it
        view["description"] = item.case.description
    reporter = item.reporter if handles else None
    return StaffReport(**view, case_id=item.case.id, channel=item.report.channel,
                       suggested_service_code=item.suggested.service_code if item.suggested else None,
                       suggestion_confidence=item.report.suggestion_confidence,
                       reporter=ReporterOut.model_validate(reporter) if reporter else None)


@router.post("", response_model=ReportReceipt, status_code=status.HTTP_201_CREATED,
             summary="Submit a report (apps; the same checks as every channel)",
             responses={422: {"description": "Code `invalid-report`: every problem listed in `errors`"}})
def submit_report(body: ReportSubmission, request: Request, session: DbSession, principal: Submitter) -> ReportReceipt:
    submission = Submission(
        channel=body.channel, description=body.description, service_code=body.service_code, lat=body.lat,
        lon=body.long, address=body.address, name=body.name, phone=body.phone, email=body.email,
        consent=body.consent, answers=dict(body.attributes),
    )
    item = reports.submit(session, submission=submission, actor=principal, now=utcnow(),
                          settings=request.app.state.settings)
    lang = request_language(request)
    return ReportReceipt(tracking_code=item.case.code, token=item.report.token, status=item.case.status,
                         service_code=item.category.service_code if item.category else None,
                         agency=_name(lang, item.agency.name, item.agency.name_en), deadline_at=item.case.deadline_at)


@router.get("/track/{tracking_code}", response_model=PublicReport,
            summary="Follow a report by its tracking code (what the public may see)")
def track_report(tracking_code: str, request: Request, session: DbSession, _: Tracker) -> PublicReport:
    item = reports.get_public(session, tracking_code=tracking_code)
    replies = reports.public_replies(session, case_ids=[item.case.id])[item.case.id]
    return PublicReport.model_validate(_public(item, replies, request_language(request)))


@router.get("", response_model=list[StaffReport], summary="Reports of your agency (all agencies with agencies:all)")
def list_reports(
    request: Request, session: DbSession, principal: Reader,
    status_: Annotated[list[str] | None, Query(alias="status", max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[StaffReport]:
    lang = request_language(request)
    found = reports.list_for_staff(session, actor=principal, status=status_, limit=limit, offset=offset)
    replies = reports.public_replies(session, case_ids=[item.case.id for item in found])
    return [_staff(session, principal, item, lang, replies[item.case.id]) for item in found]


@router.get("/{case_id}", response_model=StaffReport, summary="One report (the reporter only for its handlers)")
def get_report(case_id: int, request: Request, session: DbSession, principal: Reader) -> StaffReport:
    item = reports.get_for_staff(session, case_id=case_id, actor=principal)
    return _staff(session, principal, item, request_language(request))


@router.post("/{case_id}/transition", response_model=StaffReport,
             summary="Move a report through its workflow (the case engine's rules and guards)")
def transition_report(case_id: int, body: TransitionIn, request: Request, session: DbSession,
                      principal: Writer) -> StaffReport:
    item = reports.get_for_staff(session, case_id=case_id, actor=principal)
    cases.transition(session, case_id=item.case.id, to=body.to, actor=principal, now=utcnow(), reason=body.reason,
                     resolution=body.resolution, assignee_id=body.assignee_id,
                     target_agency_id=body.target_agency_id)
    item.agency = session.get(Agency, item.case.agency_id) or item.agency  # forwarded: the new owner
    return _staff(session, principal, item, request_language(request))


@router.post("/{case_id}/category", response_model=StaffReport,
             summary="Triage: give a report waiting without a category its category and route it to the agency")
def categorise_report(case_id: int, body: CategoryChoice, request: Request, session: DbSession,
                      principal: Writer) -> StaffReport:
    reports.get_for_staff(session, case_id=case_id, actor=principal)
    triage.categorise(session, case_id=case_id, service_code=body.service_code, actor=principal, now=utcnow(),
                      reason=body.reason)
    session.expire_all()
    try:
        item = reports.get_for_staff(session, case_id=case_id, actor=principal)
    except ReportNotFound:  # routed to an agency the caller does not see: show what the public sees
        public = reports.get_by_case(session, case_id=case_id)
        return _staff(session, principal, public, request_language(request))
    return _staff(session, principal, item, request_language(request))


@router.post("/{case_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED,
             summary="Add an internal note or a public reply to a report (staff handling it)")
def add_report_note(case_id: int, body: NoteIn, session: DbSession, principal: Writer) -> NoteOut:
    note = console.add_note(session, case_id=case_id, actor=principal, text=body.text, public=body.public,
                            now=utcnow())
    return NoteOut.model_validate(note)
