"""The alert service: raising and clearing alerts for the rule engine, and the operators' lifecycle moves.

Lifecycle, as data (:data:`TRANSITIONS`, one :func:`transition` function; illegal moves raise before
anything is saved)::

    active ──acknowledge──▶ acknowledged ──clear──▶ cleared
    active ──clear──▶ cleared (unacknowledged) ──acknowledge──▶ cleared (acknowledged)
    active ──escalate──▶ active (escalation level + 1)

An alert is deduplicated per rule and subject while it is open (``active`` or ``acknowledged``):
raising it again updates the last value, the occurrence count and ``last_seen_at`` and queues
``alert.updated`` instead of ``alert.raised``. The open row is locked before it is changed
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the caller's transaction should take the write
lock up front, :func:`saola.core.db.write_intent`, as request sessions of unsafe methods do) and the
database's unique ``open_key`` settles two concurrent first raises (a savepoint and a retry on PostgreSQL).
Every change adds a timeline entry and queues
an ``alert.*`` event, published after commit. Services flush, never commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saola.core.db import queue_event
from saola.rules import alert_errors as errors
from saola.rules.alert_models import OPEN_STATES, STATES, Alert, AlertEvent
from saola.rules.definitions import SEVERITIES

# state -> action -> next state
TRANSITIONS: dict[str, dict[str, str]] = {
    "active": {"acknowledge": "acknowledged", "clear": "cleared", "escalate": "active"},
    "acknowledged": {"clear": "cleared"},
    "cleared": {"acknowledge": "cleared"},
}
TERMINAL: frozenset[str] = frozenset({"cleared"})
# Raised when an action is not possible from a state, by action (default: InvalidAlertTransition).
REFUSALS: dict[str, type[errors.DomainError]] = {"clear": errors.AlertAlreadyCleared,
                                                 "acknowledge": errors.AlertAlreadyAcknowledged}
# Guards beside the table: (state, action) -> a check that raises when the move is not allowed.
GUARDS: dict[tuple[str, str], Callable[[Alert], None]] = {}
EVENT_OF_ACTION = {"acknowledge": "acknowledged", "clear": "cleared", "escalate": "escalated"}
MAX_LIST = 10_000  # most alerts one list call gives (the API pages at 500)
STATE_FILTERS = (*STATES, "unacknowledged", "cleared-unacknowledged")


def _guard(state: str, action: str) -> Callable[[Callable[[Alert], None]], Callable[[Alert], None]]:
    def register(check: Callable[[Alert], None]) -> Callable[[Alert], None]:
        GUARDS[(state, action)] = check
        return check
    return register


@_guard("cleared", "acknowledge")
def _cleared_must_be_unacknowledged(alert: Alert) -> None:
    if alert.acknowledged_at is not None:
        raise errors.AlertAlreadyAcknowledged()


def severity_rank(severity: str) -> int:
    """0 for critical … 4 for info (unknown severities rank last)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def display_state(alert: Alert) -> str:
    """``active``, ``acknowledged``, ``cleared`` or ``cleared-unacknowledged``."""
    if alert.state == "cleared" and alert.acknowledged_at is None:
        return "cleared-unacknowledged"
    return alert.state


def open_key(rule_id: int, subject: str) -> str:
    return hashlib.sha256(f"{rule_id}\n{subject}".encode()).hexdigest()


def who(actor: Any) -> tuple[int | None, str]:
    """(user id, name) of a signed-in principal, or (None, name) of the system / a rule."""
    if isinstance(actor, str):
        return None, actor[:64]
    user = getattr(actor, "user", None)
    if user is not None:
        return int(user.id), str(user.username)
    return None, str(getattr(actor, "name", "system"))[:64]


