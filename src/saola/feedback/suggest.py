"""The classifier's suggestion for a report filed without a category.

The model (``SAOLA_FEEDBACK_CLASSIFIER_MODEL``, by default ``<data_dir>/feedback/classifier.joblib``, a
:class:`~saola.feedback.classifier.ReportClassifier` saved by Saola, see :mod:`saola.feedback.training`) is trained
with categories' ``service_code`` as labels. It is loaded on first use
and again when the file changes (a retrained model replaces the file atomically). A label that is
not an active category gives no suggestion; a model that cannot be read is logged and skipped, so
a broken model file never stops citizens from reporting.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy.orm import Session

from saola.core.settings import Settings
from saola.feedback import categories as catalogue
from saola.feedback.classifier import ReportClassifier
from saola.feedback.errors import CategoryNotFound
from saola.feedback.models import FeedbackCategory

log = logging.getLogger("saola.feedback")
_lock = threading.Lock()
_loaded: dict[Path, tuple[float, ReportClassifier]] = {}


def load_model(path: Path) -> ReportClassifier | None:
    """The model saved at ``path`` (cached until the file changes), or ``None`` when it cannot be read."""
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        log.warning("classifier model unavailable", extra={"path": str(path), "error": str(exc)})
        return None
    with _lock:
        cached = _loaded.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            model = ReportClassifier.load(path)
        except Exception as exc:  # a corrupt or foreign file: no suggestion, reported in the log
            log.warning("classifier model unreadable", extra={"path": str(path), "error": str(exc)[:300]})
            return None
        _loaded[path] = (mtime, model)
        return model


def suggest(session: Session, *, settings: Settings, text: str) -> tuple[FeedbackCategory, float] | None:
    """The suggested category of ``text`` and the model's confidence, or ``None`` without a usable model."""
    path = settings.effective_feedback_classifier_model
    if settings.feedback_classifier_model is None and not path.exists():
        return None  # the default place holds no model yet (nothing trained): quietly no suggestion
    model = load_model(path)
    if model is None:
        return None
    prediction = model.predict(text)
    try:
        category = catalogue.get_by_service_code(session, service_code=prediction.label)
    except CategoryNotFound:
        return None
    return category, round(prediction.confidence, 4)
