"""Triage: a person gives a category to a report that arrived without one (status ``received``).

The report takes the category (and its answers are kept as given); its deadline is counted from
the receipt under the category's rule. Its agency is the one the routing rules choose at the moment of
triage (:func:`saola.feedback.routing.route`; the category's agency when no rule matches), and the rule
is named in the history. When that agency is another one the case is
forwarded there through the engine (``received → forwarded``, the category named in the reason),
then marked ``triaged`` when the actor sees every agency (the hotline centre), else left ``forwarded``
for the new owner to take; with the same agency it is marked ``triaged`` in place. Every move goes through
:func:`saola.cases.engine.transition`, so the roles, guards, row lock and history are the engine's.
The classifier's suggestion stays recorded beside the person's choice (the next training's data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.deadlines import compute_deadline
from saola.cases.engine import lock_case
from saola.cases.errors import InvalidTransition
from saola.core.calendar import default_calendar
from saola.feedback import categories as catalogue
from saola.feedback import routing
from saola.feedback.errors import ReportNotFound
from saola.feedback.models import FeedbackReport

TRIAGE_STATUS = "received"


def categorise(session: Session, *, case_id: int, service_code: str, actor: Any, now: datetime,
               reason: str | None = None) -> FeedbackReport:
    """Give the report of case ``case_id`` the category ``service_code`` and route it to its agency."""
    case = lock_case(session, case_id=case_id, actor=actor)
    report = session.scalar(select(FeedbackReport).where(FeedbackReport.case_id == case.id))
    if report is None:
        raise ReportNotFound("No report with id {case_id}", case_id=case_id)
    if case.status != TRIAGE_STATUS:
        raise InvalidTransition("Only a report waiting for triage can be given a category; this one is '{status}'",
                                status=case.status)
    category = catalogue.get_by_service_code(session, service_code=service_code)
    decision = routing.route(session, category=category, ward_code=report.ward_code, at=now)
    note = (reason or "").strip() or f"Category {category.service_code}" + (
        f", routing rule '{decision.rule.name}'" if decision.rule else "")
    routed = decision.history()
    if decision.agency.id != case.agency_id:
        cases.transition(session, case_id=case.id, to="forwarded", actor=actor, now=now, reason=note,
                         target_agency_id=decision.agency.id, data=routed)
        if actor.sees_all_agencies():  # the hotline centre routes it straight on; others leave it to the owner
            cases.transition(session, case_id=case.id, to="triaged", actor=actor, now=now, reason=note, data=routed)
    else:
        cases.transition(session, case_id=case.id, to="triaged", actor=actor, now=now, reason=note, data=routed)
    report.category_id = category.id
    case.title = category.name_vi
    case.deadline_at = compute_deadline(catalogue.deadline_rule(category), case.received_at, default_calendar())
    session.flush()
    return report
