"""JSON API of the rules store: ``/api/v1/rules`` (list, create, read, change, delete = archive), versions and
their differences, enable/disable, and "how often would this have fired?" (a backtest on history).

Reading needs ``rules:read``; everything else ``rules:write`` (a token's scopes narrow both). A definition
that is not valid — schema or content — is answered ``422`` with code ``invalid-rule`` and every problem in
``errors``; nothing is stored. Thin handlers over :mod:`saola.rules.service`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.rules import service
from saola.rules.definitions import RuleDefinition
from saola.rules.errors import InvalidRule
from saola.rules.schemas import (
    BacktestOut,
    Change,
    DiffOut,
    RuleChange,
    RuleCreate,
    RuleOut,
    RulePage,
    RuleTest,
    VersionOut,
)


class RuleBodyRoute(APIRoute):
    """Body validation errors of a rule are ``invalid-rule`` (the rules' own code), not the generic one."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def _handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                body = [e for e in exc.errors() if e.get("loc", ("",))[0] == "body"]
                if not body or len(body) != len(exc.errors()):
                    raise
                errors = [{"field": ".".join(str(p) for p in e["loc"][1:]) or "body",
                           "message": str(e.get("msg", "")).removeprefix("Value error, ")} for e in body]
                raise InvalidRule(errors) from exc

        return _handler


router = APIRouter(prefix="/api/v1/rules", tags=["rules"], route_class=RuleBodyRoute)
Reader = Annotated[Principal, Depends(require("rules:read"))]
Writer = Annotated[Principal, Depends(require("rules:write"))]
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "Code `invalid-rule`: every problem of the definition listed in `errors`"}}
MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "Code `rule-not-found`"}}
ARCHIVED: dict[int | str, dict[str, Any]] = {409: {"description": "Code `rule-archived`: a deleted rule is read-only"}}
Days = Annotated[int, Query(ge=1, le=service.MAX_TEST_DAYS, description="How many days back to replay")]


def _backtest(session: DbSession, definition: RuleDefinition, days: int) -> BacktestOut:
    run = service.backtest_definition(session, definition=definition, days=days, now=utcnow())
    r = run.result
    return BacktestOut(start=run.start, end=run.end, firings=r.firings, subjects=r.subjects, samples=r.samples,
                       per_day=dict(r.per_day), first=r.first, last=r.last, examples=list(r.examples))


@router.get("", response_model=RulePage, summary="The rules (archived ones with `archived=true`)")
def list_rules(
    session: DbSession, _: Reader,
    enabled: bool | None = None,
    archived: bool = False,
    kind: Annotated[str | None, Query(max_length=40, description="Condition kind, e.g. threshold")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RulePage:
    rules = service.list_rules(session, enabled=enabled, archived=archived, kind=kind, limit=limit, offset=offset)
    return RulePage(items=[RuleOut.of(r) for r in rules])


@router.post("", response_model=RuleOut, status_code=status.HTTP_201_CREATED, responses=INVALID,
             summary="Create a rule (version 1; disabled unless `enabled` is true)")
def create_rule(body: RuleCreate, session: DbSession, principal: Writer) -> RuleOut:
    rule = service.create_rule(session, definition=body.definition, actor=principal, enabled=body.enabled,
                               now=utcnow())
    return RuleOut.of(rule)


@router.post("/test", response_model=BacktestOut, responses=INVALID,
             summary="How often would this unsaved definition have fired over the last days?")
def test_unsaved(body: RuleTest, session: DbSession, _: Writer, days: Days = 7) -> BacktestOut:
    return _backtest(session, body.definition, days)


@router.get("/{rule_id}", response_model=RuleOut, responses=MISSING, summary="One rule (archived ones too)")
def get_rule(rule_id: int, session: DbSession, _: Reader) -> RuleOut:
    return RuleOut.of(service.get_rule(session, rule_id=rule_id))


@router.put("/{rule_id}", response_model=RuleOut, responses={**INVALID, **MISSING, **ARCHIVED},
            summary="Change a rule's definition: stored as its next version, the previous ones kept")
def update_rule(rule_id: int, body: RuleChange, session: DbSession, principal: Writer) -> RuleOut:
    rule = service.update_rule(session, rule_id=rule_id, definition=body.definition, actor=principal, now=utcnow())
    return RuleOut.of(rule)


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses={**MISSING, **ARCHIVED},
               summary="Delete (archive) a rule: disabled and read-only; alerts keep referring to it")
def delete_rule(rule_id: int, session: DbSession, principal: Writer) -> Response:
    service.delete_rule(session, rule_id=rule_id, actor=principal, now=utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{rule_id}/enable", response_model=RuleOut, responses={**MISSING, **ARCHIVED},
             summary="Start evaluating the rule")
def enable_rule(rule_id: int, session: DbSession, principal: Writer) -> RuleOut:
    return RuleOut.of(service.set_enabled(session, rule_id=rule_id, enabled=True, actor=principal, now=utcnow()))


@router.post("/{rule_id}/disable", response_model=RuleOut, responses={**MISSING, **ARCHIVED},
             summary="Stop evaluating the rule")
def disable_rule(rule_id: int, session: DbSession, principal: Writer) -> RuleOut:
    return RuleOut.of(service.set_enabled(session, rule_id=rule_id, enabled=False, actor=principal, now=utcnow()))


@router.get("/{rule_id}/versions", response_model=list[VersionOut], responses=MISSING,
            summary="Every version of the rule, newest first, with who wrote it and when")
def list_versions(rule_id: int, session: DbSession, _: Reader) -> list[VersionOut]:
    rule = service.get_rule(session, rule_id=rule_id)
    return [VersionOut.of(v, current=rule.current_version) for v in service.versions(session, rule_id=rule_id)]


@router.get("/{rule_id}/versions/{version}", response_model=VersionOut,
            responses={404: {"description": "Code `rule-not-found` or `rule-version-not-found`"}},
            summary="One version of the rule")
def get_version(rule_id: int, version: int, session: DbSession, _: Reader) -> VersionOut:
    rule = service.get_rule(session, rule_id=rule_id)
    return VersionOut.of(service.get_version(session, rule_id=rule_id, version=version), current=rule.current_version)


@router.get("/{rule_id}/diff", response_model=DiffOut,
            responses={404: {"description": "Code `rule-not-found` or `rule-version-not-found`"}},
            summary="What changed between two versions of the rule")
def diff_versions(rule_id: int, session: DbSession, _: Reader,
                  old: Annotated[int, Query(alias="from", ge=1)],
                  new: Annotated[int, Query(alias="to", ge=1)]) -> DiffOut:
    changes = service.diff(session, rule_id=rule_id, old=old, new=new)
    return DiffOut(rule_id=rule_id, old=old, new=new, changes=[Change(**c) for c in changes])


@router.post("/{rule_id}/test", response_model=BacktestOut, responses=MISSING,
             summary="How often would the rule's current version have fired over the last days?")
def test_rule(rule_id: int, session: DbSession, _: Writer, days: Days = 7) -> BacktestOut:
    rule = service.get_rule(session, rule_id=rule_id)
    return _backtest(session, RuleDefinition.model_validate(rule.definition), days)
