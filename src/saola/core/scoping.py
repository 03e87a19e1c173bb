"""Agency scoping: a user sees another agency's private data only with ``agencies:all``.

Every module that owns agency-private rows (contacts, cases, dossiers...) filters its
queries with :func:`scope_to_agency` and checks single objects with
:func:`ensure_agency_access`, which answers "not found" so that existence does not leak.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, false

from saola.core.errors import NotFound, PermissionDenied

S = TypeVar("S", bound=Select[Any])


class AgencyActor(Protocol):
    @property
    def agency_id(self) -> int | None: ...

    def sees_all_agencies(self) -> bool: ...


def scope_to_agency(stmt: S, column: Any, actor: AgencyActor) -> S:
    """``stmt`` limited to rows whose ``column`` is the actor's agency (all rows with ``agencies:all``)."""
    if actor.sees_all_agencies():
        return stmt
    if actor.agency_id is None:
        return stmt.where(false())
    return stmt.where(column == actor.agency_id)


def ensure_agency_access(actor: AgencyActor, agency_id: int | None, *, what: str = "object") -> None:
    """Raise :class:`NotFound` when ``actor`` may not see data owned by ``agency_id``."""
    if actor.sees_all_agencies():
        return
    if agency_id is None or agency_id != actor.agency_id:
        raise NotFound("No such {what}", what=what)


def ensure_agency_write(actor: AgencyActor, agency_id: int) -> None:
    """A user may create data only for their own agency unless they hold ``agencies:all``."""
    if not actor.sees_all_agencies() and agency_id != actor.agency_id:
        raise PermissionDenied("You can only act for your own agency")
