"""Use cases of the organisation directory: agencies, administrative units, agency contacts.

Contacts are agency-private data and go through :mod:`saola.core.scoping`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from saola.core.directory.errors import UnknownAgency, UnknownContact, UnknownUnit
from saola.core.directory.models import (
    CURRENT_EDITION,
    LEGACY_EDITION,
    AdminUnit,
    Agency,
    AgencyContact,
    UnitSuccession,
)
from saola.core.scoping import AgencyActor, ensure_agency_access, ensure_agency_write, scope_to_agency
from saola.core.text import search_key

# --- agencies --------------------------------------------------------------


def list_agencies(session: Session, *, kind: str | None = None, active_only: bool = True) -> list[Agency]:
    stmt = select(Agency).order_by(Agency.kind, Agency.name)
    if kind:
        stmt = stmt.where(Agency.kind == kind)
    if active_only:
        stmt = stmt.where(Agency.active.is_(True))
    return list(session.scalars(stmt))


def get_agency(session: Session, *, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise UnknownAgency(f"No agency with id {agency_id}")
    return agency


def get_agency_by_code(session: Session, *, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise UnknownAgency(f"No agency with code '{code}'")
    return agency


# --- administrative units --------------------------------------------------


def list_units(
    session: Session,
    *,
    edition: str = CURRENT_EDITION,
    province_code: str | None = None,
    level: str | None = None,
    parent_code: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AdminUnit], int]:
    stmt = select(AdminUnit).where(AdminUnit.edition == edition)
    if province_code:
        stmt = stmt.where(AdminUnit.province_code == province_code)
    if level:
        stmt = stmt.where(AdminUnit.level == level)
    if parent_code:
        stmt = stmt.where(AdminUnit.parent_code == parent_code)
    if q:
        key = search_key(q)
        stmt = stmt.where(or_(AdminUnit.search_key.contains(key), AdminUnit.code == q.strip()))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AdminUnit.level.desc(), AdminUnit.code).limit(limit).offset(offset))
    return list(rows), total


def get_unit(session: Session, *, code: str, edition: str = CURRENT_EDITION) -> AdminUnit:
    unit = session.scalar(select(AdminUnit).where(AdminUnit.edition == edition, AdminUnit.code == code))
    if unit is None:
        raise UnknownUnit(f"No {edition} administrative unit with code '{code}'")
    return unit


def successors(session: Session, *, former_code: str) -> list[tuple[AdminUnit, bool]]:
    """The current wards that took over the former ward ``former_code`` (default one first)."""
    get_unit(session, code=former_code, edition=LEGACY_EDITION)
    rows = session.execute(
        select(AdminUnit, UnitSuccession.is_default)
        .join(UnitSuccession, UnitSuccession.current_code == AdminUnit.code)
        .where(UnitSuccession.former_code == former_code, AdminUnit.edition == CURRENT_EDITION)
        .order_by(UnitSuccession.is_default.desc(), AdminUnit.code)
    )
    return [(unit, bool(is_default)) for unit, is_default in rows]


def predecessors(session: Session, *, current_code: str) -> list[AdminUnit]:
    """The former wards merged (wholly or partly) into the current ward ``current_code``."""
    get_unit(session, code=current_code)
    rows = session.scalars(
        select(AdminUnit)
        .join(UnitSuccession, UnitSuccession.former_code == AdminUnit.code)
        .where(UnitSuccession.current_code == current_code, AdminUnit.edition == LEGACY_EDITION)
        .order_by(AdminUnit.code)
    )
    return list(rows)


# --- agency contacts (agency-private) ---------------------------------------


def list_contacts(session: Session, *, actor: AgencyActor, agency_id: int | None = None) -> list[AgencyContact]:
    stmt = scope_to_agency(select(AgencyContact), AgencyContact.agency_id, actor)
    if agency_id is not None:
        stmt = stmt.where(AgencyContact.agency_id == agency_id)
    return list(session.scalars(stmt.order_by(AgencyContact.agency_id, AgencyContact.name)))


def get_contact(session: Session, *, actor: AgencyActor, contact_id: int) -> AgencyContact:
    contact = session.get(AgencyContact, contact_id)
    if contact is None:
        raise UnknownContact(f"No contact with id {contact_id}")
    try:
        ensure_agency_access(actor, contact.agency_id, what="contact")
    except Exception as exc:
        raise UnknownContact(f"No contact with id {contact_id}") from exc
    return contact


def create_contact(session: Session, *, actor: AgencyActor, agency_id: int, **fields: Any) -> AgencyContact:
    get_agency(session, agency_id=agency_id)
    ensure_agency_write(actor, agency_id)
    contact = AgencyContact(agency_id=agency_id, **fields)
    session.add(contact)
    session.flush()
    return contact


def update_contact(session: Session, *, actor: AgencyActor, contact_id: int, **changes: Any) -> AgencyContact:
    contact = get_contact(session, actor=actor, contact_id=contact_id)
    for key, value in changes.items():
        setattr(contact, key, value)
    session.flush()
    return contact


def delete_contact(session: Session, *, actor: AgencyActor, contact_id: int) -> None:
    contact = get_contact(session, actor=actor, contact_id=contact_id)
    session.delete(contact)
    session.flush()
