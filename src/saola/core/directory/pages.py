"""Directory pages of the staff console: agencies, administrative units, agency contacts.

Thin handlers over :mod:`saola.core.directory.service`, the functions the JSON API uses, so the
same agency scoping applies: a user sees and changes only their own agency's contacts unless they
hold ``agencies:all``. A rejected form answers with a 4xx page naming the problem; the request's
transaction is rolled back, so nothing of it is saved.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.core.directory import service
from saola.core.directory.models import CURRENT_EDITION, LEGACY_EDITION
from saola.core.directory.schemas import ContactForm
from saola.core.errors import BadRequest
from saola.web.templating import NavItem, register_nav, render

router = APIRouter()
register_nav(NavItem("/console/directory", "Agencies", icon="building", permission="directory:read", order=50))
register_nav(NavItem("/console/units", "Administrative units", icon="database", permission="directory:read", order=51))
register_nav(NavItem("/console/contacts", "Contacts", icon="phone", permission="contacts:read", order=52))

Reader = Annotated[Principal, Depends(require("directory:read", page=True))]
ContactReader = Annotated[Principal, Depends(require("contacts:read", page=True))]
ContactWriter = Annotated[Principal, Depends(require("contacts:write", page=True))]
Edition = Literal["2025", "legacy"]

PAGE_SIZE = 50

# English labels (message ids) of the values stored in the directory.
AGENCY_KINDS = {
    "centre": "Centre",
    "department": "Department",
    "police": "Police",
    "utility": "Utility",
    "commune": "Ward/commune People's Committee",
}
LEVELS = {"province": "Province", "district": "District", "ward": "Ward/commune"}
EDITIONS = {CURRENT_EDITION: "Current (since 1 July 2025)", LEGACY_EDITION: "Former (before 1 July 2025)"}
# ``?done=<key>`` after a redirect shows one of these (never text taken from the URL).
NOTICES = {
    "contact-added": "The contact was added",
    "contact-saved": "The contact was saved",
    "contact-deleted": "The contact was deleted",
}

LABELS = {"agency_kinds": AGENCY_KINDS, "levels": LEVELS, "editions": EDITIONS}


def _page(request: Request, template: str, context: dict[str, object]) -> Response:
    return render(request, template, {**LABELS, **context})


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


# --- agencies --------------------------------------------------------------


@router.get("/console/directory")
def agencies_page(
    request: Request,
    session: DbSession,
    _: Reader,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    agencies = service.list_agencies(session, kind=kind or None, q=q)
    return _page(request, "directory/agencies.html", {
        "agencies": agencies, "kinds": service.agency_kinds(session), "kind": kind or "", "q": q or "",
    })


@router.get("/console/directory/{agency_id}")
def agency_page(request: Request, session: DbSession, principal: Reader, agency_id: int) -> Response:
    agency = service.get_agency(session, agency_id=agency_id)
    private = principal.can("contacts:read") and service.may_see_private(principal, agency.id)
    unit = service.find_unit(session, code=agency.unit_code) if agency.unit_code else None
    return _page(request, "directory/agency.html", {
        "agency": agency, "unit": unit, "show_contacts": private,
        "contacts": service.list_contacts(session, actor=principal, agency_id=agency.id) if private else [],
        "can_write": private and principal.can("contacts:write"),
    })


# --- administrative units ----------------------------------------------------


@router.get("/console/units")
def units_page(
    request: Request,
    session: DbSession,
    _: Reader,
    edition: Edition = CURRENT_EDITION,
    province: Annotated[str | None, Query(pattern=r"^(\d{2})?$")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    units, total = service.list_units(session, edition=edition, province_code=province or None, q=q,
                                      limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    provinces, _n = service.list_units(session, edition=edition, level="province", limit=100)
    return _page(request, "directory/units.html", {
        "units": units, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "edition": edition, "province": province or "", "q": q or "", "provinces": provinces,
    })


@router.get("/console/units/resolve")
def resolve_page(
    request: Request,
    session: DbSession,
    _: Reader,
    address: Annotated[str, Query(min_length=1, max_length=service.MAX_ADDRESS_LENGTH)],
) -> Response:
    return _page(request, "directory/resolved.html", {"found": service.resolve_address(session, address=address)})


@router.get("/console/units/{edition}/{code}")
def unit_page(request: Request, session: DbSession, _: Reader, edition: Edition, code: str) -> Response:
    unit = service.get_unit(session, code=code, edition=edition)
    is_former_ward = edition == LEGACY_EDITION and unit.level != "province"
    is_current_ward = edition == CURRENT_EDITION and unit.level == "ward"
    children, n_children = ([], 0) if unit.level == "ward" else service.list_units(
        session, edition=edition, parent_code=unit.code, limit=PAGE_SIZE)
    return _page(request, "directory/unit.html", {
        "unit": unit, "chain": service.unit_chain(session, unit=unit),
        "successors": service.successors(session, former_code=code) if is_former_ward else [],
        "predecessors": service.predecessors(session, current_code=code) if is_current_ward else [],
        "agencies": service.agencies_for_unit(session, unit_code=code) if is_current_ward else [],
        "children": children, "n_children": n_children,
    })


# --- agency contacts -----------------------------------------------------------


@router.get("/console/contacts")
def contacts_page(
    request: Request,
    session: DbSession,
    principal: ContactReader,
    agency_id: Annotated[int | None, Query(ge=1)] = None,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    contacts = service.list_contacts(session, actor=principal, agency_id=agency_id)
    can_write = principal.can("contacts:write")
    return _page(request, "directory/contacts.html", {
        "contacts": contacts, "agency_id": agency_id, "notice": NOTICES.get(done or ""),
        "agencies": service.agencies_by_id(session, ids={c.agency_id for c in contacts}),
        "writable": service.writable_agencies(session, actor=principal) if can_write else [],
        "can_write": can_write,
    })


@router.post("/console/contacts")
def add_contact(
    session: DbSession, principal: ContactWriter, form: Annotated[ContactForm, Form()]
) -> Response:
    agency_id = form.agency_id if form.agency_id is not None else principal.agency_id
    if agency_id is None:
        raise BadRequest("Choose an agency", field="agency_id")
    service.create_contact(session, actor=principal, agency_id=agency_id, **form.contact_fields())
    return _back("/console/contacts", "contact-added")


@router.get("/console/contacts/{contact_id}")
def contact_page(request: Request, session: DbSession, principal: ContactWriter, contact_id: int) -> Response:
    contact = service.get_contact(session, actor=principal, contact_id=contact_id)
    return _page(request, "directory/contact.html", {
        "contact": contact, "agency": service.get_agency(session, agency_id=contact.agency_id),
    })


@router.post("/console/contacts/{contact_id}")
def save_contact(
    session: DbSession, principal: ContactWriter, contact_id: int, form: Annotated[ContactForm, Form()]
) -> Response:
    service.update_contact(session, actor=principal, contact_id=contact_id, **form.contact_fields())
    return _back("/console/contacts", "contact-saved")


@router.post("/console/contacts/{contact_id}/delete")
def remove_contact(session: DbSession, principal: ContactWriter, contact_id: int) -> Response:
    service.delete_contact(session, actor=principal, contact_id=contact_id)
    return _back("/console/contacts", "contact-deleted")