def payload(alert: Alert, at: datetime) -> dict[str, Any]:
    """The body of an ``alert.*`` event."""
    return {"id": alert.id, "rule_id": alert.rule_id, "rule_version": alert.rule_version, "tenant": alert.tenant,
            "subject": alert.subject, "entity_type": alert.entity_type, "severity": alert.severity,
            "state": alert.state, "display_state": display_state(alert), "title_vi": alert.title_vi,
            "title_en": alert.title_en, "value": alert.value, "occurrences": alert.occurrences,
            "at": at.isoformat(), "location": alert.location, "owner_agency": alert.owner_agency,
            "incident_type": alert.incident_type, "escalation_level": alert.escalation_level}


def _event(session: Session, alert: Alert, kind: str, *, at: datetime, actor: Any = "system", note: str = "",
           data: dict[str, Any] | None = None) -> None:
    actor_id, actor_name = who(actor)
    session.add(AlertEvent(alert_id=alert.id, at=at, kind=kind, actor_id=actor_id, actor_name=actor_name,
                           note=note, data=dict(data or {})))


def _lock_open(session: Session, rule_id: int, subject: str) -> Alert | None:
    stmt = (select(Alert).where(Alert.open_key == open_key(rule_id, subject)).with_for_update()
            .execution_options(populate_existing=True))
    return session.scalars(stmt).first()


def lock_alert(session: Session, *, alert_id: int) -> Alert:
    """The alert, locked for the rest of the transaction (404 ``alert-not-found`` if absent)."""
    stmt = select(Alert).where(Alert.id == alert_id).with_for_update().execution_options(populate_existing=True)
    alert = session.scalars(stmt).first()
    if alert is None:
        raise errors.AlertNotFound("No alert with id {id}", id=alert_id)
    return alert


def transition(session: Session, *, alert: Alert, action: str, actor: Any, now: datetime, note: str = "") -> Alert:
    """Apply ``action`` to a locked ``alert``; raises (409) before changing anything if it is not allowed."""
    moves = TRANSITIONS.get(alert.state, {})
    if action not in moves:
        refusal = REFUSALS.get(action, errors.InvalidAlertTransition)
        raise refusal("An alert in state '{state}' cannot be given the action '{action}'",
                      state=display_state(alert), action=action)
    guard = GUARDS.get((alert.state, action))
    if guard is not None:
        guard(alert)
    _, name = who(actor)
    if action == "acknowledge":
        alert.acknowledged_at, alert.acknowledged_by = now, name
    elif action == "clear":
        alert.cleared_at, alert.cleared_by, alert.cleared_reason = now, name, note[:500]
        alert.open_key = None
    elif action == "escalate":
        alert.escalation_level += 1
        alert.escalated_at = now
    alert.state = moves[action]
    kind = EVENT_OF_ACTION[action]
    _event(session, alert, kind, at=now, actor=actor, note=note,
           data={"level": alert.escalation_level} if action == "escalate" else None)
    session.flush()
    queue_event(session, f"alert.{kind}", payload(alert, now) | {"actor": name, "note": note})
    return alert


def _check_raise(severity: str, subject: str) -> None:
    if severity not in SEVERITIES:
        raise errors.InvalidAlertValue("Unknown severity '{severity}'", field="severity", severity=severity)
    if not subject.strip():
        raise errors.InvalidAlertValue("An alert needs a subject", field="subject")


def _refresh(session: Session, alert: Alert, *, severity: str, title_vi: str, title_en: str, value: Any,
             details: dict[str, Any], at: datetime, rule_version: int, location: dict[str, Any] | None) -> Alert:
    previous = alert.severity
    alert.last_seen_at = max(alert.last_seen_at, at)
    alert.occurrences += 1
    alert.value, alert.details, alert.rule_version = value, dict(details), rule_version
    alert.title_vi, alert.title_en = title_vi[:500], title_en[:500]
    if location is not None:
        alert.location = location
    if severity != previous:
        alert.severity = severity
        _event(session, alert, "updated", at=at, actor=f"rule {alert.rule_id}",
               data={"severity_from": previous, "severity_to": severity})
    session.flush()
    queue_event(session, "alert.updated", payload(alert, at))
    return alert


