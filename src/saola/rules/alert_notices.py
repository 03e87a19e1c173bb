"""Who hears about an alert, and the messages they get: e-mail, SMS and webhooks through the outbox.

When an alert is raised (:func:`notify_raised`), these are told, each address once:

* the **operators on duty** now (:class:`~saola.rules.alert_models.DutyShift`), by e-mail and SMS,
  when the alert is at least ``SAOLA_ALERTS_ON_DUTY_MIN_SEVERITY`` (they are at work: no quiet hours);
* the **owning agency** (the rule's ``owner_agency`` code in the directory), when the alert is at
  least ``SAOLA_ALERTS_AGENCY_MIN_SEVERITY``: its on-duty contacts (``AgencyContact.on_duty``) by
  e-mail and SMS, or when it has none its official address and phone;
* every **subscriber** whose subscription matches (minimum severity, entity types, agencies), on
  the subscription's channels: the user's e-mail address and phone, and its webhook URL.
  During the subscription's **quiet hours** (local time, may cross midnight) only critical alerts
  are delivered; the others are not sent later either (the console still shows them) and the
  timeline records how many were held back (``suppressed``).

When a critical alert is escalated (:func:`notify_escalated`): the owning agency's leadership
(contacts whose position names a head: Giám đốc, Trưởng, Chủ tịch, Director, Head…), else its
official address and on-duty contacts; without an owning agency, the administrators. Quiet hours
do not apply. Messages are written in the recipient's language (Vietnamese unless a user chose
English; agency contacts get Vietnamese); a webhook gets ``{"event", "alert"}`` as JSON, signed by
the outbox (:mod:`saola.core.messaging.webhooks`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.auth.models import User
from saola.core.directory.models import Agency, AgencyContact
from saola.core.i18n import LANGUAGES, format_dt, gettext
from saola.core.messaging.outbox import enqueue
from saola.rules.alert_models import Alert, AlertEvent, AlertSubscription, DutyShift
from saola.rules.alerts import payload, severity_rank

SOURCE = "alerts"
LEADERSHIP_WORDS = ("giám đốc", "trưởng", "chủ tịch", "director", "head", "chief", "chairman")
SEVERITY_NAMES = {"critical": "critical", "major": "major", "minor": "minor", "warning": "warning", "info": "info"}
SUBJECTS = {
    "raised": "[Saola IOC] {severity} alert: {title}",
    "escalated": "[Saola IOC] ESCALATED, unacknowledged {severity} alert: {title}",
}
BODIES = {
    "raised": "{title}\nSeverity: {severity}\nSubject: {subject}\nSince: {since}\nValue: {value}\n"
              "Open it in the operations console: {link}",
    "escalated": "The {severity} alert \"{title}\" on {subject} was raised at {since} and has not been "
                 "acknowledged. It is escalated to you (level {level}).\nOpen it in the operations console: {link}",
}
SMS = {
    "raised": "Saola IOC {severity}: {title} ({subject}). {link}",
    "escalated": "Saola IOC ESCALATED {severity}: {title} ({subject}) not acknowledged. {link}",
}


@dataclass(frozen=True)
class Recipient:
    channel: str  # email | sms | webhook
    address: str
    lang: str = "vi"
    why: str = ""  # on-duty | agency | subscription:<id> | leadership


def _lang(user: User) -> str:
    return user.language if user.language in LANGUAGES else "vi"


def _user_recipients(user: User, channels: tuple[str, ...], why: str) -> list[Recipient]:
    out = []
    if "email" in channels and (user.email or "").strip():
        out.append(Recipient("email", user.email.strip(), _lang(user), why))
    if "sms" in channels and (user.phone or "").strip():
        out.append(Recipient("sms", user.phone.strip(), _lang(user), why))
    return out


def _at_least(severity: str, minimum: str) -> bool:
    return severity_rank(severity) <= severity_rank(minimum)


def in_quiet_hours(start: time | None, end: time | None, local: time) -> bool:
    """Whether local time ``local`` falls in ``[start, end)``; a window with ``end <= start`` crosses midnight."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def on_duty_users(session: Session, *, now: datetime) -> list[User]:
    """Active users with a duty shift covering ``now``."""
    stmt = (select(User).join(DutyShift, DutyShift.user_id == User.id)
            .where(DutyShift.starts_at <= now, DutyShift.ends_at > now, User.active.is_(True))
            .order_by(User.id).distinct())
    return list(session.scalars(stmt))


