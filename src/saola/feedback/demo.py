"""The demo's category tree: the fields of the Vietnamese 1022 systems (``data/feedback/categories.json``).

:func:`load_categories` adds the fields and categories that are missing (by code), routing each
category to the agency named by its code; a category whose agency does not exist is left out
and counted, never routed elsewhere silently. Every record is validated with the API's schemas.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.directory.models import Agency
from saola.feedback.models import FeedbackCategory, FeedbackField
from saola.feedback.schemas import CategoryIn, FieldIn

if TYPE_CHECKING:
    from saola.sim.demo import DemoContext


log = logging.getLogger("saola.feedback")


@dataclass
class Loaded:
    fields: int = 0
    categories: int = 0
    skipped: int = 0  # categories whose agency is missing


def catalogue() -> dict[str, Any]:
    return json.loads(resources.files("saola.data.feedback").joinpath("categories.json").read_text("utf-8"))


def load_categories(session: Session) -> Loaded:
    """Add the demo fields and categories that are missing; a second run adds nothing."""
    out = Loaded()
    agencies: dict[str, int] = {code: i for code, i in session.execute(select(Agency.code, Agency.id))}
    fields = {f.code: f for f in session.scalars(select(FeedbackField))}
    codes = set(session.scalars(select(FeedbackCategory.service_code)))
    for position, record in enumerate(catalogue()["fields"]):
        field = fields.get(record["code"])
        if field is None:
            data = FieldIn(code=record["code"], name_vi=record["name_vi"], name_en=record["name_en"],
                           position=position * 10)
            field = FeedbackField(**data.model_dump())
            session.add(field)
            session.flush()
            out.fields += 1
        for order, item in enumerate(record["categories"]):
            if item["service_code"] in codes:
                continue
            if item["agency"] not in agencies:
                out.skipped += 1
                continue
            values = {k: v for k, v in item.items() if k != "agency"}
            data = CategoryIn(**values, field_id=field.id, agency_id=agencies[item["agency"]], position=order * 10)
            row = data.model_dump()
            session.add(FeedbackCategory(**row))
            out.categories += 1
    session.flush()
    return out


def demo_step(ctx: DemoContext) -> None:
    """The ``feedback categories`` step of ``saola demo``."""
    loaded = load_categories(ctx.session)
    ctx.report.add("1022 report fields", loaded.fields)
    ctx.report.add("1022 report categories", loaded.categories)
    if loaded.skipped:
        log.warning("demo categories left out: their agency is missing", extra={"count": loaded.skipped})
