"""Duplicate suggestions: open reports of the same category near a point, ranked by how alike their text is.

:func:`similar` finds open reports (not closed, resolved or rejected) of one category received in the
last ``SAOLA_FEEDBACK_DUPLICATE_DAYS`` days within ``SAOLA_FEEDBACK_DUPLICATE_RADIUS_M`` metres
(great-circle distance), and ranks them by the cosine similarity of character n-gram TF-IDF vectors
of the descriptions (works for Vietnamese with or without diacritics typed), nearer first on ties.
``GET /api/v1/reports/similar`` is public and answers only public fields (no personal data; phone
numbers and e-mail addresses in descriptions are hidden); the public form shows the answer before
submitting ("follow this one instead"). :func:`merge` lets staff fold a duplicate into the report
they keep: the duplicate is rejected through the case engine with the reason "merged into …" and
its lookup page points to the kept report; its reporter (and the reporters of reports merged into it
before) are from then on told of the kept report's public status changes
(:mod:`saola.core.messaging.case_notices`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, StringConstraints
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.models import Case
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, request_language, require
from saola.core.errors import Conflict
from saola.core.settings import Settings
from saola.feedback import reports
from saola.feedback.models import FeedbackCategory, FeedbackReport
from saola.feedback.reports import CASE_TYPE, Report, redact

EARTH_RADIUS_M = 6_371_008.8
MAX_SUGGESTIONS = 10
# Reports in these statuses are settled: a citizen follows an open one instead.
SETTLED = ("resolved", "closed", "rejected")


@dataclass
class Candidate:
    """An open report near the point, its distance in metres and its text similarity (0–1)."""

    item: Report
    distance_m: float
    similarity: float


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _similarities(text: str, others: list[str]) -> list[float]:
    if not others or not text.strip():
        return [0.0] * len(others)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=True)
    try:
        matrix = vectorizer.fit_transform([text, *others])
    except ValueError:  # nothing but punctuation: no n-grams
        return [0.0] * len(others)
    return [float(x) for x in cosine_similarity(matrix[0:1], matrix[1:])[0]]


def similar(session: Session, *, service_code: str, lat: float, lon: float, text: str, now: datetime,
            settings: Settings, limit: int = MAX_SUGGESTIONS) -> list[Candidate]:
    """Open reports of ``service_code`` within the radius and period of the settings, most alike first."""
    radius = settings.feedback_duplicate_radius_m
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(0.01, math.cos(math.radians(lat))))
    stmt = (
        select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id)
        .join(FeedbackCategory, FeedbackCategory.id == FeedbackReport.category_id)
        .where(Case.case_type == CASE_TYPE, FeedbackCategory.service_code == service_code,
               Case.status.not_in(SETTLED), Case.closed_at.is_(None),
               Case.received_at >= now - timedelta(days=settings.feedback_duplicate_days),
               FeedbackReport.lat.between(lat - dlat, lat + dlat), FeedbackReport.lon.between(lon - dlon, lon + dlon))
        .order_by(Case.received_at.desc()).limit(500)
    )
    near = [(r, c, distance_m(lat, lon, r.lat, r.lon)) for r, c in session.execute(stmt)
            if r.lat is not None and r.lon is not None]
    near = [(r, c, d) for r, c, d in near if d <= radius]
    loaded = reports.load_public(session, [(r, c) for r, c, _ in near])
    scores = _similarities(text, [c.description for _, c, _ in near])
    found = [Candidate(item=item, distance_m=d, similarity=s)
             for item, (_, _, d), s in zip(loaded, near, scores, strict=True)]
    found.sort(key=lambda x: (-round(x.similarity, 6), x.distance_m))
    return found[:limit]


class MergeNotAllowed(Conflict):
    code = "merge-not-allowed"
    title = "These reports cannot be merged"


def merge(session: Session, *, case_id: int, into: str, actor: Principal, now: datetime, reason: str = "") -> Report:
    """Fold report ``case_id`` into the open report with tracking code ``into``; the duplicate is rejected.

    Both must be reports the actor handles; the kept one must be open and not itself merged.
    """
    duplicate = reports.get_for_staff(session, case_id=case_id, actor=actor)
    kept = reports.get_public(session, tracking_code=into)
    kept = reports.get_for_staff(session, case_id=kept.case.id, actor=actor)
    if kept.case.id == duplicate.case.id:
        raise MergeNotAllowed("A report cannot be merged into itself", field="into")
    if kept.case.closed_at is not None or kept.case.meta.get("merged_into"):
        raise MergeNotAllowed("The report '{code}' is settled: merge into an open one", field="into",
                              code=kept.case.code)
    note = f"Merged into {kept.case.code}" + (f": {' '.join(reason.split())}" if reason.strip() else "")
    cases.transition(session, case_id=duplicate.case.id, to="rejected", actor=actor, now=now, reason=note,
                     data={"merged_into": kept.case.code})
    duplicate.case.meta = {**duplicate.case.meta, "merged_into": kept.case.code}
    # Its reporter, and those of reports merged into it before, now follow the kept report's notices.
    for folded in session.scalars(select(FeedbackReport).where(
            (FeedbackReport.id == duplicate.report.id) | (FeedbackReport.merged_into_case_id == duplicate.case.id))):
        folded.merged_into_case_id = kept.case.id
    cases.add_note(session, case_id=kept.case.id, actor=actor, public=False, now=now,
                   text=f"Report {duplicate.case.code} was merged into this one")
    session.flush()
    return duplicate


# --- API -------------------------------------------------------------------------------------

router = APIRouter(prefix="/api/v1/reports", tags=["feedback"])


class SimilarReport(BaseModel):
    """An open report that may be the same problem (public fields only)."""

    tracking_code: str
    status: str
    service_code: str
    service_name: str
    description: str
    ward_name: str
    distance_m: float
    similarity: float
    requested_at: datetime


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class MergeOut(BaseModel):
    tracking_code: str
    status: str
    merged_into: str


@router.post("/{case_id}/merge", response_model=MergeOut,
             summary="Staff: merge a duplicate report into the open report kept (the duplicate is rejected)",
             responses={409: {"description": "Code `merge-not-allowed`"}})
def merge_report(case_id: int, body: MergeIn, session: DbSession,
                 principal: Annotated[Principal, Depends(require("feedback:write"))]) -> MergeOut:
    item = merge(session, case_id=case_id, into=body.into, actor=principal, now=utcnow(), reason=body.reason)
    return MergeOut(tracking_code=item.case.code, status=item.case.status, merged_into=item.case.meta["merged_into"])


@router.get("/similar", response_model=list[SimilarReport],
            summary="Open reports of a category near a point, most alike first (public; before submitting)")
def similar_reports(
    request: Request, session: DbSession,
    service_code: Annotated[str, Query(min_length=1, max_length=60)],
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    long: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    description: Annotated[str, Query(max_length=5000)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS)] = 5,
) -> list[SimilarReport]:
    lang = request_language(request)
    found = similar(session, service_code=service_code, lat=lat, lon=long, text=description, now=utcnow(),
                    settings=request.app.state.settings, limit=limit)
    out = []
    for c in found:
        category = c.item.category
        assert category is not None  # the query joins the category
        out.append(SimilarReport(
            tracking_code=c.item.case.code, status=c.item.case.status, service_code=category.service_code,
            service_name=category.name_en if lang == "en" and category.name_en else category.name_vi,
            description=redact(c.item.case.description)[:500], ward_name=c.item.report.ward_name,
            distance_m=round(c.distance_m, 1), similarity=round(c.similarity, 3),
            requested_at=c.item.case.received_at))
    return out
