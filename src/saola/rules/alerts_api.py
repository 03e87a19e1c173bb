"""``/api/v1/alerts``: the IOC's alerts for machine clients, one's alert subscriptions and the on-duty roster.

Reading needs ``alerts:read``; acknowledging, clearing, subscriptions and shifts need ``alerts:write``.
Illegal lifecycle moves answer 409 with a stable code (``alert-already-acknowledged``,
``alert-already-cleared``, ``alert-invalid-transition``) and change nothing. Thin handlers: parse,
call :mod:`saola.rules.alerts` / :mod:`saola.rules.alert_subscriptions`, shape the answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from saola.core.auth.models import User
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.rules import alert_subscriptions as subs
from saola.rules import alerts
from saola.rules.alert_errors import InvalidAlertValue
from saola.rules.alert_models import DutyShift
from saola.rules.alert_schemas import (
    AcknowledgeIn,
    ClearIn,
    ShiftIn,
    SubscriptionIn,
    alert_json,
    event_json,
    shift_json,
    subscription_json,
)

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, Depends(require("alerts:read"))]
Writer = Annotated[Principal, Depends(require("alerts:write"))]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
STATE_PATTERN = "^(active|acknowledged|cleared|unacknowledged|cleared-unacknowledged)$"
SEVERITY_PATTERN = "^(critical|major|minor|warning|info)$"
CODES_409 = {409: {"description": "Codes `alert-already-acknowledged`, `alert-already-cleared`, "
                                  "`alert-invalid-transition`: the alert is not in a state that allows it"},
             404: {"description": "Code `alert-not-found`"}}


@router.get("", summary="Alerts, open ones first, then by severity and recency (filters and paging)")
def list_alerts(session: DbSession, principal: Reader,
                state: Annotated[list[str] | None, Query(description="Repeatable: active, acknowledged, cleared, "
                                                         "unacknowledged, cleared-unacknowledged")] = None,
                severity: Annotated[list[str] | None, Query(description="Repeatable")] = None,
                subject: Annotated[str | None, Query(max_length=1024)] = None,
                rule_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                entity_type: Annotated[str | None, Query(max_length=1024)] = None,
                owner_agency: Annotated[str | None, Query(max_length=40)] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
    filters: dict[str, Any] = {"states": state or None, "severity": severity or None, "subject": subject,
                               "rule_id": rule_id, "entity_type": entity_type, "owner_agency": owner_agency}
    items = alerts.list_alerts(session, **filters, limit=limit, offset=offset)
    return {"items": [alert_json(a) for a in items], "total": alerts.count_alerts(session, **filters),
            "limit": limit, "offset": offset}


@router.get("/counts", summary="Open alerts (active or acknowledged) by severity")
def counts(session: DbSession, principal: Reader) -> dict[str, int]:
    return alerts.active_counts(session)


@router.get("/subscriptions", summary="Your alert subscriptions")
def my_subscriptions(session: DbSession, principal: Writer) -> dict[str, Any]:
    return {"items": [subscription_json(s) for s in subs.list_subscriptions(session, user_id=principal.user.id)]}


@router.post("/subscriptions", status_code=201, summary="Subscribe to alerts (severity, types, agencies, channels)",
             responses={422: {"description": "Codes `validation-failed`, `alert-webhook-not-configured`, "
                                             "`alert-contact-missing`"}})
def create_subscription(request: Request, session: DbSession, principal: Writer,
                        body: SubscriptionIn) -> dict[str, Any]:
    sub = subs.create_subscription(session, user=principal.user, data=body, now=utcnow(),
                                   settings=request.app.state.settings)
    return subscription_json(sub)


@router.put("/subscriptions/{subscription_id}", summary="Change one of your alert subscriptions")
def update_subscription(request: Request, session: DbSession, principal: Writer, subscription_id: ItemId,
                        body: SubscriptionIn) -> dict[str, Any]:
    sub = subs.update_subscription(session, subscription_id=subscription_id, user=principal.user, data=body,
                                   now=utcnow(), settings=request.app.state.settings)
    return subscription_json(sub)


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Delete one of your alert subscriptions")
def delete_subscription(session: DbSession, principal: Writer, subscription_id: ItemId) -> Response:
    subs.delete_subscription(session, subscription_id=subscription_id, user=principal.user)
    return Response(status_code=204)


@router.get("/on-duty", summary="Who is on duty now, and the roster of a period (default: yesterday to next week)")
def on_duty(request: Request, session: DbSession, principal: Reader,
            start: Annotated[datetime | None, Query(alias="from")] = None,
            end: Annotated[datetime | None, Query(alias="to")] = None) -> dict[str, Any]:
    now, tz = utcnow(), ZoneInfo(request.app.state.settings.timezone)
    since = _aware(start, tz) or now - timedelta(days=1)
    until = _aware(end, tz) or since + timedelta(days=8)
    if until <= since or until - since > timedelta(days=62):
        raise InvalidAlertValue("'to' must be after 'from', at most 62 days later", field="to")
    return {"now": [_shift(s, u) for s, u in subs.on_duty_now(session, now=now)],
            "shifts": [_shift(s, u) for s, u in subs.roster(session, start=since, end=until)]}


def _shift(shift: DutyShift, user: User) -> dict[str, Any]:
    return shift_json(shift, user.username, user.full_name)


def _aware(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A time without a zone is local time (the operations centre's)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


@router.post("/on-duty", status_code=201, summary="Put an operator (yourself by default) on duty for a period",
             responses={403: {"description": "Code `alert-shift-not-allowed`"},
                        422: {"description": "Codes `validation-failed`, `alert-invalid-shift`"}})
def add_shift(session: DbSession, principal: Writer, body: ShiftIn) -> dict[str, Any]:
    shift = subs.add_shift(session, actor=principal, data=body, now=utcnow())
    return _shift(shift, subs.shift_user(session, shift=shift))


@router.delete("/on-duty/{shift_id}", status_code=204, summary="Remove a duty shift",
               responses={403: {"description": "Code `alert-shift-not-allowed`"},
                          404: {"description": "Code `alert-shift-not-found`"}})
def delete_shift(session: DbSession, principal: Writer, shift_id: ItemId) -> Response:
    subs.delete_shift(session, actor=principal, shift_id=shift_id)
    return Response(status_code=204)


@router.get("/{alert_id}", summary="One alert with its timeline", responses={404: CODES_409[404]})
def get_alert(session: DbSession, principal: Reader, alert_id: AlertId) -> dict[str, Any]:
    alert = alerts.get_alert(session, alert_id=alert_id)
    return alert_json(alert) | {"timeline": [event_json(e) for e in alerts.timeline(session, alert_id=alert_id)]}


@router.post("/{alert_id}/acknowledge", summary="Acknowledge an alert (active, or cleared and unacknowledged)",
             responses=CODES_409)
def acknowledge(session: DbSession, principal: Writer, alert_id: AlertId,
                body: AcknowledgeIn | None = None) -> dict[str, Any]:
    alert = alerts.acknowledge(session, alert_id=alert_id, actor=principal, now=utcnow(),
                               note=body.note if body else "")
    return alert_json(alert)


@router.post("/{alert_id}/clear", summary="Clear an open alert by hand, with a reason",
             responses=CODES_409 | {422: {"description": "Codes `validation-failed`, `alert-reason-required`"}})
def clear(session: DbSession, principal: Writer, alert_id: AlertId, body: ClearIn) -> dict[str, Any]:
    alert = alerts.clear_by_person(session, alert_id=alert_id, actor=principal, now=utcnow(), reason=body.reason)
    return alert_json(alert)
