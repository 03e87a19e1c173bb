"""Retraining the report classifier from the console page and the JSON API: permissions, CSRF, the figures shown."""

from __future__ import annotations

import re
from pathlib import Path

from tests.core.helpers import problem_code
from tests.feedback.conftest import bearer

PAGE = "/console/feedback/classifier"


def test_only_managers_see_the_classifier_page(login, categories) -> None:
    for username in ("staff", "operator", "viewer"):
        assert login(username).client.get(PAGE).status_code == 403
    page = login("admin").client.get(PAGE)
    assert page.status_code == 200
    assert 'data-testid="no-model"' in page.text and 'data-testid="retrain-form"' in page.text


def test_retrain_now_trains_installs_and_shows_the_new_figures(login, settings, categories) -> None:
    admin = login("admin")
    done = admin.post_form(f"{PAGE}/train", {"include_demo": "on", "min_per_category": "10"},
                           follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?done=trained"
    page = admin.client.get(done.headers["location"], headers={"Accept-Language": "en"})
    assert 'data-testid="notice"' in page.text
    assert re.search(r'data-testid="accuracy">\d+[.,]\d %', page.text)
    assert re.search(r'data-testid="macro-f1">0[.,]\d{3}', page.text)
    assert 'data-category="street-lighting"' in page.text
    assert "city history + demo labelled reports" in page.text
    assert Path(settings.effective_feedback_classifier_model).exists()


def test_retrain_without_the_csrf_token_or_with_a_bad_minimum_changes_nothing(login, settings, categories) -> None:
    admin = login("admin")
    forged = admin.client.post(f"{PAGE}/train", data={"include_demo": "on"}, follow_redirects=False)
    assert forged.status_code == 403
    bad = admin.post_form(f"{PAGE}/train", {"include_demo": "on", "min_per_category": "two"})
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
    too_few = admin.post_form(f"{PAGE}/train", {})  # no history yet and no demo reports
    assert too_few.status_code == 422 and 'data-code="not-enough-training-data"' in too_few.text
    assert not Path(settings.effective_feedback_classifier_model).exists()


def test_the_api_gives_the_model_card_and_retrains_for_managers(client, token, categories) -> None:
    reader, manager = bearer(token("staff")), bearer(token("admin"))
    empty = client.get("/api/v1/feedback/classifier", headers=reader)
    assert empty.status_code == 200
    assert empty.json() == {"installed": False, "card": None, "auto_route_confidence": 0.8}
    refused = client.post("/api/v1/feedback/classifier/train", json={"include_demo": True}, headers=reader)
    assert refused.status_code == 403
    too_few = client.post("/api/v1/feedback/classifier/train", headers=manager)
    assert too_few.status_code == 422 and problem_code(too_few) == "not-enough-training-data"
    invalid = client.post("/api/v1/feedback/classifier/train", json={"min_per_category": 2, "x": 1}, headers=manager)
    assert invalid.status_code == 422
    trained = client.post("/api/v1/feedback/classifier/train", json={"include_demo": True}, headers=manager)
    assert trained.status_code == 200, trained.text
    card = trained.json()["card"]
    assert trained.json()["installed"] is True
    assert card["source"] == "city history + demo labelled reports" and card["examples"] == 20 * len(categories)
    assert 0.5 <= card["evaluation"]["accuracy"] <= 1.0 and card["evaluation"]["held_out"] == 4 * len(categories)
    assert client.get("/api/v1/feedback/classifier", headers=reader).json()["card"] == card
