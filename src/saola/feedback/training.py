"""Training the report classifier and its model card: the one function the console, the API and the CLI call.

:func:`train` gathers the labelled examples (:mod:`saola.feedback.training_data`: the city's history,
the demo's labelled reports, or both), keeps the categories with enough examples, measures the model
on a held-out part (a fifth of each category, stratified, seeded; a category keeps at least
:data:`~saola.feedback.classifier.MIN_EXAMPLES_PER_LABEL` examples for training and is not measured
when it has too few to spare), trains the final model on every kept example and writes it atomically
(a temporary file in the same folder, then ``os.replace``) to ``SAOLA_FEEDBACK_CLASSIFIER_MODEL`` or the
given path. Beside it goes the model card (``classifier.card.json``): when it was trained, from what,
how many examples per category, the categories left out and the held-out figures, shown to staff.

Training runs synchronously, one at a time per process: with the city's few thousand labelled reports
it takes seconds (the demo's 378 take about two), so the request that asks for it simply waits.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sklearn.metrics import accuracy_score, f1_score
from sqlalchemy.orm import Session

from saola.core.errors import Conflict, DomainError
from saola.core.settings import Settings
from saola.feedback.classifier import MIN_EXAMPLES_PER_LABEL, ReportClassifier, TrainingDataError
from saola.feedback.training_data import (
    Example,
    Selection,
    active_codes,
    catalogue_examples,
    demo_examples,
    history_examples,
    select_examples,
)

DEMO_SOURCE = "demo labelled reports"
HISTORY_SOURCE = "city history"
DEFAULT_MIN_PER_CATEGORY = 10
HELD_OUT_FRACTION = 0.2
SEED = 1022
Source = Literal["history", "demo", "history+demo"]
_running = threading.Lock()


class NotEnoughTrainingData(DomainError):
    code = "not-enough-training-data"
    status = 422
    title = "There are not enough labelled reports to train the classifier"


class TrainingRunning(Conflict):
    code = "training-running"
    title = "The classifier is being trained already"


class ModelNotWritten(DomainError):
    """The model's folder cannot be written (``SAOLA_FEEDBACK_CLASSIFIER_MODEL`` or ``--output``)."""

    code = "model-not-written"
    status = 503
    title = "The trained model cannot be saved where it is configured to go"


@dataclass(frozen=True)
class Evaluation:
    method: str
    held_out: int
    accuracy: float
    macro_f1: float


@dataclass
class ModelCard:
    """What staff are told about the model in use."""

    trained_at: str
    source: str
    examples: int
    categories: dict[str, int]
    skipped: dict[str, int]
    min_per_category: int
    evaluation: Evaluation | None
    model_file: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelCard:
        evaluation = data.get("evaluation")
        return cls(trained_at=str(data["trained_at"]), source=str(data["source"]), examples=int(data["examples"]),
                   categories={str(k): int(v) for k, v in dict(data["categories"]).items()},
                   skipped={str(k): int(v) for k, v in dict(data.get("skipped") or {}).items()},
                   min_per_category=int(data.get("min_per_category", DEFAULT_MIN_PER_CATEGORY)),
                   evaluation=Evaluation(**evaluation) if isinstance(evaluation, dict) else None,
                   model_file=str(data.get("model_file", "")), notes=[str(n) for n in data.get("notes", [])])


def card_path(model_path: Path) -> Path:
    """``classifier.joblib`` → ``classifier.card.json``, beside it."""
    return model_path.with_name(model_path.stem + ".card.json")


