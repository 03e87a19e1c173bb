"""The hotline operator's form for phone calls (``/console/feedback/call``), built for the keyboard.

The operator types the caller's number first: the caller's earlier reports (codes and statuses) are
looked up as they type (``/console/feedback/call/caller``, an HTMX fragment for staff holding
``feedback:submit``; never public). Once a pin is placed, open reports nearby are shown
(``/console/feedback/call/nearby``) so a duplicate can be told to the caller instead. The report goes
through :func:`saola.feedback.reports.submit` with channel ``phone`` (the checks of every channel);
problems re-render the form with what was typed and nothing is saved. On success the page shows the
tracking code to read back to the caller above a fresh form. The form fields and the answers to a
category's questions are those of the public form (:mod:`saola.feedback.public_pages`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import DomainError, ValidationFailed
from saola.feedback import categories as catalogue
from saola.feedback import console, reports
from saola.feedback.console_labels import LABELS
from saola.feedback.intake import Submission
from saola.feedback.public_pages import ReportForm, _answers, _float, _questions
from saola.feedback.reports import Report, redact
from saola.web.templating import NavItem, form_error, register_nav, render

router = APIRouter()
register_nav(NavItem("/console/feedback/call", "Take a call (1022)", icon="phone", permission="feedback:submit",
                     order=65))

Operator = Annotated[Principal, Depends(require("feedback:submit", page=True))]
CHANNEL = "phone"


class NearbyQuery(BaseModel):
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    long: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    service_code: str = Field("", max_length=60)
    description: str = Field("", max_length=5000)


def _call_page(request: Request, session: DbSession, form: ReportForm, errors: list[dict[str, str]], *,
               taken: Report | None = None, status_code: int = 200) -> Response:
    categories = catalogue.list_categories(session, active_only=True)
    return render(request, "feedback/call.html", {
        **LABELS, "form": form, "errors": errors, "fields_in_error": {e.get("field", "") for e in errors},
        "tree": console.category_tree(session), "questions": _questions(categories), "chosen": _answers(form),
        "taken": taken,
    }, status_code=status_code)


@router.get("/console/feedback/call")
def call_page(request: Request, session: DbSession, _: Operator,
              code: Annotated[str, Query(max_length=40)] = "") -> Response:
    taken = None
    if code.strip():
        try:
            taken = reports.get_public(session, tracking_code=code)
        except DomainError:
            taken = None
    return _call_page(request, session, ReportForm(), [], taken=taken)


@router.post("/console/feedback/call")
def take_call(request: Request, session: DbSession, principal: Operator,
              form: Annotated[ReportForm, Form()]) -> Response:
    errors: list[dict[str, str]] = []
    lat, lon = _float(form.lat, "lat", errors), _float(form.long, "long", errors)
    submission = Submission(channel=CHANNEL, description=form.description, service_code=form.service_code or None,
                            lat=lat, lon=lon, address=form.address, name=form.name, phone=form.phone,
                            email=form.email, consent=form.consent, answers=dict(_answers(form)))
    try:
        if errors:
            raise ValidationFailed(errors)
        item = reports.submit(session, submission=submission, actor=principal, now=utcnow(),
                              settings=request.app.state.settings)
    except ValidationFailed as exc:
        session.rollback()  # nothing of a refused report is kept
        return _call_page(request, session, form, exc.errors, status_code=422)
    except DomainError as exc:
        session.rollback()
        return _call_page(request, session, form, [form_error(request, exc)], status_code=exc.status)
    return RedirectResponse(f"/console/feedback/call?code={item.case.code}", status_code=303)


@router.get("/console/feedback/call/caller")
def caller_lookup(request: Request, session: DbSession, _: Operator,
                  phone: Annotated[str, Query(max_length=40)] = "") -> Response:
    """The caller's earlier reports (an HTMX fragment)."""
    found = console.caller_reports(session, phone=phone)
    return render(request, "feedback/_caller.html", {
        **LABELS, "found": found, "searched": len(console.phone_digits(phone)) >= console.MIN_PHONE_DIGITS,
    })


@router.get("/console/feedback/call/nearby")
def nearby_lookup(request: Request, session: DbSession, _: Operator,
                  query: Annotated[NearbyQuery, Query()]) -> Response:
    """Open reports near the pin (an HTMX fragment); of the chosen category, ranked by text, when one is chosen."""
    found = []
    if query.lat is not None and query.long is not None:
        found = console.nearby_open(session, lat=query.lat, lon=query.long, now=utcnow(),
                                    settings=request.app.state.settings, service_code=query.service_code or None,
                                    text=query.description)
    return render(request, "feedback/_nearby.html", {
        **LABELS, "found": found, "placed": query.lat is not None and query.long is not None,
        "texts": {c.item.case.id: redact(c.item.case.description)[:200] for c in found},
    })
