"""Console page of the routing rules: the rules in the order they are tried, switched on or off here.

Staff with ``feedback:read`` see the list; administrators (``feedback:manage``) enable or disable
a rule (creating, changing and reordering are the JSON API, ``/api/v1/feedback/routing-rules``).
Thin handlers over :mod:`saola.feedback.routing`, the functions the API uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.feedback import routing
from saola.feedback.routing_api import rule_views
from saola.feedback.routing_schemas import RoutingRuleUpdate
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.feedback")
register_nav(NavItem("/console/feedback/routing", "Routing rules", icon="sliders", permission="feedback:read",
                     order=71))

Reader = Annotated[Principal, Depends(require("feedback:read", page=True))]
Manager = Annotated[Principal, Depends(require("feedback:manage", page=True))]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NOTICES = {"on": "The routing rule is active again", "off": "The routing rule was switched off"}


@router.get("/console/feedback/routing")
def routing_page(request: Request, session: DbSession, principal: Reader,
                 done: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    return render(request, "feedback/routing_rules.html", {
        "rules": rule_views(session, routing.list_rules(session)), "weekdays": WEEKDAYS,
        "notice": NOTICES.get(done or ""), "can_manage": principal.can("feedback:manage"),
    })


@router.post("/console/feedback/routing/{rule_id}/active")
def switch_rule(rule_id: int, session: DbSession, principal: Manager, active: Annotated[bool, Form()]) -> Response:
    routing.update_rule(session, actor=principal, rule_id=rule_id, data=RoutingRuleUpdate(active=active))
    return RedirectResponse(f"/console/feedback/routing?done={'on' if active else 'off'}", status_code=303)
