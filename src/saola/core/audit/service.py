"""Recording and reading the audit log.

Every insert, update and delete of a model marked ``__audited__ = True`` is recorded by a
flush listener, so no service can forget to audit a write. Fields named in
``__audit_exclude__`` (password hashes, token hashes) are never written to the log (only
the fact that they changed); fields in ``__audit_ignore__`` are not recorded at all.
Who acted comes from ``session.info["actor"]``, set by the request's authentication.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session

from saola.core.audit.models import AuditEntry
from saola.core.db import Base, utcnow


@dataclass(frozen=True, slots=True)
class ActorInfo:
    """Who is acting, for the audit log: a user, or ``system`` for CLI and background work."""

    id: int | None
    name: str
    request_id: str = ""
    ip: str = ""


SYSTEM = ActorInfo(None, "system")


def set_actor(session: Session, actor: ActorInfo) -> None:
    session.info["actor"] = actor


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)


def _columns(obj: Base) -> list[str]:
    excluded = getattr(obj, "__audit_exclude__", frozenset()) | getattr(obj, "__audit_ignore__", frozenset())
    return [c.key for c in inspect(obj).mapper.column_attrs if c.key not in excluded]


def _snapshot(obj: Base) -> dict[str, Any]:
    return {key: _plain(getattr(obj, key)) for key in _columns(obj)}


def _changes(obj: Base) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if history.has_changes():
            before[key] = _plain(history.deleted[0]) if history.deleted else None
            after[key] = _plain(history.added[0]) if history.added else None
    excluded = getattr(obj, "__audit_exclude__", frozenset())
    for key in excluded:  # say that a secret changed without writing it
        if state.attrs[key].history.has_changes():
            before[key] = after[key] = "(changed)"
    return before, after


def _object_id(obj: Base) -> str:
    state = inspect(obj)
    identity = state.identity or state.mapper.primary_key_from_instance(obj)
    return ",".join(str(part) for part in identity if part is not None)


def _row(session: Session, action: str, obj: Base, before: Any, after: Any) -> dict[str, Any]:
    actor: ActorInfo = session.info.get("actor", SYSTEM)
    return {
        "at": utcnow(),
        "actor_id": actor.id,
        "actor": actor.name,
        "action": action,
        "object_type": obj.__tablename__,
        "object_id": _object_id(obj),
        "agency_id": getattr(obj, "agency_id", None),
        "before": before,
        "after": after,
        "request_id": actor.request_id,
        "ip": actor.ip,
    }


@event.listens_for(Session, "after_flush")
def _record_flush(session: Session, _flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            rows.append(_row(session, "create", obj, None, _snapshot(obj)))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                rows.append(_row(session, "update", obj, before, after))
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            rows.append(_row(session, "delete", obj, _snapshot(obj), None))
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def record(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    agency_id: int | None = None,
) -> None:
    """Record an action that is not a plain row change (login, logout, token use, export...)."""
    actor: ActorInfo = session.info.get("actor", SYSTEM)
    session.add(
        AuditEntry(
            at=utcnow(),
            actor_id=actor.id,
            actor=actor.name,
            action=action,
            object_type=object_type,
            object_id=object_id,
            agency_id=agency_id,
            before=before,
            after=after,
            request_id=actor.request_id,
            ip=actor.ip,
        )
    )


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to look for in the audit log; every field is optional."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(session: Session, *, flt: AuditFilter, limit: int = 50, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Audit entries matching ``flt``, newest first, with the total count."""
    stmt = select(AuditEntry)
    if flt.actor:
        stmt = stmt.where(AuditEntry.actor == flt.actor)
    if flt.action:
        stmt = stmt.where(AuditEntry.action == flt.action)
    if flt.object_type:
        stmt = stmt.where(AuditEntry.object_type == flt.object_type)
    if flt.object_id:
        stmt = stmt.where(AuditEntry.object_id == flt.object_id)
    if flt.since:
        stmt = stmt.where(AuditEntry.at >= flt.since)
    if flt.until:
        stmt = stmt.where(AuditEntry.at < flt.until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def object_types(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)))
