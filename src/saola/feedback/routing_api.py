"""JSON API of the routing rules: ``/api/v1/feedback/routing-rules`` (list, create, change, delete, reorder, dry run).

Reading and the dry run need ``feedback:read``; changing needs ``feedback:manage``. Thin handlers
over :mod:`saola.feedback.routing`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.orm import Session

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.directory import service as directory
from saola.feedback import routing
from saola.feedback.models import FeedbackCategory, FeedbackField
from saola.feedback.routing import FeedbackRoutingRule
from saola.feedback.routing_schemas import (
    ReorderIn,
    RoutingAnswer,
    RoutingRuleIn,
    RoutingRuleOut,
    RoutingRuleUpdate,
    RuleRef,
)

router = APIRouter(prefix="/api/v1/feedback/routing-rules", tags=["feedback"])
Reader = Annotated[Principal, Depends(require("feedback:read"))]
Manager = Annotated[Principal, Depends(require("feedback:manage"))]
INVALID = {422: {"description": "Code `invalid-routing-rule`: every problem listed in `errors`"}}


def rule_views(session: Session, rules: list[FeedbackRoutingRule]) -> list[RoutingRuleOut]:
    """The rules with the codes and names of what they point at (shared with the console page)."""
    agencies = directory.agencies_by_id(session, ids={r.agency_id for r in rules})
    categories = {c.id: c.service_code for c in (session.get(FeedbackCategory, i) for i in
                                                 {r.category_id for r in rules if r.category_id}) if c}
    fields = {f.id: f.code for f in (session.get(FeedbackField, i) for i in
                                     {r.field_id for r in rules if r.field_id}) if f}
    return [RoutingRuleOut(
        id=r.id, position=r.position, name=r.name, active=r.active,
        service_code=categories.get(r.category_id) if r.category_id else None,
        field_code=fields.get(r.field_id) if r.field_id else None, ward_codes=list(r.ward_codes or []),
        weekdays=list(r.weekdays or []), time_from=r.time_from, time_to=r.time_to, agency_id=r.agency_id,
        agency_code=agencies[r.agency_id].code, agency_name=agencies[r.agency_id].name, updated_at=r.updated_at,
    ) for r in rules]


@router.get("", response_model=list[RoutingRuleOut], summary="The routing rules in the order they are tried")
def list_rules(session: DbSession, _: Reader) -> list[RoutingRuleOut]:
    return rule_views(session, routing.list_rules(session))


@router.get("/dry-run", response_model=RoutingAnswer,
            summary="Which agency would get a report of this category, at this point or ward, at this time?",
            responses={422: {"description": "Code `invalid-routing-query`"}})
def dry_run(
    request: Request, session: DbSession, _: Reader,
    service_code: Annotated[str | None, Query(max_length=60)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    long: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    ward_code: Annotated[str | None, Query(max_length=10)] = None,
    at: Annotated[datetime | None, Query(description="When (default: now); without a zone: local time")] = None,
) -> RoutingAnswer:
    answer = routing.explain(session, service_code=service_code or None, lat=lat, lon=long,
                             ward_code=ward_code or None, at=at or utcnow(),
                             triage_agency=request.app.state.settings.feedback_triage_agency)
    decision = answer.decision
    return RoutingAnswer(
        agency_id=decision.agency.id, agency_code=decision.agency.code, agency_name=decision.agency.name,
        rule=RuleRef(id=decision.rule.id, name=decision.rule.name) if decision.rule else None,
        triage=answer.triage, ward_code=answer.ward.code if answer.ward else None,
        ward_name=answer.ward.name if answer.ward else "", local_time=answer.local,
        passed_over=decision.passed_over)


@router.post("", response_model=RoutingRuleOut, status_code=status.HTTP_201_CREATED, responses=INVALID,
             summary="Add a rule (last unless a position is given)")
def create_rule(body: RoutingRuleIn, session: DbSession, principal: Manager) -> RoutingRuleOut:
    rule = routing.create_rule(session, actor=principal, data=body)
    return rule_views(session, [rule])[0]


@router.post("/reorder", response_model=list[RoutingRuleOut], responses=INVALID,
             summary="Put the rules in a new order (every rule's id, first tried first)")
def reorder_rules(body: ReorderIn, session: DbSession, principal: Manager) -> list[RoutingRuleOut]:
    return rule_views(session, routing.reorder(session, actor=principal, ids=body.ids))


@router.get("/{rule_id}", response_model=RoutingRuleOut, summary="One rule")
def get_rule(rule_id: int, session: DbSession, _: Reader) -> RoutingRuleOut:
    return rule_views(session, [routing.get_rule(session, rule_id=rule_id)])[0]


@router.patch("/{rule_id}", response_model=RoutingRuleOut, responses=INVALID,
              summary="Change a rule (`active: false` switches it off; `null` removes a condition)")
def update_rule(rule_id: int, body: RoutingRuleUpdate, session: DbSession, principal: Manager) -> RoutingRuleOut:
    return rule_views(session, [routing.update_rule(session, actor=principal, rule_id=rule_id, data=body)])[0]


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a rule (reports it routed keep its name in their history)")
def delete_rule(rule_id: int, session: DbSession, principal: Manager) -> Response:
    routing.delete_rule(session, actor=principal, rule_id=rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