def raise_alert(session: Session, *, rule_id: int, rule_version: int, tenant: str, subject: str, entity_type: str,
                severity: str, title_vi: str, title_en: str, value: Any, details: dict[str, Any], at: datetime,
                owner_agency: str | None, location: dict[str, Any] | None, incident_type: str | None) -> Alert:
    """Raise an alert of rule ``rule_id`` on ``subject``, or update the open one (deduplicated)."""
    _check_raise(severity, subject)
    fields = dict(severity=severity, title_vi=title_vi, title_en=title_en, value=value, details=details, at=at,
                  rule_version=rule_version, location=location)
    existing = _lock_open(session, rule_id, subject)
    if existing is not None:
        return _refresh(session, existing, **fields)
    alert = Alert(rule_id=rule_id, rule_version=rule_version, tenant=tenant, subject=subject, entity_type=entity_type,
                  severity=severity, state="active", open_key=open_key(rule_id, subject), title_vi=title_vi[:500],
                  title_en=title_en[:500], value=value, details=dict(details), location=location,
                  owner_agency=owner_agency, incident_type=incident_type, started_at=at, last_seen_at=at,
                  occurrences=1, escalation_level=0)
    if session.get_bind().dialect.name == "postgresql":
        try:
            with session.begin_nested():  # a concurrent raise may have inserted the same open alert first
                session.add(alert)
                session.flush()
        except IntegrityError:
            existing = _lock_open(session, rule_id, subject)
            if existing is None:
                raise
            return _refresh(session, existing, **fields)
    else:  # SQLite serialises writers: no other transaction can insert between the check and this insert
        session.add(alert)
        session.flush()
    _event(session, alert, "raised", at=at, actor=f"rule {rule_id}", data={"value": value})
    session.flush()
    queue_event(session, "alert.raised", payload(alert, at))
    return alert


def clear_alert(session: Session, *, rule_id: int, subject: str, at: datetime, reason: str) -> Alert | None:
    """Clear the open alert of rule ``rule_id`` on ``subject`` (the condition no longer holds); None if none."""
    alert = _lock_open(session, rule_id, subject)
    if alert is None:
        return None
    return transition(session, alert=alert, action="clear", actor=f"rule {rule_id}", now=at,
                      note=reason or "condition no longer holds")


def check_may_act(actor: Any, alert: Alert) -> None:
    """People who see every agency (IOC operators, administrators) act on any alert; others on their agency's."""
    user = getattr(actor, "user", None)
    if user is None or actor.sees_all_agencies():
        return
    agency = user.agency.code if user.agency is not None else None
    if agency is None or agency != alert.owner_agency:
        raise errors.AlertNotYourAgency()


def acknowledge(session: Session, *, alert_id: int, actor: Any, now: datetime, note: str = "") -> Alert:
    """An operator has seen the alert (active, or cleared and not yet acknowledged)."""
    alert = lock_alert(session, alert_id=alert_id)
    check_may_act(actor, alert)
    return transition(session, alert=alert, action="acknowledge", actor=actor, now=now, note=note.strip()[:2000])


