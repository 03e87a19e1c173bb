"""Automatic classification of report text into a category, for Vietnamese and English.

One scikit-learn pipeline: TF-IDF over syllable 1–3-grams (a Vietnamese word is one to
three space-separated syllables, so syllable n-grams stand in for word segmentation) plus
TF-IDF over character 1–4-grams within word boundaries (robust to missing diacritics and
typos), a linear SVM with class weights balanced for rare categories, calibrated by 5-fold
cross-validation so that each prediction carries a probability the staff can read as the
model's confidence. Word segmentation with pyvi's bundled model did not help on real
Vietnamese feedback (`bench/classifier_bench.py --segmentation` measures it), so the
pipeline stays free of it.

The model is trained from labelled texts (the city's own classified reports) and saved as
a joblib file of our own making; only load files this module wrote.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

# Fewer examples than this in the smallest class and the 5-fold calibration cannot run.
MIN_EXAMPLES_PER_LABEL = 5
MODEL_FORMAT = 1


def normalize_text(text: str) -> str:
    """NFC and lower case: Vietnamese typed on different keyboards differs in Unicode form."""
    return unicodedata.normalize("NFC", text).lower()


def build_pipeline(*, c: float = 0.5, calibration_folds: int = 5) -> Pipeline:
    features = FeatureUnion([
        ("syllables", TfidfVectorizer(analyzer="word", ngram_range=(1, 3), sublinear_tf=True,
                                      token_pattern=r"(?u)\b\w+\b", preprocessor=normalize_text)),
        ("characters", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2,
                                       preprocessor=normalize_text)),
    ])
    svm = LinearSVC(C=c, class_weight="balanced")
    return Pipeline([("features", features), ("classifier", CalibratedClassifierCV(svm, cv=calibration_folds))])


class TrainingDataError(ValueError):
    """The labelled texts cannot train a model (too few, or a label with too few examples)."""


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]  # every label with its probability, best first


@dataclass
class ReportClassifier:
    pipeline: Pipeline
    labels: tuple[str, ...]
    trained_on: int
    description: str = ""

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], *, description: str = "") -> ReportClassifier:
        if len(texts) != len(labels):
            raise TrainingDataError(f"{len(texts)} texts but {len(labels)} labels")
        counts = Counter(labels)
        if len(counts) < 2:
            raise TrainingDataError("at least two categories are needed to train a classifier")
        rare = sorted(label for label, n in counts.items() if n < MIN_EXAMPLES_PER_LABEL)
        if rare:
            raise TrainingDataError(
                f"categories with fewer than {MIN_EXAMPLES_PER_LABEL} examples: {', '.join(rare)}")
        pipeline = build_pipeline()
        pipeline.fit(list(texts), list(labels))
        return cls(pipeline=pipeline, labels=tuple(str(c) for c in pipeline.classes_), trained_on=len(texts),
                   description=description)

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        probabilities = self.pipeline.predict_proba(list(texts))
        out = []
        for row in probabilities:
            ranking = tuple(sorted(((self.labels[i], float(p)) for i, p in enumerate(row)),
                                   key=lambda pair: pair[1], reverse=True))
            out.append(Prediction(label=ranking[0][0], confidence=ranking[0][1], ranking=ranking))
        return out

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        joblib.dump({"format": MODEL_FORMAT, "pipeline": self.pipeline, "labels": self.labels,
                     "trained_on": self.trained_on, "description": self.description}, tmp)
        tmp.replace(path)  # a reader never sees half a model

    @classmethod
    def load(cls, path: Path) -> ReportClassifier:
        data = joblib.load(path)
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path} is not a Saola classifier model (format {MODEL_FORMAT})")
        return cls(pipeline=data["pipeline"], labels=tuple(data["labels"]), trained_on=int(data["trained_on"]),
                   description=str(data.get("description", "")))
