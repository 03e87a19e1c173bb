"""The public 1022 pages: a citizen files a report with a photo without signing in, sees errors in the form
(nothing saved), and follows the report by its tracking code without ever seeing personal data."""

from __future__ import annotations

import re

from saola.cases.models import CaseAttachment
from tests.conftest import csrf_from
from tests.feedback.conftest import HANOI, KINH_BAC, PNG, counts

CODE_RE = re.compile(r'data-testid="tracking-code">([^<]+)<')
SECRET_RE = re.compile(r'data-testid="report-secret">([^<]+)<')


def _form(client, **changes: str) -> dict[str, str]:
    data = {"csrf_token": csrf_from(client, "/feedback/new"), "service_code": "street-lighting",
            "answer": "street-lighting:lamp_state=off",
            "description": "Đèn đường trước nhà số 12 không sáng ba hôm nay", "lat": str(KINH_BAC[0]),
            "long": str(KINH_BAC[1]), "name": "Nguyễn Văn An", "phone": "0912 345 678",
            "email": "an@example.vn", "consent": "true"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_lists_categories_and_the_map_in_both_languages(client, categories) -> None:
    vi = client.get("/feedback/new", headers={"Accept-Language": "vi"})
    assert vi.status_code == 200
    assert 'data-testid="report-map"' in vi.text and "Tôi không biết" in vi.text and "street-lighting" in vi.text
    en = client.get("/feedback/new?lang=en")
    assert "I don&#39;t know" in en.text or "I don't know" in en.text


def test_a_citizen_files_a_report_with_a_photo_and_gets_a_tracking_code(app, client, categories) -> None:
    response = client.post("/feedback/new", data=_form(client), files=[("media", ("den.png", PNG, "image/png"))])
    assert response.status_code == 201, response.text
    code = CODE_RE.search(response.text).group(1)
    assert code.startswith("PA-") and SECRET_RE.search(response.text)
    assert counts(app)["feedback_reporters"] == 1
    with app.state.session_factory() as session:
        (attachment,) = session.query(CaseAttachment).all()
        assert attachment.content_type == "image/png"


def test_a_report_without_category_or_contact_is_accepted_for_triage(app, client, categories) -> None:
    response = client.post("/feedback/new", data=_form(client, service_code="", answer=None, name="", phone="",
                                                        email="", consent=None))
    assert response.status_code == 201
    assert counts(app)["feedback_reports"] == 1 and counts(app)["feedback_reporters"] == 0


def test_errors_are_shown_in_the_form_and_nothing_is_saved(app, client, categories) -> None:
    cases: list[dict[str, str | None]] = [
        {"description": "ngắn"},
        {"lat": "", "long": "", "address": ""},
        {"lat": str(HANOI[0]), "long": str(HANOI[1])},
        {"lat": "north", "long": "east"},
        {"consent": None},
        {"phone": "12"},
        {"answer": None},  # the category's required question
    ]
    for changes in cases:
        response = client.post("/feedback/new", data=_form(client, **changes))
        assert response.status_code == 422, changes
        assert 'data-testid="form-errors"' in response.text
        assert "Nguyễn Văn An" in response.text  # what was typed is kept
    missing_answer = client.post("/feedback/new", data=_form(client, answer=None))
    assert "What is wrong with the light?: câu hỏi này cần được trả lời" in missing_answer.text
    bad_file = client.post("/feedback/new", data=_form(client),
                           files=[("media", ("x.png", b"MZ\x90\x00", "image/png"))])
    assert bad_file.status_code == 422
    assert counts(app) == {"cases": 0, "feedback_reports": 0, "feedback_reporters": 0, "case_attachments": 0}


def test_the_form_needs_the_csrf_token(app, client, categories) -> None:
    data = _form(client)
    data.pop("csrf_token")
    assert client.post("/feedback/new", data=data).status_code == 403
    assert counts(app)["cases"] == 0


def test_the_lookup_shows_status_and_answer_but_no_personal_data(client, login, categories) -> None:
    filed = client.post("/feedback/new", data=_form(client, description="Đèn hỏng, gọi 0987 654 321 nhé bạn"))
    code = CODE_RE.search(filed.text).group(1)
    page = client.get(f"/feedback/track?code={code.lower()}")
    assert page.status_code == 200
    assert code in page.text and 'data-status="triaged"' in page.text and "Phường Kinh Bắc" in page.text
    for private in ("Nguyễn Văn An", "0912", "an@example.vn", "0987 654 321"):
        assert private not in page.text
    assert 'data-testid="rating-card"' not in page.text  # not resolved yet


def test_an_unknown_tracking_code_is_not_found(client, categories) -> None:
    page = client.get("/feedback/track?code=PA-2026-999999")
    assert page.status_code == 404 and 'data-code="report-not-found"' in page.text
    assert client.get("/feedback/track").status_code == 200
