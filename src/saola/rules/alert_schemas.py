"""Request and response bodies of ``/api/v1/alerts`` (alerts, subscriptions, the on-duty roster)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from saola.rules.alert_models import Alert, AlertEvent, AlertSubscription, DutyShift
from saola.rules.alerts import display_state
from saola.rules.definitions import Severity

Channel = Literal["email", "sms", "webhook"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcknowledgeIn(_In):
    note: str = Field("", max_length=2000, description="What the operator saw or did")


class ClearIn(_In):
    reason: str = Field(min_length=1, max_length=500, description="Why the alert is cleared by hand")


class SubscriptionIn(_In):
    name: str = Field("", max_length=120)
    min_severity: Severity = Field("major", description="Least severe alert to be told about")
    channels: list[Channel] = Field(min_length=1, max_length=3, description="email, sms and/or webhook")
    webhook_url: str = Field("", max_length=200, description="Where webhooks are POSTed (with channel webhook)")
    entity_types: list[str] = Field(default_factory=list, max_length=50,
                                    description="Entity types (short terms or IRIs); empty: every type")
    agencies: list[str] = Field(default_factory=list, max_length=50,
                                description="Owning agency codes; empty: every agency")
    quiet_start: time | None = Field(None, description="Local time quiet hours start (critical alerts still come)")
    quiet_end: time | None = Field(None, description="Local time quiet hours end (may be before the start)")
    active: bool = True

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, value: str) -> str:
        value = value.strip()
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("webhook_url must be an http:// or https:// URL")
        return value

    @field_validator("entity_types", "agencies")
    @classmethod
    def _short(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value if v.strip()]
        if any(len(v) > 1024 for v in cleaned):
            raise ValueError("each item has at most 1024 characters")
        return list(dict.fromkeys(cleaned))


class ShiftIn(_In):
    user_id: int | None = Field(None, ge=1, le=2**31 - 1, description="The operator; empty: yourself")
    starts_at: datetime
    ends_at: datetime
    note: str = Field("", max_length=300)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time zone (for example 2026-11-25T07:00:00+07:00)")
        return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def alert_json(alert: Alert) -> dict[str, Any]:
    return {"id": alert.id, "rule_id": alert.rule_id, "rule_version": alert.rule_version, "tenant": alert.tenant,
            "subject": alert.subject, "entity_type": alert.entity_type, "severity": alert.severity,
            "state": alert.state, "display_state": display_state(alert), "title_vi": alert.title_vi,
            "title_en": alert.title_en, "value": alert.value, "details": alert.details, "location": alert.location,
            "owner_agency": alert.owner_agency, "incident_type": alert.incident_type,
            "started_at": _iso(alert.started_at), "last_seen_at": _iso(alert.last_seen_at),
            "occurrences": alert.occurrences, "acknowledged_at": _iso(alert.acknowledged_at),
            "acknowledged_by": alert.acknowledged_by, "cleared_at": _iso(alert.cleared_at),
            "cleared_by": alert.cleared_by, "cleared_reason": alert.cleared_reason,
            "escalated_at": _iso(alert.escalated_at), "escalation_level": alert.escalation_level}


def event_json(event: AlertEvent) -> dict[str, Any]:
    return {"at": _iso(event.at), "kind": event.kind, "actor": event.actor_name, "note": event.note,
            "data": event.data}


def subscription_json(sub: AlertSubscription) -> dict[str, Any]:
    return {"id": sub.id, "name": sub.name, "min_severity": sub.min_severity, "channels": sub.channels,
            "webhook_url": sub.webhook_url, "entity_types": sub.entity_types, "agencies": sub.agencies,
            "quiet_start": sub.quiet_start.isoformat("minutes") if sub.quiet_start else None,
            "quiet_end": sub.quiet_end.isoformat("minutes") if sub.quiet_end else None, "active": sub.active,
            "created_at": _iso(sub.created_at), "updated_at": _iso(sub.updated_at)}


def shift_json(shift: DutyShift, username: str, full_name: str) -> dict[str, Any]:
    return {"id": shift.id, "user_id": shift.user_id, "username": username, "full_name": full_name,
            "starts_at": _iso(shift.starts_at), "ends_at": _iso(shift.ends_at), "note": shift.note,
            "created_by": shift.created_by}
