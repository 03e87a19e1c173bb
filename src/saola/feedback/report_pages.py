"""Console pages of the hotline's reports: the filtered list and the triage queue (with the one-click
"accept suggestion" and a category picker).

Thin handlers over :mod:`saola.feedback.console` and :func:`saola.feedback.triage.categorise` (the
function the JSON API's ``POST /api/v1/reports/{id}/category`` uses), so visibility and checks are
the API's: a user sees only their own agency's reports unless they hold ``agencies:all``. A move
that is refused re-renders the page with the error and saves nothing (the transaction is rolled back).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from saola.core.auth.service import Principal
from saola.core.calendar import default_calendar
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import DomainError
from saola.feedback import console, reports, triage
from saola.feedback.console_labels import LABELS
from saola.feedback.models import CHANNELS
from saola.feedback.report_case_pages import report_page_response
from saola.web.templating import NavItem, form_error, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.feedback")
register_nav(NavItem("/console/feedback/reports", "Citizen reports (1022)", icon="message", permission="feedback:read",
                     order=66))
register_nav(NavItem("/console/feedback/triage", "Triage queue", icon="bell", permission="feedback:read", order=67))

Reader = Annotated[Principal, Depends(require("feedback:read", page=True))]
Writer = Annotated[Principal, Depends(require("feedback:write", page=True))]
PAGE_SIZE = 50
NOTICES = {"categorised": "The report was given its category and routed"}


class ListQuery(BaseModel):
    status: str = Field("", max_length=40)
    field: str = Field("", max_length=40)
    category: str = Field("", max_length=60)
    channel: Literal["", *CHANNELS] = ""  # type: ignore[valid-type]
    ward: str = Field("", max_length=10)
    due: Literal["", "overdue", "due_soon"] = ""
    q: str = Field("", max_length=200)
    start: date | None = None
    end: date | None = None
    page: int = Field(1, ge=1, le=10_000)


class CategoryForm(BaseModel):
    service_code: str = Field(min_length=1, max_length=60)
    reason: str = Field("", max_length=2000)
    back: Literal["triage", "report"] = "triage"


@router.get("/console/feedback/reports")
def reports_page(request: Request, session: DbSession, principal: Reader,
                 query: Annotated[ListQuery, Query()]) -> Response:
    now, calendar = utcnow(), default_calendar()
    filters = console.ReportFilter(status=query.status, field=query.field, category=query.category,
                                   channel=query.channel, ward=query.ward, due=query.due, q=query.q,
                                   start=query.start, end=query.end)
    found = console.search(session, actor=principal, filters=filters, now=now, calendar=calendar, limit=PAGE_SIZE,
                           offset=(query.page - 1) * PAGE_SIZE)
    params = {k: v for k, v in query.model_dump(exclude={"page"}).items() if v not in ("", None)}
    return render(request, "feedback/reports.html", {
        **LABELS, "items": found.items, "total": found.total, "query": query, "page": query.page,
        "pages": max(1, -(-found.total // PAGE_SIZE)), "link": urlencode(params),
        "open_status": {i.case.id: console.open_status(i.case, now, calendar) for i in found.items},
        "tree": console.category_tree(session), "wards": console.wards(session, actor=principal),
        "channel_codes": CHANNELS,
    })


def _triage_page(request: Request, session: DbSession, principal: Principal, *, notice: str | None = None,
                 error: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "feedback/triage.html", {
        **LABELS, "items": console.triage_queue(session, actor=principal), "tree": console.category_tree(session),
        "can_write": principal.can("feedback:write"), "notice": notice, "error": error,
    }, status_code=status_code)


@router.get("/console/feedback/triage")
def triage_page(request: Request, session: DbSession, principal: Reader,
                done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    return _triage_page(request, session, principal, notice=NOTICES.get(done or ""))


@router.post("/console/feedback/reports/{case_id}/category")
def categorise(request: Request, session: DbSession, principal: Writer, case_id: int,
               form: Annotated[CategoryForm, Form()]) -> Response:
    try:
        reports.get_for_staff(session, case_id=case_id, actor=principal)
        triage.categorise(session, case_id=case_id, service_code=form.service_code, actor=principal, now=utcnow(),
                          reason=form.reason)
    except DomainError as exc:
        session.rollback()
        if form.back == "report":
            return report_page_response(request, session, principal, case_id, error=form_error(request, exc),
                                        status_code=exc.status)
        return _triage_page(request, session, principal, error=form_error(request, exc), status_code=exc.status)
    session.expire_all()
    if form.back == "report" and console.visible(session, case_id=case_id, actor=principal):
        return RedirectResponse(f"/console/feedback/reports/{case_id}?done=categorised", status_code=303)
    return RedirectResponse("/console/feedback/triage?done=categorised", status_code=303)
