"""Evaluate the report classifier on real Vietnamese text (UIT-VSFC topics), against baselines.

    .venv/bin/python bench/classifier_bench.py [--data DIR] [--segmentation] [--no-record]

DIR (default ../shared/data/uit-vsfc) holds train/ and dev/, each with sents.txt and
topics.txt (one sentence / label a line). The product pipeline (saola.feedback.classifier)
is trained on train and scored on dev by macro-F1 and accuracy; in the same run two
TF-IDF + logistic-regression baselines are trained on the same split. With --segmentation
the pipeline is also run on text segmented into words by pyvi (if installed). Results are
printed and appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline

from saola.feedback.classifier import ReportClassifier

ROOT = Path(__file__).resolve().parent.parent
TOPICS = {"0": "lecturer", "1": "training programme", "2": "facility", "3": "others"}


def load_split(directory: Path) -> tuple[list[str], list[str]]:
    sentences = (directory / "sents.txt").read_text(encoding="utf-8").splitlines()
    topics = (directory / "topics.txt").read_text(encoding="utf-8").split()
    if abs(len(sentences) - len(topics)) > 1:
        raise SystemExit(f"{directory}: {len(sentences)} sentences but {len(topics)} labels")
    n = min(len(sentences), len(topics))
    return sentences[:n], topics[:n]


def evaluate(name: str, fit: Callable[[], Callable[[list[str]], list[str]]], dev_x: list[str],
             dev_y: list[str]) -> dict[str, object]:
    started = time.perf_counter()
    predict = fit()
    trained = time.perf_counter()
    predicted = predict(dev_x)
    done = time.perf_counter()
    per_class = f1_score(dev_y, predicted, average=None, labels=sorted(TOPICS))
    return {"name": name, "macro_f1": f1_score(dev_y, predicted, average="macro"),
            "accuracy": accuracy_score(dev_y, predicted), "train_s": trained - started,
            "predict_per_s": len(dev_x) / max(done - trained, 1e-9), "per_class": per_class}


def baseline(ngrams: tuple[int, int], balanced: bool, train_x: list[str], train_y: list[str]):
    def fit() -> Callable[[list[str]], list[str]]:
        pipe = Pipeline([("tfidf", TfidfVectorizer(ngram_range=ngrams)),
                         ("lr", LogisticRegression(max_iter=3000, class_weight="balanced" if balanced else None))])
        pipe.fit(train_x, train_y)
        return lambda xs: list(pipe.predict(xs))
    return fit


def product(train_x: list[str], train_y: list[str], transform: Callable[[str], str] = str):
    def fit() -> Callable[[list[str]], list[str]]:
        model = ReportClassifier.train([transform(x) for x in train_x], train_y)
        return lambda xs: [p.label for p in model.predict_many([transform(x) for x in xs])]
    return fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "uit-vsfc")
    parser.add_argument("--segmentation", action="store_true", help="also run on pyvi word-segmented text")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    train_x, train_y = load_split(args.data / "train")
    dev_x, dev_y = load_split(args.data / "dev")
    print(f"train {len(train_x)} sentences, dev {len(dev_x)}; topics {TOPICS}")

    runs = [
        ("baseline: TF-IDF words + logistic regression", baseline((1, 1), False, train_x, train_y)),
        ("baseline: TF-IDF 1-2-grams + balanced logistic regression", baseline((1, 2), True, train_x, train_y)),
        ("saola: syllable 1-3 + char 1-4 TF-IDF, calibrated linear SVM", product(train_x, train_y)),
    ]
    if args.segmentation:
        try:
            from pyvi import ViTokenizer
        except ImportError:
            raise SystemExit("--segmentation needs pyvi: .venv/bin/pip install pyvi") from None
        runs.append(("saola pipeline on pyvi-segmented words", product(train_x, train_y, ViTokenizer.tokenize)))

    results = [evaluate(name, fit, dev_x, dev_y) for name, fit in runs]
    header = "| pipeline | macro-F1 | accuracy | F1 per topic (0/1/2/3) | train s | predictions/s |"
    rows = [header, "|---|---|---|---|---|---|"]
    for r in results:
        per = "/".join(f"{v:.2f}" for v in r["per_class"])  # type: ignore[union-attr]
        rows.append(f"| {r['name']} | {r['macro_f1']:.4f} | {r['accuracy']:.4f} | {per} | {r['train_s']:.1f} | "
                    f"{r['predict_per_s']:.0f} |")
    best_baseline = max(float(r["macro_f1"]) for r in results[:2])  # type: ignore[arg-type]
    ours = float(results[2]["macro_f1"])  # type: ignore[arg-type]
    summary = (f"Saola's pipeline: macro-F1 {ours:.4f}, {ours - best_baseline:+.4f} over the best baseline of this "
               f"run ({best_baseline:.4f}).")
    table = "\n".join(rows)
    print(table)
    print(summary)
    if not args.no_record:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(f"\n## Report classifier on UIT-VSFC topics — {stamp}\n\n`.venv/bin/python "
                     f"bench/classifier_bench.py{' --segmentation' if args.segmentation else ''}`: trained on train "
                     f"({len(train_x)}), scored on dev ({len(dev_x)}); {platform.node()} ({os.cpu_count()} cores).\n\n"
                     f"{table}\n\n{summary}\n")


if __name__ == "__main__":
    main()
