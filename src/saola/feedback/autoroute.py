"""Auto-routing by confidence: a report filed without a category, whose suggested category the model is sure
enough of, is routed to it as if the citizen had chosen it.

``SAOLA_FEEDBACK_AUTO_ROUTE_CONFIDENCE`` (0.8 by default) is the threshold: at or above it
:func:`saola.feedback.reports.submit` takes the suggestion as the category (the routing rules and the
category's deadline apply as usual) and marks the report ``triaged`` by the system with the history
"Classified automatically (confidence 0.91)" and ``classified_by: model`` in its data; below it the
report waits in the triage queue for a person. 1.0 or above turns auto-routing off. The training
leaves such reports out until a person changes their category (:mod:`saola.feedback.training_data`).
"""

from __future__ import annotations

from typing import Any

from saola.core.settings import Settings
from saola.feedback.models import FeedbackCategory
from saola.feedback.training_data import AUTO_REASON_PREFIX, MODEL_MARK

DISABLED_AT = 1.0
Suggestion = tuple[FeedbackCategory, float]


def confident(suggestion: Suggestion | None, *, settings: Settings) -> Suggestion | None:
    """The suggestion when its confidence reaches the threshold (and auto-routing is on), else ``None``."""
    threshold = settings.feedback_auto_route_confidence
    if suggestion is None or threshold >= DISABLED_AT:
        return None
    return suggestion if suggestion[1] >= threshold else None


def reason(routed: str, auto: Suggestion | None) -> str:
    """The history's reason: how the report was routed, after "Classified automatically (…)" when it was."""
    return f"{AUTO_REASON_PREFIX} (confidence {auto[1]:.2f}); {routed}" if auto else routed


def history(auto: Suggestion | None) -> dict[str, Any]:
    """What the history's data keeps of an automatic classification (read back by the training)."""
    if auto is None:
        return {}
    category, confidence = auto
    return {"classified_by": MODEL_MARK, "category_id": category.id, "service_code": category.service_code,
            "confidence": confidence}
