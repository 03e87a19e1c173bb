"""Training the report classifier from the city's own reports: which reports teach it, the command that writes
the model and its card, auto-routing by confidence, and the demo's labelled reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from saola.cases.models import CaseEvent
from saola.core.db import unit_of_work
from saola.core.settings import Settings
from saola.feedback import reports, training
from saola.feedback.classifier import ReportClassifier
from saola.feedback.demo import catalogue
from saola.feedback.intake import Submission
from saola.feedback.models import FeedbackCategory, FeedbackReport
from saola.feedback.training_data import Example, catalogue_examples, demo_document, demo_examples, history_examples
from tests.feedback.conftest import IOC, KINH_BAC, SXD, bearer

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LIGHTS = ["Đèn đường không sáng", "đèn chiếu sáng hỏng cả tuần", "cột đèn nhấp nháy", "bóng đèn đường bị vỡ",
          "street light is off", "khu phố mất đèn chiếu sáng"]
ANSWERS = {"street-lighting": {"lamp_state": "off"}}  # the category's required question
FOOD = ["ngộ độc thực phẩm ở quán cơm", "thực phẩm bẩn bày bán ở chợ", "quán ăn mất vệ sinh",
        "bán thịt ôi thiu", "food poisoning after lunch", "thức ăn đường phố bẩn"]


def _submit(app, settings: Settings, description: str, service_code: str | None = None) -> reports.Report:
    with unit_of_work(app.state.session_factory) as session:
        item = reports.submit(session, submission=Submission(
            channel="web", description=description, service_code=service_code, lat=KINH_BAC[0], lon=KINH_BAC[1],
            answers=ANSWERS.get(service_code or "", {})), actor=None, now=NOW, settings=settings)
        session.expunge_all()
    return item


def _small_model(tmp_path: Path) -> Path:
    path = tmp_path / "small.joblib"
    ReportClassifier.train(LIGHTS + FOOD, ["street-lighting"] * 6 + ["food-safety"] * 6).save(path)
    return path


def _history(app) -> list[tuple[str, str]]:
    with app.state.session_factory() as session:
        return [(e.text, e.label) for e in history_examples(session)]


# --- which reports teach the model ----------------------------------------------------------------


def test_reports_categorised_by_a_person_teach_the_model_and_the_models_own_guesses_do_not(
        app, client, token, settings, categories, tmp_path: Path) -> None:
    model = _small_model(tmp_path)
    auto = settings.model_copy(update={"feedback_classifier_model": model, "feedback_auto_route_confidence": 0.0})
    manual = settings.model_copy(update={"feedback_classifier_model": model, "feedback_auto_route_confidence": 1.0})
    _submit(app, settings, "Cây xanh gãy đổ chắn ngang đường", "trees")  # the citizen chose the category
    waiting = _submit(app, manual, "Đèn đường ngõ 9 tắt từ tối qua")  # a person triages it below
    corrected = _submit(app, auto, "Đèn đường sáng cả ban ngày lãng phí")  # the model routes it, staff correct it
    guessed = _submit(app, auto, "Quán cơm bán thịt ôi thiu")  # the model routes it, nobody changes it
    _submit(app, manual, "Mưa to làm ngập cả con phố")  # still in the triage queue: no category yet
    assert guessed.case.status == "triaged" and corrected.case.status == "triaged"
    answer = client.post(f"/api/v1/reports/{waiting.case.id}/category", json={"service_code": "street-lighting"},
                         headers=bearer(token("operator")))
    assert answer.status_code == 200, answer.text
    with unit_of_work(app.state.session_factory) as session:
        row = session.scalar(select(FeedbackReport).where(FeedbackReport.case_id == corrected.case.id))
        row.category_id = categories["other"]  # a later correction by staff changes the category
    assert sorted(_history(app)) == sorted([
        ("Cây xanh gãy đổ chắn ngang đường", "trees"),
        ("Đèn đường ngõ 9 tắt từ tối qua", "street-lighting"),
        ("Đèn đường sáng cả ban ngày lãng phí", "other"),
    ])


def test_reports_of_a_deactivated_category_are_left_out(app, settings, categories) -> None:
    _submit(app, settings, "Cây xanh gãy đổ chắn ngang đường", "trees")
    _submit(app, settings, "Ổ gà lớn giữa đường Ngô Gia Tự", "road-damage")
    with unit_of_work(app.state.session_factory) as session:
        session.get(FeedbackCategory, categories["trees"]).active = False
    assert _history(app) == [("Ổ gà lớn giữa đường Ngô Gia Tự", "road-damage")]


# --- the command and its model card ---------------------------------------------------------------


def _cli(database_url: str, data_dir: Path, *args: str) -> Any:
    from saola.cli import app as cli

    env = {"SAOLA_DATABASE_URL": database_url, "SAOLA_DATA_DIR": str(data_dir), "SAOLA_ENV": "test"}
    return CliRunner().invoke(cli, ["feedback", "train", *args], env=env)


def test_the_train_command_writes_a_loadable_model_and_its_card_atomically(
        app, settings, categories, database_url: str, tmp_path: Path) -> None:
    for text in LIGHTS:
        _submit(app, settings, text + " ở ngõ 4", "street-lighting")
    for text in FOOD:
        _submit(app, settings, text + " hôm qua", "food-safety")
    output = tmp_path / "models" / "city.joblib"
    output.parent.mkdir()
    output.write_bytes(b"the previous model")
    result = _cli(database_url, tmp_path, "--output", str(output), "--min-per-category", "21", "--include-demo")
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "macro-F1" in result.output
    assert "street-lighting" in result.output and "Left out (fewer than 21 labelled reports): " in result.output
    model = ReportClassifier.load(output)
    assert set(model.labels) == {"street-lighting", "food-safety"}
    assert model.predict("đèn đường ngõ 5 không sáng").label == "street-lighting"
    card = json.loads((tmp_path / "models" / "city.card.json").read_text("utf-8"))
    assert card["source"] == "city history + demo labelled reports"
    assert card["categories"] == {"food-safety": 26, "street-lighting": 26}
    assert card["skipped"]["trees"] == 20 and card["examples"] == 52
    assert 0.0 <= card["evaluation"]["accuracy"] <= 1.0 and card["evaluation"]["held_out"] == 10
    assert sorted(p.name for p in output.parent.iterdir()) == ["city.card.json", "city.joblib"]  # no temp files


def test_the_train_command_says_why_it_cannot_train_and_keeps_the_model(
        app, settings, categories, database_url: str, tmp_path: Path) -> None:
    _submit(app, settings, "Cây xanh gãy đổ chắn ngang đường", "trees")
    default = tmp_path / "feedback" / "classifier.joblib"
    result = _cli(database_url, tmp_path)
    assert result.exit_code == 1
    assert "Not trained: At least two categories need 10 labelled reports each; found 0 (1 reports in all)" in (
        result.output)
    assert not default.exists()
    assert _cli(database_url, tmp_path, "--min-per-category", "2").exit_code == 2  # below the calibration's floor
    (tmp_path / "a-file").write_text("not a folder")
    unwritable = _cli(database_url, tmp_path, "--include-demo", "--output", str(tmp_path / "a-file" / "m.joblib"))
    assert unwritable.exit_code == 1 and "Not trained: The model cannot be written to" in unwritable.output


# --- auto-routing by confidence -------------------------------------------------------------------


def test_a_confident_suggestion_routes_the_report_and_says_so_in_the_history(
        app, settings, categories, tmp_path: Path) -> None:
    path = _small_model(tmp_path)
    text = "Đèn đường ngõ 7 không sáng mấy hôm"
    confidence = round(ReportClassifier.load(path).predict(text).confidence, 4)
    at = settings.model_copy(update={"feedback_classifier_model": path, "feedback_auto_route_confidence": confidence})
    item = _submit(app, at, text)
    assert item.category is not None and item.category.service_code == "street-lighting"
    assert (item.case.status, item.case.agency_id) == ("triaged", SXD)
    assert item.report.category_id == item.report.suggested_category_id == categories["street-lighting"]
    assert item.case.deadline_at is not None
    with app.state.session_factory() as session:
        event = session.scalar(select(CaseEvent).where(CaseEvent.case_id == item.case.id,
                                                       CaseEvent.to_status == "triaged"))
    assert event.actor_id is None and event.actor_name == "system"
    assert event.reason.startswith(f"Classified automatically (confidence {confidence:.2f}); Routed by category")
    assert event.data["classified_by"] == "model" and event.data["confidence"] == confidence


def test_below_the_threshold_or_when_switched_off_the_report_waits_for_a_person(
        app, settings, categories, tmp_path: Path) -> None:
    path = _small_model(tmp_path)
    text = "Đèn đường ngõ 7 không sáng mấy hôm"
    confidence = round(ReportClassifier.load(path).predict(text).confidence, 4)
    for threshold in (confidence + 0.0001, 1.0):
        below = settings.model_copy(update={"feedback_classifier_model": path,
                                            "feedback_auto_route_confidence": threshold})
        item = _submit(app, below, text)
        assert (item.case.status, item.case.agency_id, item.report.category_id) == ("received", IOC, None)
        assert item.report.suggested_category_id == categories["street-lighting"]


# --- the demo's labelled reports ------------------------------------------------------------------


def test_the_demo_labelled_reports_cover_every_demo_category_and_say_they_are_not_citizen_data() -> None:
    document = demo_document()
    codes = {c["service_code"] for field in catalogue()["fields"] for c in field["categories"]}
    assert set(document["reports"]) == codes and len(codes) == 27
    assert all(len(texts) >= 12 and len(set(texts)) == len(texts) for texts in document["reports"].values())
    assert "NOT real citizen data" in document["about"]


def test_a_model_trained_on_the_demo_reports_classifies_held_out_demo_reports_sensibly(app, categories) -> None:
    examples = demo_examples()
    held = [e for i, e in enumerate(examples) if i % 5 == 2]  # every fifth report of each category
    train = [e for i, e in enumerate(examples) if i % 5 != 2]
    with app.state.session_factory() as session:
        words = catalogue_examples(session)
    codes = {e.label for e in examples}
    words = words + [Example(f"{c['name_vi']} {c['keywords']}", c["service_code"])
                     for field in catalogue()["fields"] for c in field["categories"]
                     if c["service_code"] not in {w.label for w in words}]
    model = ReportClassifier.train([e.text for e in train + words], [e.label for e in train + words])
    assert set(model.labels) == codes
    guessed = [p.label for p in model.predict_many([e.text for e in held])]
    accuracy = sum(g == e.label for g, e in zip(guessed, held, strict=True)) / len(held)
    assert len(held) == 108 and accuracy >= 0.6, accuracy


def test_the_demo_installs_its_model_once_and_reports_then_get_suggestions(app, settings, categories) -> None:
    with unit_of_work(app.state.session_factory) as session:
        card = training.install_demo_model(session, settings=settings, now=NOW)
        again = training.install_demo_model(session, settings=settings, now=NOW)
    assert card is not None and again is None
    assert card.source == "demo labelled reports" and card.notes
    assert len(card.categories) == len(categories) and card.evaluation is not None
    assert training.read_card(settings.effective_feedback_classifier_model) == card
    off = settings.model_copy(update={"feedback_auto_route_confidence": 1.0})
    item = _submit(app, off, "Cống thoát nước bị tắc, mưa là ngập cả đường")
    assert item.report.suggested_category_id == categories["drainage-flooding"]