def _agency_contacts(session: Session, code: str | None, *, leadership: bool) -> list[Recipient]:
    agency = session.scalar(select(Agency).where(Agency.code == code)) if code else None
    if agency is None:
        return []
    contacts = list(session.scalars(select(AgencyContact).where(AgencyContact.agency_id == agency.id)
                                    .order_by(AgencyContact.id)))
    chosen = [c for c in contacts if any(w in (c.position or "").lower() for w in LEADERSHIP_WORDS)] \
        if leadership else []
    if not chosen:
        chosen = [c for c in contacts if c.on_duty]
    why = "leadership" if leadership else "agency"
    out = [Recipient("email", c.email.strip(), "vi", why) for c in chosen if (c.email or "").strip()]
    out += [Recipient("sms", c.phone.strip(), "vi", why) for c in chosen if (c.phone or "").strip()]
    if not out or leadership:
        if agency.email.strip():
            out.append(Recipient("email", agency.email.strip(), "vi", why))
        if agency.phone.strip() and not any(r.channel == "sms" for r in out):
            out.append(Recipient("sms", agency.phone.strip(), "vi", why))
    return out


def _type_matches(wanted: list[Any], entity_type: str) -> bool:
    if not wanted:
        return True
    short = entity_type.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return any(str(w) in (entity_type, short) for w in wanted)


def subscription_matches(sub: AlertSubscription, alert: Alert) -> bool:
    """Severity, entity type and agency filters of ``sub`` (quiet hours aside)."""
    if not sub.active or not _at_least(alert.severity, sub.min_severity):
        return False
    if not _type_matches(list(sub.entity_types or []), alert.entity_type):
        return False
    agencies = [str(a) for a in sub.agencies or []]
    return not agencies or (alert.owner_agency or "") in agencies


def _subscribers(session: Session, alert: Alert, local: time) -> tuple[list[Recipient], int]:
    out: list[Recipient] = []
    suppressed = 0
    rows = session.execute(select(AlertSubscription, User).join(User, User.id == AlertSubscription.user_id)
                           .where(AlertSubscription.active.is_(True), User.active.is_(True))
                           .order_by(AlertSubscription.id))
    for sub, user in rows:
        if not subscription_matches(sub, alert):
            continue
        channels = tuple(str(c) for c in sub.channels or [])
        found = _user_recipients(user, channels, f"subscription:{sub.id}")
        if "webhook" in channels and sub.webhook_url:
            found.append(Recipient("webhook", sub.webhook_url, _lang(user), f"subscription:{sub.id}"))
        if alert.severity != "critical" and in_quiet_hours(sub.quiet_start, sub.quiet_end, local):
            suppressed += len(found)
            continue
        out.extend(found)
    return out, suppressed


def recipients_for_raised(session: Session, alert: Alert, *, now: datetime,
                          settings: Any) -> tuple[list[Recipient], int]:
    """Everyone told of a new alert, each (channel, address) once, and how many quiet hours held back."""
    found: list[Recipient] = []
    if _at_least(alert.severity, settings.alerts_on_duty_min_severity):
        for user in on_duty_users(session, now=now):
            found += _user_recipients(user, ("email", "sms"), "on-duty")
    if _at_least(alert.severity, settings.alerts_agency_min_severity):
        found += _agency_contacts(session, alert.owner_agency, leadership=False)
    local = now.astimezone(ZoneInfo(settings.timezone)).time()
    subscribed, suppressed = _subscribers(session, alert, local)
    return _unique(found + subscribed), suppressed


