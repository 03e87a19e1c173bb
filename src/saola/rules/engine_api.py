"""Read-only JSON API of the rule engine: its counters and the errors it recorded per rule.

``GET /api/v1/rule-engine/status`` — events seen, evaluations, decisions, errors, lag, pending work;
``GET /api/v1/rules/{rule_id}/errors`` — the last error per subject and how often it happened.
Both need ``rules:read``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.rules import service
from saola.rules.engine_worker import list_errors

router = APIRouter(tags=["rules"])
Reader = Annotated[Principal, Depends(require("rules:read"))]


class EngineStatus(BaseModel):
    running: bool = Field(description="The engine runs in this process (SAOLA_RULES_ENGINE=on)")
    started_at: datetime | None = None
    rules: int = Field(0, description="Enabled rules evaluated")
    subjects: int = Field(0, description="Subjects (entities, areas) with state")
    timers: int = Field(0, description="Running timers (for_seconds, clear_after, cooldown, windows)")
    events: int = Field(0, description="Events seen since start")
    evaluations: int = 0
    decisions: int = Field(0, description="Raise, update and clear decisions since start")
    errors: int = Field(0, description="Evaluation errors since start")
    applied: int = Field(0, description="Decisions written to alerts")
    pending_decisions: int = 0
    failed_batches: int = 0
    lag_seconds: float = Field(0.0, description="Delay between the last event's publication and its evaluation")
    last_flush: datetime | None = None
    dropped_events: int = Field(0, description="Events lost because the engine's queue was full")


class RuleErrorOut(BaseModel):
    rule_id: int
    subject: str = Field(description="The entity or area; empty for an error of the rule itself")
    message: str
    at: datetime
    count: int


@router.get("/api/v1/rule-engine/status", response_model=EngineStatus, summary="The rule engine's counters")
def engine_status(request: Request, _who: Reader) -> Any:
    worker = getattr(request.app.state, "rules_engine", None)
    if worker is None:
        return EngineStatus(running=False)
    return EngineStatus(**worker.status())


@router.get("/api/v1/rules/{rule_id}/errors", response_model=list[RuleErrorOut],
            responses={404: {"description": "Code `rule-not-found`"}},
            summary="Errors the engine recorded evaluating a rule (last per subject)")
def rule_errors(rule_id: int, session: DbSession, _who: Reader,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    service.get_rule(session, rule_id=rule_id)
    return [RuleErrorOut(rule_id=e.rule_id, subject=e.subject, message=e.message, at=e.at, count=e.count)
            for e in list_errors(session, rule_id=rule_id, limit=limit)]
