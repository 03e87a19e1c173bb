"""Use cases of the category tree (field → category): list, read, create, change; deadlines and answers.

Administrators edit the tree (permission ``feedback:manage``); every channel reads it. A
category is never deleted, only deactivated, because reports keep pointing at it. The extra
questions of a category are Open311 attributes (:class:`saola.feedback.schemas.Attribute`);
:func:`check_answers` validates a reporter's answers against them the same way for every channel.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases.deadlines import DeadlineRule
from saola.core.directory.models import Agency
from saola.feedback.errors import CategoryNotFound, DuplicateCode, FieldNotFound, InvalidCategory
from saola.feedback.models import FeedbackCategory, FeedbackField
from saola.feedback.schemas import CategoryIn, CategoryUpdate, FieldIn, FieldUpdate


def list_fields(session: Session, *, active_only: bool = False) -> list[FeedbackField]:
    stmt = select(FeedbackField).order_by(FeedbackField.position, FeedbackField.id)
    if active_only:
        stmt = stmt.where(FeedbackField.active.is_(True))
    return list(session.scalars(stmt))


def get_field(session: Session, *, field_id: int) -> FeedbackField:
    found = session.get(FeedbackField, field_id)
    if found is None:
        raise FieldNotFound("No field of reports with id {field_id}", field_id=field_id)
    return found


def create_field(session: Session, *, actor: Any, data: FieldIn) -> FeedbackField:
    if session.scalar(select(FeedbackField.id).where(FeedbackField.code == data.code)) is not None:
        raise DuplicateCode("The field code '{code}' is already used", field="code", code=data.code)
    row = FeedbackField(**data.model_dump())
    session.add(row)
    session.flush()
    return row


def update_field(session: Session, *, actor: Any, field_id: int, data: FieldUpdate) -> FeedbackField:
    row = get_field(session, field_id=field_id)
    for name, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(row, name, value)
    session.flush()
    return row


def list_categories(session: Session, *, field_id: int | None = None, active_only: bool = False,
                    service_codes: list[str] | None = None) -> list[FeedbackCategory]:
    stmt = (select(FeedbackCategory).join(FeedbackField, FeedbackField.id == FeedbackCategory.field_id)
            .order_by(FeedbackField.position, FeedbackField.id, FeedbackCategory.position, FeedbackCategory.id))
    if field_id is not None:
        stmt = stmt.where(FeedbackCategory.field_id == field_id)
    if active_only:
        stmt = stmt.where(FeedbackCategory.active.is_(True), FeedbackField.active.is_(True))
    if service_codes is not None:
        stmt = stmt.where(FeedbackCategory.service_code.in_(service_codes))
    return list(session.scalars(stmt))


def get_category(session: Session, *, category_id: int) -> FeedbackCategory:
    found = session.get(FeedbackCategory, category_id)
    if found is None:
        raise CategoryNotFound("No category of reports with id {category_id}", category_id=category_id)
    return found


def get_by_service_code(session: Session, *, service_code: str, active_only: bool = True) -> FeedbackCategory:
    """The category of an Open311 ``service_code``; :class:`CategoryNotFound` when unknown or inactive."""
    found = session.scalar(select(FeedbackCategory).where(FeedbackCategory.service_code == service_code))
    if found is None or (active_only and not is_active(session, found)):
        raise CategoryNotFound("No category of reports with the code '{service_code}'", field="service_code",
                               service_code=service_code)
    return found


def is_active(session: Session, category: FeedbackCategory) -> bool:
    return category.active and get_field(session, field_id=category.field_id).active


def _check_references(session: Session, *, field_id: int | None, agency_id: int | None) -> None:
    if field_id is not None and session.get(FeedbackField, field_id) is None:
        raise InvalidCategory("No field of reports with id {field_id}", field="field_id", field_id=field_id)
    if agency_id is not None:
        agency = session.get(Agency, agency_id)
        if agency is None or not agency.active:
            raise InvalidCategory("No active agency with id {agency_id}", field="agency_id", agency_id=agency_id)


def _check_deadline(amount: float, unit: str) -> None:
    if unit in ("working_days", "calendar_days") and not float(amount).is_integer():
        raise InvalidCategory("A deadline in days must be a whole number of days", field="deadline_amount")


def create_category(session: Session, *, actor: Any, data: CategoryIn) -> FeedbackCategory:
    _check_references(session, field_id=data.field_id, agency_id=data.agency_id)
    _check_deadline(data.deadline_amount, data.deadline_unit)
    if session.scalar(select(FeedbackCategory.id).where(FeedbackCategory.service_code == data.service_code)):
        raise DuplicateCode("The service code '{code}' is already used", field="service_code",
                            code=data.service_code)
    values = data.model_dump()
    values["attributes"] = [a.model_dump() for a in data.attributes]
    row = FeedbackCategory(**values)
    session.add(row)
    session.flush()
    return row


def update_category(session: Session, *, actor: Any, category_id: int, data: CategoryUpdate) -> FeedbackCategory:
    row = get_category(session, category_id=category_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    _check_references(session, field_id=changes.get("field_id"), agency_id=changes.get("agency_id"))
    _check_deadline(changes.get("deadline_amount", row.deadline_amount), changes.get("deadline_unit",
                                                                                      row.deadline_unit))
    if data.attributes is not None:
        changes["attributes"] = [a.model_dump() for a in data.attributes]
    for name, value in changes.items():
        setattr(row, name, value)
    session.flush()
    return row


def deadline_rule(category: FeedbackCategory) -> DeadlineRule:
    """The case engine's deadline rule of a category (calendar hours count as a fraction of a calendar day)."""
    amount, unit = category.deadline_amount, category.deadline_unit
    if unit == "working_hours":
        return DeadlineRule(working_hours=amount)
    if unit == "working_days":
        return DeadlineRule(working_days=int(amount))
    if unit == "calendar_days":
        return DeadlineRule(calendar_days=int(amount))
    # compute_deadline adds timedelta(days=calendar_days), which takes fractions of a day exactly.
    return DeadlineRule(calendar_days=amount / 24)  # type: ignore[arg-type]