def read_card(model_path: Path) -> ModelCard | None:
    """The card of the model at ``model_path``, or ``None`` when there is none (or it cannot be read)."""
    try:
        return ModelCard.from_json(json.loads(card_path(model_path).read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _split(examples: list[Example], rng: random.Random) -> tuple[list[Example], list[Example]]:
    by_label: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        by_label[e.label].append(e)
    train, held = [], []
    for label in sorted(by_label):
        items = list(by_label[label])
        rng.shuffle(items)
        spare = max(0, len(items) - MIN_EXAMPLES_PER_LABEL)
        n = min(spare, int(len(items) * HELD_OUT_FRACTION))
        held.extend(items[:n])
        train.extend(items[n:])
    return train, held


def _fit(examples: list[Example], extra: list[Example], description: str = "") -> ReportClassifier:
    labels = {e.label for e in examples}
    both = examples + [e for e in extra if e.label in labels]
    try:
        return ReportClassifier.train([e.text for e in both], [e.label for e in both], description=description)
    except TrainingDataError as exc:  # the selection already checks this; a clear answer should the rules change
        raise NotEnoughTrainingData(str(exc)) from exc


def evaluate(examples: list[Example], *, extra: Sequence[Example] = (), seed: int = SEED) -> Evaluation | None:
    """Accuracy and macro-F1 on a held-out fifth of each category (``None`` when nothing can be held out).

    ``extra`` examples (the catalogue's words) are only ever trained on, never held out.
    """
    train, held = _split(examples, random.Random(seed))
    if not held:
        return None
    model = _fit(train, list(extra))
    truth = [e.label for e in held]
    guessed = [p.label for p in model.predict_many([e.text for e in held])]
    return Evaluation(method="held-out 20% per category", held_out=len(held),
                      accuracy=round(float(accuracy_score(truth, guessed)), 4),
                      macro_f1=round(float(f1_score(truth, guessed, average="macro", zero_division=0)), 4))


def gather(session: Session, *, source: Source) -> list[Example]:
    """The labelled examples of ``source``: the city's history, the demo's labelled reports, or both."""
    examples: list[Example] = []
    if source in ("history", "history+demo"):
        examples.extend(history_examples(session))
    if source in ("demo", "history+demo"):
        examples.extend(demo_examples(active_codes=active_codes(session)))
    return examples


def _describe(source: Source) -> str:
    return {"history": HISTORY_SOURCE, "demo": DEMO_SOURCE,
            "history+demo": f"{HISTORY_SOURCE} + {DEMO_SOURCE}"}[source]


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)  # a reader sees the old file or the new one, never half of one
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _save(model: ReportClassifier, card: ModelCard, path: Path) -> None:
    def write_model(tmp: Path) -> None:
        model.save(tmp)

    def write_card(tmp: Path) -> None:
        tmp.write_text(json.dumps(card.to_json(), ensure_ascii=False, indent=2), "utf-8")

    _write_atomically(path, write_model)
    _write_atomically(card_path(path), write_card)


def train_examples(examples: list[Example], *, source: Source, output: Path, now: datetime,
                   extra: Sequence[Example] = (), min_per_category: int = DEFAULT_MIN_PER_CATEGORY) -> ModelCard:
    """Train on ``examples`` (and ``extra``, never measured), measure, write the model and its card to ``output``."""
    if min_per_category < MIN_EXAMPLES_PER_LABEL:
        raise NotEnoughTrainingData("The minimum per category is {minimum} examples", field="min_per_category",
                                    minimum=MIN_EXAMPLES_PER_LABEL)
    selection: Selection = select_examples(examples, min_per_category=min_per_category)
    if len(selection.counts) < 2:
        raise NotEnoughTrainingData(
            "At least two categories need {minimum} labelled reports each; found {found} ({total} reports in all)",
            minimum=min_per_category, found=len(selection.counts), total=len(examples))
    if not _running.acquire(blocking=False):
        raise TrainingRunning()
    try:
        evaluation = evaluate(selection.examples, extra=extra)
        model = _fit(selection.examples, list(extra), _describe(source))
        notes = ["Written for the demo by the Saola team, not real citizen data"] if "demo" in source else []
        card = ModelCard(trained_at=now.isoformat(timespec="seconds"), source=_describe(source),
                         examples=len(selection.examples), categories=selection.counts, skipped=selection.skipped,
                         min_per_category=min_per_category, evaluation=evaluation, model_file=output.name,
                         notes=notes)
        try:
            _save(model, card, output)
        except OSError as exc:
            raise ModelNotWritten("The model cannot be written to {path}: {error}", field="output", path=str(output),
                                  error=exc.strerror or type(exc).__name__) from exc
        return card
    finally:
        _running.release()


def train(session: Session, *, settings: Settings, now: datetime, source: Source = "history",
          output: Path | None = None, min_per_category: int = DEFAULT_MIN_PER_CATEGORY) -> ModelCard:
    """Train the classifier from ``source`` and install it (``output`` or the configured model path).

    Training only reads: once the examples are read the transaction is ended (rolled back), so that the
    seconds of training never hold a database lock (SQLite's write lock, taken by a POST's session).
    Call it with a session that has nothing unsaved.
    """
    examples, extra = gather(session, source=source), catalogue_examples(session)
    session.rollback()
    return train_examples(examples, source=source, now=now, min_per_category=min_per_category, extra=extra,
                          output=output or settings.effective_feedback_classifier_model)


def install_demo_model(session: Session, *, settings: Settings, now: datetime) -> ModelCard | None:
    """The demo's initial model, trained on the demo's labelled reports, unless a model is installed already."""
    path = settings.effective_feedback_classifier_model
    if path.exists():
        return None  # never replace a model the city trained (or a previous demo run's)
    examples = demo_examples(active_codes=active_codes(session))
    return train_examples(examples, source="demo", now=now, output=path, extra=catalogue_examples(session),
                          min_per_category=DEFAULT_MIN_PER_CATEGORY)
