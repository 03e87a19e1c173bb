"""The console page of one report: description, photos, map pin, category, ward, deadline and outcome, the
reporter (handlers only), the timeline, notes and public replies, the moves the user may make, similar open
reports nearby with a merge action, and the reporter's rating.

Thin handlers over the functions the JSON API uses (:mod:`saola.cases.service`, :mod:`saola.feedback.console`,
:func:`saola.feedback.duplicates.merge`). Photos are served to staff handling the report only, as
the one-stop shop serves dossier files. A refused action re-renders the page with the error (4xx) and,
its transaction rolled back, changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from saola.cases import service as cases
from saola.cases.storage import filesystem_store
from saola.core.auth.service import Principal
from saola.core.calendar import default_calendar
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.directory import service as directory
from saola.core.errors import DomainError
from saola.feedback import console, duplicates, rating, reports
from saola.feedback.console_labels import LABELS
from saola.feedback.reports import redact
from saola.web.templating import form_error, render

router = APIRouter()
Reader = Annotated[Principal, Depends(require("feedback:read", page=True))]
Writer = Annotated[Principal, Depends(require("feedback:write", page=True))]
NOTICES = {"moved": "The report's status was changed", "note": "The internal note was added",
           "reply": "The public reply was added", "merged": "The report was merged",
           "categorised": "The report was given its category and routed"}
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


class MoveForm(BaseModel):
    to: str = Field(min_length=1, max_length=40)
    reason: str = Field("", max_length=2000)
    resolution: str = Field("", max_length=5000)
    assignee_id: str = Field("", max_length=12)
    target_agency_id: str = Field("", max_length=12)


class NoteForm(BaseModel):
    text: str = Field(max_length=5000)
    public: bool = False


class MergeForm(BaseModel):
    into: str = Field(min_length=1, max_length=40)
    reason: str = Field("", max_length=2000)


def _id(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def report_page_response(request: Request, session: DbSession, principal: Principal, case_id: int, *,
                         notice: str | None = None, error: dict[str, str] | None = None,
                         status_code: int = 200, action: str = "") -> Response:
    """The report page (also after a refused action, with ``error`` shown by the form of ``action``)."""
    now, calendar, settings = utcnow(), default_calendar(), request.app.state.settings
    item = reports.get_for_staff(session, case_id=case_id, actor=principal)
    case, report = item.case, item.report
    handles = console.handles(principal, case)
    similar = []
    if case.closed_at is None and report.lat is not None and report.lon is not None:
        similar = console.nearby_open(session, lat=report.lat, lon=report.lon, now=now, settings=settings,
                                      service_code=item.category.service_code if item.category else None,
                                      text=case.description, exclude_case_id=case.id)
    moves = console.allowed_moves(item, principal)
    files = console.attachments(session, case_id=case.id) if handles else []
    return render(request, "feedback/report.html", {
        **LABELS, "item": item, "case": case, "report": report, "handles": handles,
        "description": case.description if handles else redact(case.description),
        "reporter": item.reporter if handles else None, "moves": moves,
        "open_status": console.open_status(case, now, calendar),
        "events": console.timeline(session, case_id=case.id, actor=principal),
        "notes": console.notes(session, case_id=case.id, actor=principal), "files": files,
        "images": [f for f in files if f.content_type in INLINE_TYPES],
        "similar": similar, "ratings": rating.ratings(session, case_id=case.id),
        "assignees": console.assignees(session, agency_id=case.agency_id) if any(m.assignee for m in moves) else [],
        "agencies": [a for a in directory.list_agencies(session) if a.id != case.agency_id]
        if any(m.agency for m in moves) else [],
        "tree": console.category_tree(session) if case.status == "received" and handles else [],
        "notice": notice, "error": error, "action": action, "merged_into": case.meta.get("merged_into"),
    }, status_code=status_code)


@router.get("/console/feedback/reports/{case_id}")
def report_page(request: Request, session: DbSession, principal: Reader, case_id: int,
                done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    return report_page_response(request, session, principal, case_id, notice=NOTICES.get(done or ""))


def _refused(request: Request, session: DbSession, principal: Principal, case_id: int, exc: DomainError,
             action: str) -> Response:
    session.rollback()  # nothing of the refused action is kept
    return report_page_response(request, session, principal, case_id, error=form_error(request, exc),
                                status_code=exc.status, action=action)


@router.post("/console/feedback/reports/{case_id}/transition")
def move_report(request: Request, session: DbSession, principal: Writer, case_id: int,
                form: Annotated[MoveForm, Form()]) -> Response:
    try:
        item = reports.get_for_staff(session, case_id=case_id, actor=principal)
        cases.transition(session, case_id=item.case.id, to=form.to, actor=principal, now=utcnow(),
                         reason=form.reason, resolution=form.resolution or None,
                         assignee_id=_id(form.assignee_id), target_agency_id=_id(form.target_agency_id))
    except DomainError as exc:
        return _refused(request, session, principal, case_id, exc, "move-" + form.to)
    session.expire_all()
    if not console.visible(session, case_id=case_id, actor=principal):  # forwarded out of the user's sight
        return RedirectResponse("/console/feedback/reports", status_code=303)
    return RedirectResponse(f"/console/feedback/reports/{case_id}?done=moved", status_code=303)


@router.post("/console/feedback/reports/{case_id}/notes")
def add_note(request: Request, session: DbSession, principal: Writer, case_id: int,
             form: Annotated[NoteForm, Form()]) -> Response:
    try:
        console.add_note(session, case_id=case_id, actor=principal, text=form.text, public=form.public, now=utcnow())
    except DomainError as exc:
        return _refused(request, session, principal, case_id, exc, "note")
    return RedirectResponse(f"/console/feedback/reports/{case_id}?done={'reply' if form.public else 'note'}",
                            status_code=303)


@router.post("/console/feedback/reports/{case_id}/merge")
def merge_report(request: Request, session: DbSession, principal: Writer, case_id: int,
                 form: Annotated[MergeForm, Form()]) -> Response:
    try:
        duplicates.merge(session, case_id=case_id, into=form.into, actor=principal, now=utcnow(), reason=form.reason)
    except DomainError as exc:
        return _refused(request, session, principal, case_id, exc, "merge")
    return RedirectResponse(f"/console/feedback/reports/{case_id}?done=merged", status_code=303)


@router.get("/console/feedback/reports/{case_id}/files/{attachment_id}")
def report_file(request: Request, session: DbSession, principal: Reader, case_id: int, attachment_id: int,
                disposition: Annotated[Literal["inline", "attachment"], Query()] = "attachment") -> Response:
    found = console.get_attachment(session, case_id=case_id, attachment_id=attachment_id, actor=principal)
    data = filesystem_store(request.app.state.settings.data_dir).get(found.storage_key)
    inline = disposition == "inline" and found.content_type in INLINE_TYPES
    return Response(data, media_type=found.content_type, headers={
        "Content-Disposition": "inline" if inline else "attachment", "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; sandbox"})