# --- answers to the extra questions ----------------------------------------------------------


def _one_answer(attribute: dict[str, Any], value: Any) -> tuple[Any, str | None]:
    """The stored form of one answer, or an error message."""
    datatype = attribute.get("datatype", "string")
    keys = [v["key"] for v in attribute.get("values", [])]
    if datatype == "multivaluelist":
        chosen = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in chosen) or not set(chosen) <= set(keys):
            return None, f"choose among: {', '.join(keys)}"
        return sorted(set(chosen), key=keys.index), None
    if not isinstance(value, str):
        return None, "give one value"
    value = value.strip()
    if datatype == "singlevaluelist":
        return (value, None) if value in keys else (None, f"choose one of: {', '.join(keys)}")
    if datatype == "number":
        try:
            number = float(value)
        except ValueError:
            return None, "give a number"
        return (number, None) if math.isfinite(number) else (None, "give a number")
    if datatype == "datetime":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None, "give a date and time (ISO 8601)"
        return moment.isoformat(), None
    limit = 2000 if datatype == "text" else 300
    if len(value) > limit:
        return None, f"at most {limit} characters"
    return value, None


def check_answers(category: FeedbackCategory | None, answers: dict[str, Any]) -> tuple[dict[str, Any],
                                                                                         list[dict[str, str]]]:
    """Validated answers to the category's questions, and the errors (``attribute[code]`` fields)."""
    questions = {a["code"]: a for a in (category.attributes if category else [])}
    out: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for code, value in answers.items():
        if code not in questions:
            errors.append({"field": f"attribute[{code}]", "message": "this category has no such question"})
            continue
        if value in ("", [], None):
            continue
        stored, problem = _one_answer(questions[code], value)
        if problem:
            errors.append({"field": f"attribute[{code}]", "message": problem})
        else:
            out[code] = stored
    for code, question in questions.items():
        if question.get("required") and question.get("variable", True) and code not in out and not any(
                e["field"] == f"attribute[{code}]" for e in errors):
            errors.append({"field": f"attribute[{code}]", "message": "this question must be answered"})
    return out, errors
