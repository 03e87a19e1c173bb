"""Console page of the report classifier (``/console/feedback/classifier``, ``feedback:manage``): the model
card (source, when trained, examples per category, categories left out, held-out accuracy and macro-F1,
the auto-routing threshold) and a "Retrain now" form that runs :func:`saola.feedback.training.train`
in the request and shows the new figures (seconds for the sizes involved).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import BadRequest, DomainError
from saola.feedback import categories as catalogue
from saola.feedback import training
from saola.feedback.classifier import MIN_EXAMPLES_PER_LABEL
from saola.feedback.classifier_api import TrainIn, status
from saola.web.templating import NavItem, form_error, register_nav, render

router = APIRouter()
register_nav(NavItem("/console/feedback/classifier", "Report classifier", icon="sliders",
                     permission="feedback:manage", order=72))

Manager = Annotated[Principal, Depends(require("feedback:manage", page=True))]
NOTICES = {"trained": "The classifier was retrained and is in use"}


def _page(request: Request, session: DbSession, *, notice: str | None = None, error: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    names = {c.service_code: c for c in catalogue.list_categories(session)}
    return render(request, "feedback/classifier.html", {
        "status": status(request.app.state.settings), "names": names, "notice": notice, "error": error,
        "default_min": training.DEFAULT_MIN_PER_CATEGORY,
    }, status_code=status_code)


@router.get("/console/feedback/classifier")
def classifier_page(request: Request, session: DbSession, _: Manager,
                    done: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    return _page(request, session, notice=NOTICES.get(done or ""))


@router.post("/console/feedback/classifier/train")
def retrain(request: Request, session: DbSession, _: Manager,
            min_per_category: Annotated[str, Form(max_length=10)] = "",
            include_demo: Annotated[str, Form(max_length=10)] = "") -> Response:
    try:
        choice = TrainIn(min_per_category=int(min_per_category or training.DEFAULT_MIN_PER_CATEGORY),
                         include_demo=include_demo in ("on", "true", "1"))
    except (ValueError, ValidationError):
        bad = BadRequest("Give a whole number of at least {minimum}", field="min_per_category",
                         minimum=MIN_EXAMPLES_PER_LABEL)
        return _page(request, session, error=form_error(request, bad), status_code=422)
    try:
        training.train(session, settings=request.app.state.settings, now=utcnow(),
                       min_per_category=choice.min_per_category,
                       source="history+demo" if choice.include_demo else "history")
    except DomainError as exc:
        return _page(request, session, error=form_error(request, exc), status_code=exc.status)
    return RedirectResponse("/console/feedback/classifier?done=trained", status_code=303)
