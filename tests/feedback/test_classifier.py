"""The report classifier: learns categories from labelled text, gives a confidence, saves and loads."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from saola.feedback.classifier import ReportClassifier, TrainingDataError

LABELLED = {
    "lighting": [
        "Đèn đường trước nhà số 12 bị hỏng, tối om", "đèn chiếu sáng công cộng không sáng cả tuần",
        "Cột đèn đường nhấp nháy suốt đêm", "bóng đèn đường bị vỡ trên phố Nguyễn Trãi",
        "Street light broken near the market", "the street lamp is off all night",
        "đèn đường sáng cả ban ngày rất lãng phí", "khu phố mất đèn chiếu sáng",
    ],
    "drainage": [
        "Cống thoát nước bị tắc, nước tràn ra đường", "ngập nước sau mưa vì cống nghẹt",
        "Nắp cống bị mất rất nguy hiểm", "mùi hôi từ cống rãnh bốc lên",
        "Blocked drain floods the street after rain", "sewer cover missing on the road",
        "đường ngập sâu do hệ thống thoát nước kém", "cống rãnh đầy rác gây ngập",
    ],
    "waste": [
        "Rác thải đổ trộm ở bãi đất trống", "xe thu gom rác không đến ba ngày nay",
        "Đống rác bốc mùi cạnh trường học", "người dân vứt rác bừa bãi ven sông",
        "Garbage not collected for a week", "illegal dumping of rubbish by the river",
        "thùng rác công cộng đầy tràn", "rác thải xây dựng đổ ra vỉa hè",
    ],
}


def training_set() -> tuple[list[str], list[str]]:
    texts = [t for texts in LABELLED.values() for t in texts]
    labels = [label for label, texts in LABELLED.items() for _ in texts]
    return texts, labels


def test_classifier_puts_new_vietnamese_and_english_reports_in_the_right_category() -> None:
    model = ReportClassifier.train(*training_set())
    assert model.predict("đèn đường ở ngõ 5 không sáng").label == "lighting"
    assert model.predict("cống bị tắc làm ngập nước").label == "drainage"
    assert model.predict("rubbish dumped next to the school").label == "waste"


def test_prediction_ranks_every_category_with_probabilities_that_sum_to_one() -> None:
    model = ReportClassifier.train(*training_set())
    prediction = model.predict("đèn đường hỏng")
    assert prediction.ranking[0][0] == prediction.label
    assert {label for label, _ in prediction.ranking} == set(LABELLED)
    assert sum(p for _, p in prediction.ranking) == pytest.approx(1.0)
    assert 0.0 < prediction.confidence <= 1.0
    assert prediction.confidence == max(p for _, p in prediction.ranking)


def test_text_in_decomposed_unicode_form_is_understood_like_the_composed_form() -> None:
    model = ReportClassifier.train(*training_set())
    text = "Đèn đường không sáng"
    assert model.predict(unicodedata.normalize("NFD", text)) == model.predict(text)


def test_saved_model_loads_and_predicts_the_same(tmp_path: Path) -> None:
    model = ReportClassifier.train(*training_set(), description="demo reports")
    path = tmp_path / "models" / "classifier.joblib"
    model.save(path)
    loaded = ReportClassifier.load(path)
    text = "nắp cống mất trên đường"
    assert loaded.predict(text) == model.predict(text)
    assert (loaded.trained_on, loaded.description, loaded.labels) == (24, "demo reports", model.labels)


def test_a_file_that_is_not_a_saola_model_is_refused(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"something": "else"}, path)
    with pytest.raises(ValueError, match="not a Saola classifier model"):
        ReportClassifier.load(path)


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], ["x"], "2 texts but 1 labels"),
        (["đèn hỏng"] * 6, ["lighting"] * 6, "at least two categories"),
        (["đèn hỏng"] * 6 + ["cống tắc"] * 2, ["lighting"] * 6 + ["drainage"] * 2, "fewer than 5 examples: drainage"),
    ],
)
def test_training_data_that_cannot_make_a_model_is_rejected_with_the_reason(
    texts: list[str], labels: list[str], message: str
) -> None:
    with pytest.raises(TrainingDataError, match=message):
        ReportClassifier.train(texts, labels)
