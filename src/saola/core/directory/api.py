"""JSON API of the directory: ``/api/v1/agencies``, ``/api/v1/units``, ``/api/v1/contacts``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.core.directory import service
from saola.core.directory.models import CURRENT_EDITION, LEGACY_EDITION
from saola.core.directory.schemas import (
    AgencyOut,
    ContactIn,
    ContactOut,
    ContactUpdate,
    ResolvedAddress,
    SuccessorOut,
    UnitHistory,
    UnitOut,
    UnitPage,
)

router = APIRouter(prefix="/api/v1", tags=["directory"])
Reader = Annotated[Principal, Depends(require("directory:read"))]
ContactReader = Annotated[Principal, Depends(require("contacts:read"))]
ContactWriter = Annotated[Principal, Depends(require("contacts:write"))]


@router.get("/agencies", response_model=list[AgencyOut], summary="Agencies of the province")
def list_agencies(
    session: DbSession,
    _: Reader,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Code or name, accents ignored")] = None,
) -> list[AgencyOut]:
    return [AgencyOut.model_validate(a) for a in service.list_agencies(session, kind=kind, q=q)]


@router.get("/agencies/{agency_id}", response_model=AgencyOut, summary="One agency")
def get_agency(agency_id: int, session: DbSession, _: Reader) -> AgencyOut:
    return AgencyOut.model_validate(service.get_agency(session, agency_id=agency_id))


@router.get("/units", response_model=UnitPage, summary="Administrative units (current or former)")
def list_units(
    session: DbSession,
    _: Reader,
    edition: Literal["2025", "legacy"] = CURRENT_EDITION,
    province_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    level: Literal["province", "district", "ward"] | None = None,
    parent_code: Annotated[str | None, Query(pattern=r"^\d{2,5}$")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UnitPage:
    rows, total = service.list_units(session, edition=edition, province_code=province_code, level=level,
                                     parent_code=parent_code, q=q, limit=limit, offset=offset)
    return UnitPage(total=total, items=[UnitOut.model_validate(u) for u in rows])


@router.get("/units/resolve", response_model=ResolvedAddress,
            summary="The current ward and province of an address written the old way or the new way",
            responses={404: {"description": "No ward recognised (code `unknown-unit`)"},
                       422: {"description": "Empty or too long address"}})
def resolve_address(
    session: DbSession,
    _: Reader,
    address: Annotated[str, Query(min_length=1, max_length=service.MAX_ADDRESS_LENGTH,
                                  description="e.g. 'Phường Hoàng Văn Thụ, Thành phố Bắc Giang, Tỉnh Bắc Giang'")],
) -> ResolvedAddress:
    found = service.resolve_address(session, address=address)
    return ResolvedAddress.model_validate(found, from_attributes=True)


@router.get("/units/{edition}/{code}", response_model=UnitHistory,
            summary="One unit, with the current wards a former ward became (or the former wards of a current one)")
def get_unit(
    edition: Literal["2025", "legacy"], code: str,
    session: DbSession, _: Reader,
) -> UnitHistory:
    unit = service.get_unit(session, code=code, edition=edition)
    history = UnitHistory(unit=UnitOut.model_validate(unit))
    if edition == LEGACY_EDITION and unit.level != "province":  # wards, and island districts
        history.successors = [
            SuccessorOut(**UnitOut.model_validate(u).model_dump(), is_default=d)
            for u, d in service.successors(session, former_code=code)
        ]
    elif edition == CURRENT_EDITION and unit.level == "ward":
        history.predecessors = [UnitOut.model_validate(u) for u in service.predecessors(session, current_code=code)]
    return history


@router.get("/contacts", response_model=list[ContactOut],
            summary="Agency contacts (duty roster); only your agency's unless you see all agencies")
def list_contacts(session: DbSession, principal: ContactReader, agency_id: int | None = None) -> list[ContactOut]:
    rows = service.list_contacts(session, actor=principal, agency_id=agency_id)
    return [ContactOut.model_validate(c) for c in rows]


@router.post("/contacts", response_model=ContactOut, status_code=status.HTTP_201_CREATED, summary="Add a contact")
def create_contact(body: ContactIn, session: DbSession, principal: ContactWriter) -> ContactOut:
    fields = body.model_dump()
    agency_id = fields.pop("agency_id")
    return ContactOut.model_validate(service.create_contact(session, actor=principal, agency_id=agency_id, **fields))


@router.get("/contacts/{contact_id}", response_model=ContactOut, summary="One contact")
def get_contact(contact_id: int, session: DbSession, principal: ContactReader) -> ContactOut:
    return ContactOut.model_validate(service.get_contact(session, actor=principal, contact_id=contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactOut, summary="Change a contact")
def update_contact(contact_id: int, body: ContactUpdate, session: DbSession, principal: ContactWriter) -> ContactOut:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return ContactOut.model_validate(
        service.update_contact(session, actor=principal, contact_id=contact_id, **changes)
    )


@router.delete("/contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a contact")
def delete_contact(contact_id: int, session: DbSession, principal: ContactWriter) -> None:
    service.delete_contact(session, actor=principal, contact_id=contact_id)
