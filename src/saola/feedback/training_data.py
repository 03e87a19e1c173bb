"""The classifier's labelled examples: the city's own reports whose category a person gave, and the demo's.

A report of the city's history teaches the model when its category came from a person: the citizen
chose it when submitting, staff gave it at triage (whether or not it matched the suggestion), or staff
corrected it later. A report the model routed by itself (:mod:`saola.feedback.autoroute`, a history
entry with ``classified_by: model``) and whose category is still the model's choice is left out, so the
model never learns from its own guesses. Only active categories count; the label is the category's
``service_code`` and the text is the report's description as the citizen wrote it.

The catalogue's own words — each active category's Vietnamese and English names and its keywords,
written by the administrators — are added to every training as short examples (never measured nor
counted): with a few dozen reports per category they lift held-out accuracy by about ten points.

The demo's labelled reports (``data/feedback/demo_reports.json``) were written for the demo by the
Saola team; they are not citizen data.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases.models import Case, CaseEvent
from saola.feedback.models import FeedbackCategory, FeedbackReport

CASE_TYPE = "feedback_report"
MODEL_MARK = "model"  # ``classified_by`` in the history data of an automatic classification
AUTO_REASON_PREFIX = "Classified automatically"
MIN_TEXT_LENGTH = 5


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # a category's service_code


@dataclass(frozen=True)
class Selection:
    """The examples kept for training and the categories left out for having too few."""

    examples: list[Example]
    counts: dict[str, int]  # examples per kept category
    skipped: dict[str, int]  # category → its (too few) examples


def _model_choices(session: Session, case_ids: Iterable[int]) -> dict[int, int]:
    """Case id → the category the model gave it automatically (the last such history entry)."""
    wanted = set(case_ids)
    out: dict[int, int] = {}
    stmt = (select(CaseEvent.case_id, CaseEvent.data)
            .where(CaseEvent.kind == "transition", CaseEvent.actor_id.is_(None),
                   CaseEvent.reason.like(f"{AUTO_REASON_PREFIX}%"))
            .order_by(CaseEvent.id))
    for case_id, data in session.execute(stmt):
        if case_id in wanted and isinstance(data, dict) and data.get("classified_by") == MODEL_MARK:
            out[case_id] = int(data.get("category_id") or 0)
    return out


def history_examples(session: Session) -> list[Example]:
    """Examples from the city's reports whose category a person gave or confirmed (see the module's doc)."""
    stmt = (select(Case.id, Case.description, FeedbackReport.category_id, FeedbackCategory.service_code)
            .join(FeedbackReport, FeedbackReport.case_id == Case.id)
            .join(FeedbackCategory, FeedbackCategory.id == FeedbackReport.category_id)
            .where(Case.case_type == CASE_TYPE, FeedbackCategory.active.is_(True))
            .order_by(Case.id))
    rows = session.execute(stmt).all()
    by_model = _model_choices(session, (case_id for case_id, *_ in rows))
    out: list[Example] = []
    for case_id, description, category_id, service_code in rows:
        if by_model.get(case_id) == category_id:
            continue  # the category is still only the model's guess
        text = " ".join((description or "").split())
        if len(text) >= MIN_TEXT_LENGTH:
            out.append(Example(text=text, label=service_code))
    return out


def demo_document() -> dict[str, Any]:
    data = resources.files("saola.data.feedback").joinpath("demo_reports.json").read_text("utf-8")
    return json.loads(data)


def demo_examples(*, active_codes: set[str] | None = None) -> list[Example]:
    """The demo's labelled reports (of the categories in ``active_codes`` when given)."""
    reports: dict[str, list[str]] = demo_document()["reports"]
    return [Example(text=text, label=code) for code, texts in reports.items()
            if active_codes is None or code in active_codes for text in texts]


def active_codes(session: Session) -> set[str]:
    return set(session.scalars(select(FeedbackCategory.service_code).where(FeedbackCategory.active.is_(True))))


def catalogue_examples(session: Session) -> list[Example]:
    """Each active category's names and keywords as examples of it."""
    out: list[Example] = []
    stmt = select(FeedbackCategory).where(FeedbackCategory.active.is_(True)).order_by(FeedbackCategory.id)
    for category in session.scalars(stmt):
        words = [category.name_vi, category.name_en, *category.keywords.split(",")]
        out.extend(Example(text=w.strip(), label=category.service_code) for w in words if w.strip())
    return out


def select_examples(examples: list[Example], *, min_per_category: int) -> Selection:
    """Keep the categories with at least ``min_per_category`` examples; report the others."""
    counts = Counter(e.label for e in examples)
    skipped = {label: n for label, n in sorted(counts.items()) if n < min_per_category}
    kept = [e for e in examples if e.label not in skipped]
    return Selection(examples=kept, counts={label: n for label, n in sorted(counts.items()) if label not in skipped},
                     skipped=skipped)