def clear_by_person(session: Session, *, alert_id: int, actor: Any, now: datetime, reason: str) -> Alert:
    """An operator clears an open alert by hand, saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ClearReasonRequired(field="reason")
    alert = lock_alert(session, alert_id=alert_id)
    check_may_act(actor, alert)
    return transition(session, alert=alert, action="clear", actor=actor, now=now, note=reason[:500])


def escalate(session: Session, *, alert_id: int, now: datetime, note: str = "") -> Alert:
    """Raise the escalation level of an unacknowledged active alert (the escalation job)."""
    alert = lock_alert(session, alert_id=alert_id)
    return transition(session, alert=alert, action="escalate", actor="system", now=now, note=note)


def get_alert(session: Session, *, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise errors.AlertNotFound("No alert with id {id}", id=alert_id)
    return alert


def timeline(session: Session, *, alert_id: int) -> list[AlertEvent]:
    stmt = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.at, AlertEvent.id)
    return list(session.scalars(stmt))


def active_counts(session: Session) -> dict[str, int]:
    """Open alerts (active or acknowledged) by severity, every severity present (0 if none)."""
    rows = session.execute(select(Alert.severity, func.count()).where(Alert.state.in_(OPEN_STATES))
                           .group_by(Alert.severity))
    counts = dict.fromkeys(SEVERITIES, 0)
    for severity, count in rows:
        counts[severity] = int(count)
    return counts


def _filtered(stmt: Select[Any], *, states: Sequence[str] | None, severity: str | Sequence[str] | None,
              subject: str | None, rule_id: int | None, entity_type: str | None, owner_agency: str | None,
              since: datetime | None) -> Select[Any]:
    if states:
        unknown = [s for s in states if s not in STATE_FILTERS]
        if unknown:
            raise errors.InvalidAlertValue("Unknown alert state '{state}'", field="state", state=unknown[0])
        plain = [s for s in states if s in STATES]
        conditions = [Alert.state.in_(plain)] if plain else []
        if "unacknowledged" in states:
            conditions.append(Alert.acknowledged_at.is_(None))
        if "cleared-unacknowledged" in states:
            conditions.append((Alert.state == "cleared") & Alert.acknowledged_at.is_(None))
        stmt = stmt.where(or_(*conditions))
    if severity:
        wanted = [severity] if isinstance(severity, str) else list(severity)
        unknown = [s for s in wanted if s not in SEVERITIES]
        if unknown:
            raise errors.InvalidAlertValue("Unknown severity '{severity}'", field="severity", severity=unknown[0])
        stmt = stmt.where(Alert.severity.in_(wanted))
    if subject:
        stmt = stmt.where(Alert.subject == subject)
    if rule_id is not None:
        stmt = stmt.where(Alert.rule_id == rule_id)
    if entity_type:
        stmt = stmt.where(Alert.entity_type == entity_type)
    if owner_agency:
        stmt = stmt.where(Alert.owner_agency == owner_agency)
    if since is not None:
        stmt = stmt.where(Alert.last_seen_at >= since)
    return stmt


def list_alerts(session: Session, *, states: Sequence[str] | None = None, severity: str | Sequence[str] | None = None,
                subject: str | None = None, rule_id: int | None = None, entity_type: str | None = None,
                owner_agency: str | None = None, since: datetime | None = None, limit: int = 100,
                offset: int = 0) -> list[Alert]:
    """Alerts, open ones first, then most severe, then newest (``states`` may include ``cleared-unacknowledged``)."""
    stmt = _filtered(select(Alert), states=states, severity=severity, subject=subject, rule_id=rule_id,
                     entity_type=entity_type, owner_agency=owner_agency, since=since)
    closed_last = case((Alert.open_key.is_(None), 1), else_=0)
    stmt = stmt.order_by(closed_last, _severity_order(), Alert.last_seen_at.desc(), Alert.id.desc())
    return list(session.scalars(stmt.limit(max(1, min(limit, MAX_LIST))).offset(max(0, offset))))


def _severity_order() -> Any:
    return case({s: i for i, s in enumerate(SEVERITIES)}, value=Alert.severity, else_=len(SEVERITIES))


def count_alerts(session: Session, *, states: Sequence[str] | None = None, severity: str | Sequence[str] | None = None,
                 subject: str | None = None, rule_id: int | None = None, entity_type: str | None = None,
                 owner_agency: str | None = None, since: datetime | None = None) -> int:
    """How many alerts :func:`list_alerts` would give without paging."""
    stmt = _filtered(select(func.count()).select_from(Alert), states=states, severity=severity, subject=subject,
                     rule_id=rule_id, entity_type=entity_type, owner_agency=owner_agency, since=since)
    return int(session.scalar(stmt) or 0)


def alerts_for_subject(session: Session, *, subject: str, limit: int = 20) -> list[Alert]:
    """The alerts of one entity (or area), newest first."""
    stmt = (select(Alert).where(Alert.subject == subject).order_by(Alert.started_at.desc(), Alert.id.desc())
            .limit(max(1, min(limit, MAX_LIST))))
    return list(session.scalars(stmt))
