"""Console pages of the IOC's rules: the list (enable/disable toggles), the editor, a rule with its versions,
and "How often would this have fired last week?" (a backtest on the history) before enabling.

Reading needs ``rules:read``; creating, changing, testing, enabling and deleting need ``rules:write``.
Thin handlers over :mod:`saola.rules.service` (the functions the API uses) and :mod:`saola.rules.rule_forms`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import DomainError
from saola.rules import rule_forms, service
from saola.rules.definitions import SEVERITIES, RuleDefinition
from saola.rules.engine_worker import list_errors
from saola.rules.errors import InvalidRule
from saola.rules.models import Rule
from saola.web.templating import NavItem, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.rules")
register_nav(NavItem("/console/rules", "Rules", icon="sliders", permission="rules:read", order=22))

Reader = Annotated[Principal, Depends(require("rules:read", page=True))]
Writer = Annotated[Principal, Depends(require("rules:write", page=True))]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TEST_DAYS = 7
NOTICES = {
    "created": "The rule was saved, disabled: test it, then enable it",
    "saved": "The rule was saved as a new version",
    "unchanged": "Nothing changed: no new version was stored",
    "on": "The rule is enabled: the engine evaluates it from now on",
    "off": "The rule is disabled",
    "deleted": "The rule was deleted (archived): its alerts keep referring to it",
}


async def form_fields(request: Request) -> dict[str, list[str]]:
    """Every posted field with all its values (the editor has repeated checkboxes)."""
    form = await request.form()
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    return fields


Fields = Annotated[dict[str, list[str]], Depends(form_fields)]


@router.get("/console/rules")
def rules_page(request: Request, session: DbSession, principal: Reader,
               show: Annotated[str, Query(pattern="^(current|archived)$")] = "current",
               done: Annotated[str | None, Query(max_length=12)] = None) -> Response:
    rules = service.list_rules(session, archived=show == "archived")
    ids = [r.id for r in rules]
    return render(request, "rules/list.html", {
        "rules": rules, "show": show, "notice": NOTICES.get(done or ""), "can_write": principal.can("rules:write"),
        "last_fired": service.last_fired(session, rule_ids=ids), "errors": service.error_counts(session, rule_ids=ids),
        "kind_labels": rule_forms.KIND_LABELS,
    })


def _editor(request: Request, *, rule: Rule | None, values: dict[str, Any], errors: list[dict[str, Any]] | None = None,
            error: str | None = None, test: service.BacktestRun | None = None, status_code: int = 200) -> Response:
    return render(request, "rules/edit.html", {
        "rule": rule, "v": values, "errors": errors or [], "error": error, "test": test, "kinds": rule_forms.KINDS,
        "kind_labels": rule_forms.KIND_LABELS, "severities": SEVERITIES, "weekdays": WEEKDAYS, "test_days": TEST_DAYS,
    }, status_code=status_code)


@router.get("/console/rules/new")
def new_rule_page(request: Request, _: Writer,
                  kind: Annotated[str, Query(pattern="^[a-z_]{1,20}$")] = "threshold") -> Response:
    kind = kind if kind in rule_forms.KINDS else "threshold"
    values = rule_forms.form_values({"severity": "warning", "condition": {"kind": kind}})
    return _editor(request, rule=None, values=values)


def _save(request: Request, session: Session, principal: Principal, fields: dict[str, list[str]],
          rule: Rule | None) -> Response:
    """Save (or, with ``action=test``, only test) the posted editor; the form again with the problems if any."""
    try:
        definition = service.parse_definition(rule_forms.definition_data(fields))
        if fields.get("action", [""])[-1] == "test":
            test = service.backtest_definition(session, definition=definition, days=TEST_DAYS, now=utcnow())
            return _editor(request, rule=rule, values=rule_forms.posted_values(fields), test=test)
        if rule is None:
            rule = service.create_rule(session, definition=definition, actor=principal, now=utcnow())
            return RedirectResponse(f"/console/rules/{rule.id}?done=created", status_code=303)
        before = rule.current_version
        rule = service.update_rule(session, rule_id=rule.id, definition=definition, actor=principal, now=utcnow())
        done = "saved" if rule.current_version != before else "unchanged"
        return RedirectResponse(f"/console/rules/{rule.id}?done={done}", status_code=303)
    except InvalidRule as exc:
        return _editor(request, rule=rule, values=rule_forms.posted_values(fields), errors=exc.errors,
                       status_code=422)
    except DomainError as exc:
        return _editor(request, rule=rule, values=rule_forms.posted_values(fields), error=exc.detail,
                       status_code=exc.status)


@router.post("/console/rules/new")
def create_rule_page(request: Request, session: DbSession, principal: Writer, fields: Fields) -> Response:
    return _save(request, session, principal, fields, None)


@router.get("/console/rules/{rule_id}/edit")
def edit_rule_page(request: Request, session: DbSession, _: Writer, rule_id: int) -> Response:
    rule = service.get_rule(session, rule_id=rule_id)
    return _editor(request, rule=rule, values=rule_forms.form_values(rule.definition))


@router.post("/console/rules/{rule_id}/edit")
def update_rule_page(request: Request, session: DbSession, principal: Writer, rule_id: int,
                     fields: Fields) -> Response:
    return _save(request, session, principal, fields, service.get_rule(session, rule_id=rule_id))


def _rule_page(request: Request, session: Session, principal: Principal, rule: Rule, *,
               notice: str | None = None, test: service.BacktestRun | None = None) -> Response:
    versions = service.versions(session, rule_id=rule.id)
    changes = {v.version: service.diff(session, rule_id=rule.id, old=v.version - 1, new=v.version)
               for v in versions if v.version > 1}
    return render(request, "rules/rule.html", {
        "rule": rule, "d": rule.definition, "versions": versions, "changes": changes, "notice": notice, "test": test,
        "can_write": principal.can("rules:write"), "kind_labels": rule_forms.KIND_LABELS, "test_days": TEST_DAYS,
        "last_fired": service.last_fired(session, rule_ids=[rule.id]).get(rule.id),
        "errors": service.error_counts(session, rule_ids=[rule.id]).get(rule.id, 0),
        "recent_errors": list_errors(session, rule_id=rule.id, limit=10),
    })


@router.get("/console/rules/{rule_id}")
def rule_page(request: Request, session: DbSession, principal: Reader, rule_id: int,
              done: Annotated[str | None, Query(max_length=12)] = None) -> Response:
    return _rule_page(request, session, principal, service.get_rule(session, rule_id=rule_id),
                      notice=NOTICES.get(done or ""))


@router.post("/console/rules/{rule_id}/test")
def test_rule_page(request: Request, session: DbSession, principal: Writer, rule_id: int) -> Response:
    rule = service.get_rule(session, rule_id=rule_id)
    test = service.backtest_definition(session, definition=RuleDefinition.model_validate(rule.definition),
                                       days=TEST_DAYS, now=utcnow())
    return _rule_page(request, session, principal, rule, test=test)


@router.post("/console/rules/{rule_id}/enabled")
def switch_rule(session: DbSession, principal: Writer, rule_id: int, enabled: Annotated[bool, Form()],
                back: Annotated[str, Form(pattern="^(list|rule)$")] = "rule") -> Response:
    service.set_enabled(session, rule_id=rule_id, enabled=enabled, actor=principal, now=utcnow())
    done = "on" if enabled else "off"
    target = f"/console/rules?done={done}" if back == "list" else f"/console/rules/{rule_id}?done={done}"
    return RedirectResponse(target, status_code=303)


@router.post("/console/rules/{rule_id}/delete")
def delete_rule_page(session: DbSession, principal: Writer, rule_id: int) -> Response:
    service.delete_rule(session, rule_id=rule_id, actor=principal, now=utcnow())
    return RedirectResponse("/console/rules?done=deleted", status_code=303)
