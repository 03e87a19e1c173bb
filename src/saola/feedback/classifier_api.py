"""JSON API of the report classifier: its model card (``GET /api/v1/feedback/classifier``, ``feedback:read``)
and retraining from the city's classified reports (``POST /api/v1/feedback/classifier/train``,
``feedback:manage``). Thin handlers over :mod:`saola.feedback.training`, which the console page and
``saola feedback train`` also call. Training runs in the request (seconds for the sizes involved).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.settings import Settings
from saola.feedback import training
from saola.feedback.classifier import MIN_EXAMPLES_PER_LABEL

router = APIRouter(prefix="/api/v1/feedback/classifier", tags=["feedback"])
Reader = Annotated[Principal, Depends(require("feedback:read"))]
Manager = Annotated[Principal, Depends(require("feedback:manage"))]


class EvaluationOut(BaseModel):
    method: str = Field(description="How the figures were measured (a held-out part of each category)")
    held_out: int = Field(description="Labelled reports held out of the training and classified to measure it")
    accuracy: float
    macro_f1: float = Field(description="F1 averaged over the categories, each counting the same")


class ModelCardOut(BaseModel):
    trained_at: str
    source: str = Field(description="`city history`, `demo labelled reports`, or both")
    examples: int = Field(description="Labelled reports trained on")
    categories: dict[str, int] = Field(description="Labelled reports per category (service_code)")
    skipped: dict[str, int] = Field(description="Categories left out for having too few labelled reports")
    min_per_category: int
    evaluation: EvaluationOut | None
    model_file: str
    notes: list[str]


class ClassifierOut(BaseModel):
    installed: bool = Field(description="Whether a model is installed (reports get a suggested category)")
    card: ModelCardOut | None = Field(description="The installed model's card (null without one)")
    auto_route_confidence: float = Field(
        description="Reports whose suggestion reaches this confidence are routed automatically (1.0 or more: never)")


class TrainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_per_category: int = Field(training.DEFAULT_MIN_PER_CATEGORY, ge=MIN_EXAMPLES_PER_LABEL, le=100_000,
                                  description="Categories with fewer labelled reports are left out")
    include_demo: bool = Field(False, description="Also learn from the demo's labelled reports")


def status(settings: Settings) -> ClassifierOut:
    path = settings.effective_feedback_classifier_model
    card = training.read_card(path)
    return ClassifierOut(installed=path.exists(), card=ModelCardOut.model_validate(card.to_json()) if card else None,
                         auto_route_confidence=settings.feedback_auto_route_confidence)


@router.get("", response_model=ClassifierOut, summary="The report classifier's model card")
def get_classifier(request: Request, _: Reader) -> ClassifierOut:
    return status(request.app.state.settings)


@router.post("/train", response_model=ClassifierOut,
             summary="Retrain the classifier from reports whose category a person gave, and install it",
             responses={409: {"description": "Code `training-running`"},
                        422: {"description": "Code `not-enough-training-data`"}})
def train_classifier(request: Request, session: DbSession, _: Manager,
                     body: Annotated[TrainIn | None, Body()] = None) -> ClassifierOut:
    body = body or TrainIn()
    settings: Settings = request.app.state.settings
    training.train(session, settings=settings, now=utcnow(), min_per_category=body.min_per_category,
                   source="history+demo" if body.include_demo else "history")
    return status(settings)
