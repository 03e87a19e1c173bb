"""People's alert subscriptions and the operations centre's on-duty roster (services; flush, never commit).

A subscription belongs to one user, who alone sees and changes it. A channel needs its address:
``email`` the user's e-mail address, ``sms`` their phone, ``webhook`` a URL and
``SAOLA_WEBHOOK_SECRET`` (webhooks are never sent unsigned). A duty shift puts an operator on duty
for a period; anyone with ``alerts:write`` manages their own shifts, and those who see every
agency (``agencies:all``: IOC operators, administrators) manage everyone's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.auth.models import User
from saola.core.auth.permissions import permissions_for
from saola.rules import alert_errors as errors
from saola.rules.alert_models import AlertSubscription, DutyShift
from saola.rules.alert_schemas import ShiftIn, SubscriptionIn

MAX_SUBSCRIPTIONS = 20
MAX_SHIFT = timedelta(days=7)


def _check_channels(user: User, data: SubscriptionIn, settings: Any) -> None:
    if "webhook" in data.channels:
        if not data.webhook_url:
            raise errors.InvalidAlertValue("The webhook channel needs a webhook_url", field="webhook_url")
        if not settings.webhook_secret:
            raise errors.WebhookNotConfigured(field="channels")
    if "email" in data.channels and not (user.email or "").strip():
        raise errors.ContactMissing("Your profile has no e-mail address", field="channels")
    if "sms" in data.channels and not (user.phone or "").strip():
        raise errors.ContactMissing("Your profile has no phone number", field="channels")


def _apply(sub: AlertSubscription, data: SubscriptionIn, now: datetime) -> None:
    sub.name, sub.min_severity, sub.channels = data.name.strip(), data.min_severity, list(data.channels)
    sub.webhook_url = data.webhook_url if "webhook" in data.channels else ""
    sub.entity_types, sub.agencies = list(data.entity_types), list(data.agencies)
    sub.quiet_start, sub.quiet_end, sub.active = data.quiet_start, data.quiet_end, data.active
    sub.updated_at = now


def list_subscriptions(session: Session, *, user_id: int) -> list[AlertSubscription]:
    stmt = select(AlertSubscription).where(AlertSubscription.user_id == user_id).order_by(AlertSubscription.id)
    return list(session.scalars(stmt))


def get_subscription(session: Session, *, subscription_id: int, user_id: int) -> AlertSubscription:
    sub = session.get(AlertSubscription, subscription_id)
    if sub is None or sub.user_id != user_id:  # another person's subscription does not exist for you
        raise errors.SubscriptionNotFound("No alert subscription with id {id}", id=subscription_id)
    return sub


def create_subscription(session: Session, *, user: User, data: SubscriptionIn, now: datetime,
                        settings: Any) -> AlertSubscription:
    _check_channels(user, data, settings)
    if len(list_subscriptions(session, user_id=user.id)) >= MAX_SUBSCRIPTIONS:
        raise errors.InvalidAlertValue("At most {n} alert subscriptions per person", n=MAX_SUBSCRIPTIONS)
    sub = AlertSubscription(user_id=user.id, created_at=now)
    _apply(sub, data, now)
    session.add(sub)
    session.flush()
    return sub


def update_subscription(session: Session, *, subscription_id: int, user: User, data: SubscriptionIn,
                        now: datetime, settings: Any) -> AlertSubscription:
    sub = get_subscription(session, subscription_id=subscription_id, user_id=user.id)
    _check_channels(user, data, settings)
    _apply(sub, data, now)
    session.flush()
    return sub


def delete_subscription(session: Session, *, subscription_id: int, user: User) -> None:
    sub = get_subscription(session, subscription_id=subscription_id, user_id=user.id)
    session.delete(sub)
    session.flush()


def _may_manage(actor: Any, user_id: int) -> bool:
    return int(actor.user.id) == user_id or actor.can("agencies:all")


def add_shift(session: Session, *, actor: Any, data: ShiftIn, now: datetime) -> DutyShift:
    """Put an operator (``data.user_id``, default the actor) on duty from ``starts_at`` until ``ends_at``."""
    user_id = data.user_id or int(actor.user.id)
    if not _may_manage(actor, user_id):
        raise errors.ShiftNotAllowed()
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise errors.InvalidAlertValue("No active user with id {id}", field="user_id", id=user_id)
    if data.ends_at <= data.starts_at or data.ends_at - data.starts_at > MAX_SHIFT:
        raise errors.InvalidShift(field="ends_at")
    shift = DutyShift(user_id=user_id, starts_at=data.starts_at, ends_at=data.ends_at, note=data.note.strip(),
                      created_at=now, created_by=str(actor.user.username))
    session.add(shift)
    session.flush()
    return shift


def shift_user(session: Session, *, shift: DutyShift) -> User:
    user = session.get(User, shift.user_id)
    assert user is not None  # the foreign key holds
    return user


def delete_shift(session: Session, *, actor: Any, shift_id: int) -> None:
    shift = session.get(DutyShift, shift_id)
    if shift is None:
        raise errors.ShiftNotFound("No duty shift with id {id}", id=shift_id)
    if not _may_manage(actor, shift.user_id):
        raise errors.ShiftNotAllowed()
    session.delete(shift)
    session.flush()


def operators(session: Session) -> list[User]:
    """Active users who may be put on duty (they hold ``alerts:write``)."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [u for u in users if "alerts:write" in permissions_for(u.role)]


def roster(session: Session, *, start: datetime, end: datetime, limit: int = 500) -> list[tuple[DutyShift, User]]:
    """Shifts overlapping ``[start, end)`` with their operator, earliest first."""
    stmt = (select(DutyShift, User).join(User, User.id == DutyShift.user_id)
            .where(DutyShift.ends_at > start, DutyShift.starts_at < end)
            .order_by(DutyShift.starts_at, DutyShift.id).limit(limit))
    return [(shift, user) for shift, user in session.execute(stmt)]


def on_duty_now(session: Session, *, now: datetime) -> list[tuple[DutyShift, User]]:
    return roster(session, start=now, end=now + timedelta(microseconds=1))
