"""Console pages of the alerts: the list (``/console/alerts``, severity and state filters), one alert with its
timeline and the acknowledge and clear forms, one's alert subscriptions and the on-duty roster.

Thin handlers: they parse, call :mod:`saola.rules.alerts` / :mod:`saola.rules.alert_subscriptions` and
render; a refused action re-renders the page with the error (and its status) and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from saola.context.browse import entity_url
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import DomainError, ValidationFailed
from saola.rules import alert_subscriptions as subs
from saola.rules import alerts
from saola.rules.alert_schemas import ShiftIn, SubscriptionIn
from saola.rules.definitions import SEVERITIES
from saola.web.templating import NavItem, form_error, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.rules")
register_nav(NavItem("/console/alerts", "Alerts", icon="alert", permission="alerts:read", order=36))

Reader = Annotated[Principal, Depends(require("alerts:read", page=True))]
Writer = Annotated[Principal, Depends(require("alerts:write", page=True))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
PAGE = 50
STATES = ("active", "acknowledged", "cleared-unacknowledged", "cleared")
NOTICES = {"acknowledged": "The alert was acknowledged", "cleared": "The alert was cleared",
           "subscribed": "The subscription was saved", "unsubscribed": "The subscription was deleted",
           "shift": "The duty shift was added", "unshift": "The duty shift was removed"}
Done = Annotated[str | None, Query(max_length=20)]


def _notice(done: str | None) -> str | None:
    return NOTICES.get(done or "")


@router.get("/console/alerts")
def alerts_page(request: Request, session: DbSession, principal: Reader,
                severity: Annotated[str | None, Query(pattern="^(critical|major|minor|warning|info)?$")] = None,
                state: Annotated[str | None, Query(pattern="^(open|active|acknowledged|cleared|"
                                                  "cleared-unacknowledged|all)?$")] = None,
                q: Annotated[str | None, Query(max_length=1024)] = None,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1, done: Done = None) -> Response:
    state = state or "open"
    states = {"open": ["active", "acknowledged", "cleared-unacknowledged"], "all": None}.get(state, [state])
    filters: dict[str, Any] = {"states": states, "severity": severity or None, "subject": (q or "").strip() or None}
    total = alerts.count_alerts(session, **filters)
    items = alerts.list_alerts(session, **filters, limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "alerts/list.html", {
        "alerts": items, "total": total, "page": page, "pages": max(1, -(-total // PAGE)),
        "severity": severity or "", "state": state, "q": q or "", "severities": SEVERITIES, "states": STATES,
        "counts": alerts.active_counts(session), "display_state": alerts.display_state,
        "can_write": principal.can("alerts:write"), "notice": _notice(done)})


def _subscriptions_page(request: Request, session: DbSession, principal: Principal, *, notice: str | None = None,
                        error: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "alerts/subscriptions.html", {
        "subscriptions": subs.list_subscriptions(session, user_id=principal.user.id), "severities": SEVERITIES,
        "webhooks": bool(request.app.state.settings.webhook_secret), "notice": notice, "error": error,
    }, status_code=status_code)


@router.get("/console/alerts/subscriptions")
def subscriptions_page(request: Request, session: DbSession, principal: Writer, done: Done = None) -> Response:
    return _subscriptions_page(request, session, principal, notice=_notice(done))


def _quiet(value: str) -> time | None:
    return time.fromisoformat(value) if value.strip() else None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


@router.post("/console/alerts/subscriptions")
def subscribe(request: Request, session: DbSession, principal: Writer,
              name: Annotated[str, Form(max_length=120)] = "",
              min_severity: Annotated[str, Form(max_length=10)] = "major",
              channels: Annotated[list[str] | None, Form()] = None,
              webhook_url: Annotated[str, Form(max_length=200)] = "",
              entity_types: Annotated[str, Form(max_length=4000)] = "",
              agencies: Annotated[str, Form(max_length=2000)] = "",
              quiet_start: Annotated[str, Form(max_length=8)] = "",
              quiet_end: Annotated[str, Form(max_length=8)] = "") -> Response:
    try:
        try:
            data = SubscriptionIn(name=name, min_severity=min_severity, channels=channels or [],  # type: ignore[arg-type]
                                  webhook_url=webhook_url, entity_types=_split(entity_types),
                                  agencies=_split(agencies), quiet_start=_quiet(quiet_start),
                                  quiet_end=_quiet(quiet_end))
        except (ValidationError, ValueError) as exc:
            field = str(exc.errors()[0]["loc"][0]) if isinstance(exc, ValidationError) and exc.errors() else ""
            raise ValidationFailed([{"field": field, "message": "not valid"}],
                                   "Check the subscription: choose a channel and valid values") from None
        subs.create_subscription(session, user=principal.user, data=data, now=utcnow(),
                                 settings=request.app.state.settings)
    except DomainError as exc:
        session.rollback()
        return _subscriptions_page(request, session, principal, error=form_error(request, exc), status_code=exc.status)
    return RedirectResponse("/console/alerts/subscriptions?done=subscribed", status_code=303)


@router.post("/console/alerts/subscriptions/{subscription_id}/delete")
def unsubscribe(request: Request, session: DbSession, principal: Writer, subscription_id: Id) -> Response:
    try:
        subs.delete_subscription(session, subscription_id=subscription_id, user=principal.user)
    except DomainError as exc:
        session.rollback()
        return _subscriptions_page(request, session, principal, error=form_error(request, exc), status_code=exc.status)
    return RedirectResponse("/console/alerts/subscriptions?done=unsubscribed", status_code=303)


def _roster_page(request: Request, session: DbSession, principal: Principal, *, notice: str | None = None,
                 error: dict[str, str] | None = None, status_code: int = 200) -> Response:
    now = utcnow()
    return render(request, "alerts/on_duty.html", {
        "now_on_duty": subs.on_duty_now(session, now=now),
        "shifts": subs.roster(session, start=now - timedelta(days=1), end=now + timedelta(days=14)),
        "now": now, "can_write": principal.can("alerts:write"), "manage_all": principal.can("agencies:all"),
        "users": subs.operators(session) if principal.can("agencies:all") else [],
        "notice": notice, "error": error}, status_code=status_code)


@router.get("/console/alerts/on-duty")
def roster_page(request: Request, session: DbSession, principal: Reader, done: Done = None) -> Response:
    return _roster_page(request, session, principal, notice=_notice(done))


def _local(value: str, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=tz)


@router.post("/console/alerts/on-duty")
def add_shift(request: Request, session: DbSession, principal: Writer,
              starts_at: Annotated[str, Form(max_length=30)], ends_at: Annotated[str, Form(max_length=30)],
              user_id: Annotated[str, Form(max_length=12)] = "",
              note: Annotated[str, Form(max_length=300)] = "") -> Response:
    tz = ZoneInfo(request.app.state.settings.timezone)
    try:
        try:
            data = ShiftIn(user_id=int(user_id) if user_id.strip() else None, starts_at=_local(starts_at, tz),
                           ends_at=_local(ends_at, tz), note=note)
        except (ValidationError, ValueError):
            raise ValidationFailed([{"field": "starts_at", "message": "not valid"}],
                                   "Give the start and end of the shift as dates and times") from None
        subs.add_shift(session, actor=principal, data=data, now=utcnow())
    except DomainError as exc:
        session.rollback()
        return _roster_page(request, session, principal, error=form_error(request, exc), status_code=exc.status)
    return RedirectResponse("/console/alerts/on-duty?done=shift", status_code=303)


@router.post("/console/alerts/on-duty/{shift_id}/delete")
def delete_shift(request: Request, session: DbSession, principal: Writer, shift_id: Id) -> Response:
    try:
        subs.delete_shift(session, actor=principal, shift_id=shift_id)
    except DomainError as exc:
        session.rollback()
        return _roster_page(request, session, principal, error=form_error(request, exc), status_code=exc.status)
    return RedirectResponse("/console/alerts/on-duty?done=unshift", status_code=303)


def _alert_page(request: Request, session: DbSession, principal: Principal, alert_id: int, *,
                notice: str | None = None, error: dict[str, str] | None = None, status_code: int = 200) -> Response:
    alert = alerts.get_alert(session, alert_id=alert_id)
    return render(request, "alerts/alert.html", {
        "alert": alert, "timeline": alerts.timeline(session, alert_id=alert_id),
        "state": alerts.display_state(alert), "entity_link": entity_url(alert.subject, alert.tenant)
        if not alert.subject.startswith("area:") else None,
        "can_write": principal.can("alerts:write"), "can_incident": principal.can("incidents:write"),
        "notice": notice, "error": error}, status_code=status_code)


@router.get("/console/alerts/{alert_id}")
def alert_page(request: Request, session: DbSession, principal: Reader, alert_id: Id, done: Done = None) -> Response:
    return _alert_page(request, session, principal, alert_id, notice=_notice(done))


@router.post("/console/alerts/{alert_id}/acknowledge")
def acknowledge(request: Request, session: DbSession, principal: Writer, alert_id: Id,
                note: Annotated[str, Form(max_length=2000)] = "",
                back: Annotated[str, Form(max_length=10)] = "") -> Response:
    try:
        alerts.acknowledge(session, alert_id=alert_id, actor=principal, now=utcnow(), note=note)
    except DomainError as exc:
        session.rollback()
        return _alert_page(request, session, principal, alert_id, error=form_error(request, exc),
                           status_code=exc.status)
    target = "/console/alerts?done=acknowledged" if back == "list" else f"/console/alerts/{alert_id}?done=acknowledged"
    return RedirectResponse(target, status_code=303)


@router.post("/console/alerts/{alert_id}/clear")
def clear(request: Request, session: DbSession, principal: Writer, alert_id: Id,
          reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        alerts.clear_by_person(session, alert_id=alert_id, actor=principal, now=utcnow(), reason=reason)
    except DomainError as exc:
        session.rollback()
        return _alert_page(request, session, principal, alert_id, error=form_error(request, exc),
                           status_code=exc.status)
    return RedirectResponse(f"/console/alerts/{alert_id}?done=cleared", status_code=303)