def recipients_for_escalation(session: Session, alert: Alert) -> list[Recipient]:
    found = _agency_contacts(session, alert.owner_agency, leadership=True)
    if not found:
        admins = session.scalars(select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id))
        for user in admins:
            found += _user_recipients(user, ("email", "sms"), "leadership")
    return _unique(found)


def _unique(recipients: list[Recipient]) -> list[Recipient]:
    seen: dict[tuple[str, str], Recipient] = {}
    for r in recipients:
        seen.setdefault((r.channel, r.address.lower()), r)
    return list(seen.values())


def _texts(alert: Alert, kind: str, lang: str, settings: Any) -> dict[str, str]:
    title = (alert.title_vi if lang == "vi" else alert.title_en) or alert.title_vi or alert.title_en or alert.subject
    params = {"title": title, "severity": gettext(lang, SEVERITY_NAMES.get(alert.severity, alert.severity)).upper(),
              "subject": alert.subject, "since": format_dt(alert.started_at, lang, settings.timezone),
              "value": json.dumps(alert.value, ensure_ascii=False), "level": alert.escalation_level,
              "link": settings.public_url.rstrip("/") + f"/console/alerts/{alert.id}"}
    return {"subject": gettext(lang, SUBJECTS[kind], **params), "body": gettext(lang, BODIES[kind], **params),
            "sms": gettext(lang, SMS[kind], **params)}


def _send(session: Session, alert: Alert, kind: str, recipients: list[Recipient], *, now: datetime,
          settings: Any) -> None:
    event = f"alert.{kind}"
    for r in recipients:
        data = {"alert_id": alert.id, "event": event, "why": r.why}
        if r.channel == "webhook":
            body = json.dumps({"event": event, "alert": payload(alert, now)}, ensure_ascii=False, default=str)
            enqueue(session, channel="webhook", recipient=r.address, body=body, subject=event, lang=r.lang,
                    source=SOURCE, data=data, now=now)
            continue
        texts = _texts(alert, kind, r.lang, settings)
        body = texts["body"] if r.channel == "email" else texts["sms"]
        enqueue(session, channel=r.channel, recipient=r.address, subject=texts["subject"], body=body, lang=r.lang,
                source=SOURCE, data=data, now=now)


def _record(session: Session, alert: Alert, recipients: list[Recipient], suppressed: int, now: datetime,
            kind: str) -> None:
    channels: dict[str, int] = {}
    for r in recipients:
        channels[r.channel] = channels.get(r.channel, 0) + 1
    session.add(AlertEvent(alert_id=alert.id, at=now, kind="notified", actor_name="system",
                           data={"event": f"alert.{kind}", "recipients": len(recipients), "channels": channels}))
    if suppressed:
        session.add(AlertEvent(alert_id=alert.id, at=now, kind="suppressed", actor_name="system",
                               note="quiet hours", data={"event": f"alert.{kind}", "recipients": suppressed}))


def notify_raised(session: Session, *, alert: Alert, now: datetime, settings: Any) -> int:
    """Queue the notices of a new alert in the outbox; returns how many messages were queued."""
    recipients, suppressed = recipients_for_raised(session, alert, now=now, settings=settings)
    _send(session, alert, "raised", recipients, now=now, settings=settings)
    _record(session, alert, recipients, suppressed, now, "raised")
    return len(recipients)


def notify_escalated(session: Session, *, alert: Alert, now: datetime, settings: Any) -> int:
    """Queue the escalation notices of an alert; returns how many messages were queued."""
    recipients = recipients_for_escalation(session, alert)
    _send(session, alert, "escalated", recipients, now=now, settings=settings)
    _record(session, alert, recipients, 0, now, "escalated")
    return len(recipients)
