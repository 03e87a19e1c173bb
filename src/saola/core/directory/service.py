"""Use cases of the organisation directory: agencies, administrative units, agency contacts.

Contacts are agency-private data and go through :mod:`saola.core.scoping`. Administrative units
are loaded from :mod:`saola.core.directory.units_source` (never typed by hand) with
:func:`load_units`, and addresses written the old way or the new way are resolved to the current
ward with :func:`resolve_address`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import case, func, insert, or_, select
from sqlalchemy.orm import Session

from saola.core.directory import units_source
from saola.core.directory.errors import UnknownAgency, UnknownContact, UnknownUnit
from saola.core.directory.models import (
    CURRENT_EDITION,
    LEGACY_EDITION,
    AdminUnit,
    Agency,
    AgencyContact,
    UnitSuccession,
)
from saola.core.errors import NotFound, ValidationFailed
from saola.core.scoping import AgencyActor, ensure_agency_access, ensure_agency_write, scope_to_agency
from saola.core.text import fold, search_key

MAX_ADDRESS_LENGTH = 300
AGENCY_KIND_ORDER = ("centre", "department", "police", "utility", "commune")
LEVEL_ORDER = {"province": 0, "district": 1, "ward": 2}

# --- agencies --------------------------------------------------------------


def list_agencies(
    session: Session, *, kind: str | None = None, q: str | None = None, active_only: bool = True
) -> list[Agency]:
    """Agencies, centres and departments first, then by name in Vietnamese alphabetical order (accents
    folded); ``q`` matches code, name or English name, ignoring accents and case.

    A province has a few hundred agencies at most, so sorting and matching happen here, the same on
    every database (SQL collations do not fold Vietnamese accents).
    """
    stmt = select(Agency)
    if kind:
        stmt = stmt.where(Agency.kind == kind)
    if active_only:
        stmt = stmt.where(Agency.active.is_(True))
    rows = list(session.scalars(stmt))
    key = fold(q or "")
    if key:
        rows = [a for a in rows if key in fold(f"{a.code} {a.name} {a.name_en}")]
    rank = {k: i for i, k in enumerate(AGENCY_KIND_ORDER)}
    return sorted(rows, key=lambda a: (rank.get(a.kind, len(rank)), a.kind, fold(a.name), a.name, a.id))


def agency_kinds(session: Session) -> list[str]:
    return list(session.scalars(select(Agency.kind).distinct().order_by(Agency.kind)))


def get_agency(session: Session, *, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise UnknownAgency()
    return agency


def get_agency_by_code(session: Session, *, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise UnknownAgency("No agency with code '{code}'", code=code)
    return agency


def agencies_by_id(session: Session, *, ids: Iterable[int]) -> dict[int, Agency]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(wanted)))}


def agencies_for_unit(session: Session, *, unit_code: str) -> list[Agency]:
    """The agencies serving a current ward (its People's Committee)."""
    return list(session.scalars(select(Agency).where(Agency.unit_code == unit_code).order_by(Agency.code)))


def may_see_private(actor: AgencyActor, agency_id: int) -> bool:
    """Whether ``actor`` may see the private data (contacts...) of agency ``agency_id``."""
    try:
        ensure_agency_access(actor, agency_id)
    except NotFound:
        return False
    return True


def writable_agencies(session: Session, *, actor: AgencyActor) -> list[Agency]:
    """The agencies ``actor`` may add private data for: all with ``agencies:all``, else their own."""
    if actor.sees_all_agencies():
        return list_agencies(session)
    if actor.agency_id is None:
        return []
    return [get_agency(session, agency_id=actor.agency_id)]


# --- administrative units --------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitsLoaded:
    units: int
    successions: int


def load_units(session: Session) -> UnitsLoaded:
    """Load the current and former units and their successions; rows already there are kept (idempotent)."""
    existing = {(edition, code) for edition, code in session.execute(select(AdminUnit.edition, AdminUnit.code))}
    records = (*units_source.current_units(), *units_source.legacy_units())
    rows = [
        {**asdict(r), "search_key": search_key(r.full_name)}
        for r in records if (r.edition, r.code) not in existing
    ]
    if rows:
        session.execute(insert(AdminUnit), rows)
    known = {(f, c) for f, c in session.execute(select(UnitSuccession.former_code, UnitSuccession.current_code))}
    links = [asdict(s) for s in units_source.successions() if (s.former_code, s.current_code) not in known]
    if links:
        session.execute(insert(UnitSuccession), links)
    return UnitsLoaded(units=len(rows), successions=len(links))


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
    """Units of one edition, provinces first, then by code; ``q`` ignores accents and case."""
    stmt = select(AdminUnit).where(AdminUnit.edition == edition)
    if province_code:
        stmt = stmt.where(AdminUnit.province_code == province_code)
    if level:
        stmt = stmt.where(AdminUnit.level == level)
    if parent_code:
        stmt = stmt.where(AdminUnit.parent_code == parent_code)
    if q and q.strip():
        key = search_key(q)
        stmt = stmt.where(or_(AdminUnit.search_key.contains(key, autoescape=True), AdminUnit.code == q.strip()))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = case(LEVEL_ORDER, value=AdminUnit.level, else_=9)
    rows = session.scalars(stmt.order_by(order, AdminUnit.code).limit(limit).offset(offset))
    return list(rows), total


def find_unit(session: Session, *, code: str, edition: str = CURRENT_EDITION) -> AdminUnit | None:
    return session.scalar(select(AdminUnit).where(AdminUnit.edition == edition, AdminUnit.code == code))


def get_unit(session: Session, *, code: str, edition: str = CURRENT_EDITION) -> AdminUnit:
    unit = find_unit(session, code=code, edition=edition)
    if unit is None:
        raise UnknownUnit()
    return unit


def unit_chain(session: Session, *, unit: AdminUnit) -> list[AdminUnit]:
    """The units above ``unit`` in its edition, province first (empty for a province)."""
    codes = {c for c in (unit.parent_code, unit.province_code) if c and c != unit.code}
    if not codes:
        return []
    rows = session.scalars(select(AdminUnit).where(AdminUnit.edition == unit.edition, AdminUnit.code.in_(codes)))
    return sorted(rows, key=lambda u: LEVEL_ORDER.get(u.level, 9))


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


@dataclass(slots=True)
class Resolution:
    """The current ward an address points at, and how it was read."""

    address: str
    matched_edition: str  # "2025" (written the new way) or "legacy" (the old way)
    ward: AdminUnit
    province: AdminUnit
    former: AdminUnit | None = None  # the former ward (or island district) named by an old-style address
    other_wards: list[AdminUnit] = field(default_factory=list)  # other current wards sharing the former ward
    street: str | None = None


def resolve_address(session: Session, *, address: str) -> Resolution:
    """The current ward and province of ``address``, written the old way (ward, district, province) or the new.

    An address naming a former ward and its district (or a former island district) is read the old
    way and answered with the ward that took over most of it, the others listed; otherwise it is
    read the new way. Raises :class:`UnknownUnit` when no ward is recognised.
    """
    text = " ".join(address.split())
    if not text:
        raise ValidationFailed([{"field": "address", "message": "Enter an address"}], "Enter an address")
    if len(text) > MAX_ADDRESS_LENGTH:
        message = "The address is too long"
        raise ValidationFailed([{"field": "address", "message": message}], message)
    parsed = units_source.parse_address(text)
    # A former ward, or an island district (they had no wards and became special zones).
    for former_code in filter(None, (parsed.legacy_ward, parsed.legacy_district)):
        found = successors(session, former_code=former_code)
        if found:
            ward = found[0][0]
            return Resolution(
                address=text, matched_edition=LEGACY_EDITION, ward=ward,
                province=get_unit(session, code=ward.province_code),
                former=get_unit(session, code=former_code, edition=LEGACY_EDITION),
                other_wards=[u for u, _default in found[1:]], street=parsed.legacy_street,
            )
    if parsed.current_ward is None:  # nothing recognised, or only a province or an ordinary district
        raise UnknownUnit("No ward or commune was recognised in this address")
    ward = get_unit(session, code=parsed.current_ward)
    return Resolution(address=text, matched_edition=CURRENT_EDITION, ward=ward,
                      province=get_unit(session, code=ward.province_code), street=parsed.current_street)


# --- agency contacts (agency-private) ---------------------------------------


def list_contacts(session: Session, *, actor: AgencyActor, agency_id: int | None = None) -> list[AgencyContact]:
    stmt = scope_to_agency(select(AgencyContact), AgencyContact.agency_id, actor)
    if agency_id is not None:
        stmt = stmt.where(AgencyContact.agency_id == agency_id)
    return list(session.scalars(stmt.order_by(AgencyContact.agency_id, AgencyContact.name)))


def get_contact(session: Session, *, actor: AgencyActor, contact_id: int) -> AgencyContact:
    """One contact; another agency's contact is "not found" (its existence does not leak)."""
    contact = session.get(AgencyContact, contact_id)
    if contact is None or not may_see_private(actor, contact.agency_id):
        raise UnknownContact()
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
