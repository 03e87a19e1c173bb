"""Public pages of the 1022 hotline, no sign-in: the report form, the lookup by tracking code and the rating.

``/feedback/new`` posts through :func:`saola.feedback.reports.submit` (channel ``web``), the same
checks as every channel; its errors are shown in the form and nothing is saved. The confirmation
shows the tracking code and the report's secret (the proof for rating, see
:mod:`saola.feedback.rating`). ``/feedback/track`` shows what the public may see: status,
category, ward, agency, the public answer and the dated status changes — never the reporter.
Forms carry the CSRF token like every other form. Thin handlers: no queries here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from saola.cases import service as cases
from saola.cases.actors import SYSTEM
from saola.core.db import utcnow
from saola.core.deps import DbSession, verify_csrf
from saola.core.errors import DomainError, ValidationFailed
from saola.feedback import categories as catalogue
from saola.feedback import rating, reports
from saola.feedback.intake import MAX_FILES, Submission, Upload
from saola.feedback.models import FeedbackCategory
from saola.feedback.reports import redact
from saola.web.templating import NavItem, form_error, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.feedback")
register_nav(NavItem("/feedback/new", "Report a problem (1022)", icon="message", area="portal", order=30))
register_nav(NavItem("/feedback/track", "Follow a report", icon="search", area="portal", order=31))

STATUS = {"received": "Received", "triaged": "Triaged", "assigned": "Assigned", "in_progress": "In progress",
          "on_hold": "On hold", "forwarded": "Forwarded to another agency", "resolved": "Resolved",
          "closed": "Closed", "reopened": "Reopened for review", "rejected": "Rejected"}
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # read at most this much of a file; the setting's limit is checked by submit()


class ReportForm(BaseModel):
    service_code: str = Field("", max_length=60)
    description: str = Field("", max_length=5000)
    lat: str = Field("", max_length=40)
    long: str = Field("", max_length=40)
    address: str = Field("", max_length=300)
    name: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=200)
    consent: bool = False
    answer: list[str] = Field(default_factory=list, max_length=100)  # "service_code:question=value"


class RateForm(BaseModel):
    code: str = Field(max_length=40)
    proof: str = Field("", max_length=200)
    satisfied: bool
    reason: str = Field("", max_length=rating.MAX_REASON)


@dataclass
class Step:
    at: datetime
    status: str
    note: str


def _float(value: str, name: str, errors: list[dict[str, str]]) -> float | None:
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors.append({"field": name, "message": "not a number"})
        return None
    return number


def _answers(form: ReportForm) -> dict[str, str]:
    """The answers to the chosen category's questions (each select names its category, so others are ignored)."""
    out = {}
    for raw in form.answer:
        code, _, rest = raw.partition(":")
        name, _, value = rest.partition("=")
        if code == form.service_code and name and value:
            out[name[:60]] = value[:200]
    return out


def _questions(categories: list[FeedbackCategory]) -> dict[str, list[dict[str, object]]]:
    """The questions with a list of answers of each category, in their order (free-text ones are left out)."""
    return {c.service_code: sorted((a for a in c.attributes or [] if a.get("datatype") == "singlevaluelist"
                                    and a.get("values")), key=lambda a: int(a.get("order") or 0))
            for c in categories}


def _form_page(request: Request, session: DbSession, form: ReportForm, errors: list[dict[str, str]],
               status_code: int = 200) -> Response:
    categories = catalogue.list_categories(session, active_only=True)
    fields = catalogue.list_fields(session, active_only=True)
    tree = [(f, [c for c in categories if c.field_id == f.id]) for f in fields]
    questions = _questions(categories)
    labels = {f"attribute[{q['code']}]": str(q.get("description", "")) for q in questions.get(form.service_code, [])}
    errors = [{**e, "label": labels.get(e.get("field", ""), "")} for e in errors]
    return render(request, "feedback/public/new.html", {
        "tree": [(f, cs) for f, cs in tree if cs], "form": form, "errors": errors,
        "fields_in_error": {e.get("field", "") for e in errors},
        "questions": questions, "chosen": _answers(form), "max_files": MAX_FILES,
        "max_mb": request.app.state.settings.feedback_max_photo_mb,
    }, status_code=status_code)


@router.get("/feedback/new")
def new_report_page(request: Request, session: DbSession) -> Response:
    return _form_page(request, session, ReportForm(), [])


