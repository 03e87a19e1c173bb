"""Who acts on a case: a signed-in :class:`~saola.core.auth.service.Principal`, or the system itself.

Workflow rules name roles; :func:`role_of` gives the role of either kind of actor
(``system`` for background work, channels and timers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class CaseActor(Protocol):
    @property
    def agency_id(self) -> int | None: ...

    def sees_all_agencies(self) -> bool: ...


@dataclass(frozen=True)
class SystemActor:
    """Saola itself (timers, intake channels, the CLI): role ``system``, sees every agency."""

    name: str = "system"
    role: str = "system"
    id: None = None
    agency_id: None = None

    def sees_all_agencies(self) -> bool:
        return True


SYSTEM = SystemActor()


def role_of(actor: object) -> str:
    role = getattr(actor, "role", None)
    if isinstance(role, str):
        return role
    return str(actor.user.role)  # type: ignore[attr-defined]


def actor_id(actor: object) -> int | None:
    if isinstance(actor, SystemActor):
        return None
    return int(actor.id)  # type: ignore[attr-defined]


def actor_name(actor: object) -> str:
    if isinstance(actor, SystemActor):
        return actor.name
    return str(actor.user.username)  # type: ignore[attr-defined]
