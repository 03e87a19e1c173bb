"""JSON API of the category tree: ``/api/v1/feedback/fields`` and ``/api/v1/feedback/categories``.

Reading needs ``feedback:read``; creating and changing needs ``feedback:manage`` (administrators).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.feedback import categories as service
from saola.feedback.schemas import (
    CategoryIn,
    CategoryOut,
    CategoryUpdate,
    FieldIn,
    FieldOut,
    FieldTree,
    FieldUpdate,
)

router = APIRouter(prefix="/api/v1/feedback", tags=["feedback"])
Reader = Annotated[Principal, Depends(require("feedback:read"))]
Manager = Annotated[Principal, Depends(require("feedback:manage"))]
Id = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.get("/fields", response_model=list[FieldTree], summary="The category tree: fields with their categories")
def list_fields(session: DbSession, _: Reader, active_only: bool = False) -> list[FieldTree]:
    categories = service.list_categories(session, active_only=active_only)
    out = []
    for row in service.list_fields(session, active_only=active_only):
        tree = FieldTree.model_validate(row)
        tree.categories = [CategoryOut.model_validate(c) for c in categories if c.field_id == row.id]
        out.append(tree)
    return out


@router.post("/fields", response_model=FieldOut, status_code=status.HTTP_201_CREATED, summary="Add a field")
def create_field(body: FieldIn, session: DbSession, principal: Manager) -> FieldOut:
    return FieldOut.model_validate(service.create_field(session, actor=principal, data=body))


@router.patch("/fields/{field_id}", response_model=FieldOut, summary="Rename, reorder or deactivate a field")
def update_field(field_id: int, body: FieldUpdate, session: DbSession, principal: Manager) -> FieldOut:
    return FieldOut.model_validate(service.update_field(session, actor=principal, field_id=field_id, data=body))


@router.get("/categories", response_model=list[CategoryOut], summary="Categories, optionally of one field")
def list_categories(session: DbSession, _: Reader, field_id: Id | None = None,
                    active_only: bool = False) -> list[CategoryOut]:
    rows = service.list_categories(session, field_id=field_id, active_only=active_only)
    return [CategoryOut.model_validate(c) for c in rows]


@router.post("/categories", response_model=CategoryOut, status_code=status.HTTP_201_CREATED,
             summary="Add a category (agency, deadline, Open311 service code, extra questions)")
def create_category(body: CategoryIn, session: DbSession, principal: Manager) -> CategoryOut:
    return CategoryOut.model_validate(service.create_category(session, actor=principal, data=body))


@router.get("/categories/{category_id}", response_model=CategoryOut, summary="One category")
def get_category(category_id: int, session: DbSession, _: Reader) -> CategoryOut:
    return CategoryOut.model_validate(service.get_category(session, category_id=category_id))


@router.patch("/categories/{category_id}", response_model=CategoryOut,
              summary="Change a category (deactivate it with `active: false`; categories are never deleted)")
def update_category(category_id: int, body: CategoryUpdate, session: DbSession, principal: Manager) -> CategoryOut:
    return CategoryOut.model_validate(
        service.update_category(session, actor=principal, category_id=category_id, data=body))