@router.post("/feedback/new", dependencies=[Depends(verify_csrf)])
def submit_report(request: Request, session: DbSession, form: Annotated[ReportForm, Form()],
                  media: Annotated[list[UploadFile] | None, File()] = None) -> Response:
    errors: list[dict[str, str]] = []
    lat, lon = _float(form.lat, "lat", errors), _float(form.long, "long", errors)
    uploads = [Upload(file_name=f.filename or "photo", data=f.file.read(MAX_UPLOAD_BYTES + 1))
               for f in media or [] if f.filename]
    submission = Submission(channel="web", description=form.description, service_code=form.service_code or None,
                            lat=lat, lon=lon, address=form.address, name=form.name, phone=form.phone,
                            email=form.email, consent=form.consent, uploads=uploads,
                            answers=dict(_answers(form)))
    try:
        if errors:
            raise ValidationFailed(errors)
        item = reports.submit(session, submission=submission, actor=None, now=utcnow(),
                              settings=request.app.state.settings)
    except ValidationFailed as exc:
        session.rollback()  # nothing of a refused report is kept
        return _form_page(request, session, form, exc.errors, status_code=422)
    except DomainError as exc:
        session.rollback()
        return _form_page(request, session, form, [form_error(request, exc)], status_code=exc.status)
    return render(request, "feedback/public/submitted.html", {
        "case": item.case, "token": item.report.token, "category": item.category, "agency": item.agency,
        "ward_name": item.report.ward_name, "files": len(uploads),
        "track_url": f"/feedback/track?code={quote(item.case.code)}&key={quote(item.report.token)}",
    }, status_code=201)


def _timeline(session: DbSession, case_id: int) -> list[Step]:
    """Dated status changes; only a rejection's reason is shown (the citizen is told why)."""
    steps = []
    for event in cases.history(session, case_id=case_id, actor=SYSTEM):
        if event.kind == "created":
            steps.append(Step(event.at, str((event.data or {}).get("status", "received")), ""))
        elif event.kind == "transition" and event.to_status:
            steps.append(Step(event.at, event.to_status, redact(event.reason) if event.to_status == "rejected"
                              else ""))
    return steps


def _track_page(request: Request, session: DbSession, *, code: str, key: str, notice: str | None = None,
                error: dict[str, str] | None = None, status_code: int = 200) -> Response:
    item, lookup_error = None, None
    if code.strip():
        try:
            item = reports.get_public(session, tracking_code=code)
        except DomainError as exc:
            lookup_error = form_error(request, exc)
    context: dict[str, object] = {"code": code.strip().upper(), "key": key, "item": None, "lookup_error": lookup_error,
                                  "error": error, "notice": notice, "status_names": STATUS}
    if item is not None:
        replies = reports.public_replies(session, case_ids=[item.case.id])[item.case.id]
        context.update(item=item, replies=[redact(r) for r in replies],
                       resolution=redact(item.case.resolution) if item.case.resolution else "",
                       timeline=_timeline(session, item.case.id), ratings=rating.ratings(session, case_id=item.case.id),
                       can_rate=rating.can_rate(item, utcnow()), rating_days=rating.RATING_DAYS)
    return render(request, "feedback/public/track.html", context,
                  status_code=404 if lookup_error else status_code)


@router.get("/feedback/track")
def track_page(request: Request, session: DbSession,
               code: Annotated[str, Query(max_length=40)] = "",
               key: Annotated[str, Query(max_length=200)] = "",
               done: Annotated[str, Query(max_length=20)] = "") -> Response:
    notice = {"rated": "Thank you for your rating",
              "reopened": "Thank you. The report was reopened for review"}.get(done)
    return _track_page(request, session, code=code, key=key, notice=notice)


@router.post("/feedback/track/rate", dependencies=[Depends(verify_csrf)])
def rate_answer(request: Request, session: DbSession, form: Annotated[RateForm, Form()]) -> Response:
    try:
        result = rating.rate(session, tracking_code=form.code, proof=form.proof, satisfied=form.satisfied,
                             reason=form.reason, now=utcnow())
    except DomainError as exc:
        session.rollback()
        error = form_error(request, exc)
        if isinstance(exc, ValidationFailed) and exc.errors:
            error["field"] = exc.errors[0].get("field", "")
        return _track_page(request, session, code=form.code, key=form.proof, error=error, status_code=exc.status)
    done = "rated" if result.satisfied else "reopened"
    return RedirectResponse(f"/feedback/track?code={quote(form.code.strip().upper())}&done={done}", status_code=303)
