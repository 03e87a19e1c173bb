"""Console page of the hotline's category tree: fields, categories, their agency, deadline and questions.

Staff with ``feedback:read`` see the tree; administrators (``feedback:manage``) switch a category
on or off here (the full editing is the JSON API, ``/api/v1/feedback/categories``). Thin handlers
over :mod:`saola.feedback.categories`, the functions the API uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.core.directory import service as directory
from saola.feedback import categories as service
from saola.feedback.schemas import CategoryUpdate
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.feedback")
register_nav(NavItem("/console/feedback/categories", "Report categories", icon="message", permission="feedback:read",
                     order=70))

Reader = Annotated[Principal, Depends(require("feedback:read", page=True))]
Manager = Annotated[Principal, Depends(require("feedback:manage", page=True))]

UNITS = {"working_hours": "working hours", "working_days": "working days", "calendar_hours": "hours",
         "calendar_days": "days"}
NOTICES = {"on": "The category is active again", "off": "The category was deactivated"}


@router.get("/console/feedback/categories")
def categories_page(request: Request, session: DbSession, principal: Reader,
                    done: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    categories = service.list_categories(session)
    agencies = directory.agencies_by_id(session, ids={c.agency_id for c in categories})
    tree = [(f, [c for c in categories if c.field_id == f.id]) for f in service.list_fields(session)]
    return render(request, "feedback/categories.html", {
        "tree": tree, "agencies": agencies, "units": UNITS, "notice": NOTICES.get(done or ""),
        "can_manage": principal.can("feedback:manage"),
    })


@router.post("/console/feedback/categories/{category_id}/active")
def switch_category(category_id: int, session: DbSession, principal: Manager,
                    active: Annotated[bool, Form()]) -> Response:
    service.update_category(session, actor=principal, category_id=category_id, data=CategoryUpdate(active=active))
    return RedirectResponse(f"/console/feedback/categories?done={'on' if active else 'off'}", status_code=303)
