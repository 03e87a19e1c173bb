"""Rating the answer: only the reporter (the tracking code plus the report's secret, phone or e-mail) may rate,
only a resolved report, within 14 days; satisfied closes the case, not satisfied reopens it for review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from saola.cases.models import Case, CaseEvent
from saola.core.db import unit_of_work
from saola.feedback import rating
from tests.core.helpers import problem_code
from tests.feedback.conftest import bearer, report_json


def _filed(client, token, **changes: Any) -> dict[str, Any]:
    body = report_json(name="Trần Thị Bình", phone="+84 912 345 678", email="binh@example.vn", consent=True)
    body.update(changes)
    created = client.post("/api/v1/reports", headers=bearer(token("operator")), json=body)
    assert created.status_code == 201, created.text
    return created.json()


def _resolve(login, tracking_code: str) -> None:
    """The agency's staff assign, start and resolve the report through the API."""
    staff = login("staff")
    me = staff.client.get("/api/v1/me").json()["id"]
    case_id = next(r["case_id"] for r in staff.client.get("/api/v1/reports").json()
                   if r["tracking_code"] == tracking_code)
    url = f"/api/v1/reports/{case_id}/transition"
    for step in ({"to": "assigned", "assignee_id": me}, {"to": "in_progress", "assignee_id": me},
                 {"to": "resolved", "resolution": "Đã thay bóng đèn mới"}):
        assert staff.api("POST", url, json=step).status_code == 200


@pytest.fixture
def rate(client, token) -> Callable[..., Any]:
    """``rate(code, proof=..., satisfied=..., reason=...)`` through the API, as a mobile app with its token."""
    headers = bearer(token("operator", scopes=["feedback:submit"]))

    def _rate(code: str, **body: Any):
        return client.post(f"/api/v1/reports/track/{code}/rating", json=body, headers=headers)

    return _rate


def _status(app, code: str) -> str:
    with app.state.session_factory() as session:
        return session.query(Case).filter_by(code=code).one().status


def test_a_satisfied_reporter_closes_the_report(rate, app, client, token, login, categories) -> None:
    receipt = _filed(client, token)
    _resolve(login, receipt["tracking_code"])
    answer = rate(receipt["tracking_code"], proof=receipt["token"], satisfied=True, reason="Nhanh, tốt")
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "closed" and _status(app, receipt["tracking_code"]) == "closed"
    again = rate(receipt["tracking_code"], proof=receipt["token"], satisfied=False, reason="Đổi ý")
    assert again.status_code == 409 and problem_code(again) == "rating-not-open"


def test_not_satisfied_reopens_the_report_for_review_through_the_case_engine(rate, app, client, token, login,
                                                                            categories) -> None:
    receipt = _filed(client, token)
    _resolve(login, receipt["tracking_code"])
    answer = rate(receipt["tracking_code"], proof=receipt["token"], satisfied=False,
                   reason="Đèn vẫn chưa sáng")
    assert answer.status_code == 201 and answer.json()["status"] == "reopened"
    with app.state.session_factory() as session:
        case = session.query(Case).filter_by(code=receipt["tracking_code"]).one()
        assert case.closed_at is None and case.outcome is None
        event = session.query(CaseEvent).filter_by(case_id=case.id, to_status="reopened").one()
        assert event.data["rating"] == "not_satisfied" and "Đèn vẫn chưa sáng" in event.reason
    page = client.get(f"/feedback/track?code={receipt['tracking_code']}")
    assert 'data-status="reopened"' in page.text and "Đèn vẫn chưa sáng" in page.text


def test_not_satisfied_needs_a_reason(rate, app, client, token, login, categories) -> None:
    receipt = _filed(client, token)
    _resolve(login, receipt["tracking_code"])
    answer = rate(receipt["tracking_code"], proof=receipt["token"], satisfied=False, reason="  ")
    assert answer.status_code == 422
    assert _status(app, receipt["tracking_code"]) == "resolved"


@pytest.mark.parametrize("proof", ["0912345678", "+84 912 345 678", "BINH@example.vn"])
def test_the_reporter_may_prove_it_with_the_phone_or_email_they_gave(rate, client, token, login, categories,
                                                                     proof: str) -> None:
    receipt = _filed(client, token)
    _resolve(login, receipt["tracking_code"])
    assert rate(receipt["tracking_code"], proof=proof, satisfied=True).status_code == 201


@pytest.mark.parametrize("proof", ["wrong-secret", "0912000000", "other@example.vn", "PA-2026-000001"])
def test_anyone_else_cannot_rate(rate, app, client, token, login, categories, proof: str) -> None:
    receipt = _filed(client, token)
    _resolve(login, receipt["tracking_code"])
    answer = rate(receipt["tracking_code"], proof=proof, satisfied=False, reason="Phá")
    assert answer.status_code == 403 and problem_code(answer) == "rating-proof-invalid"
    assert _status(app, receipt["tracking_code"]) == "resolved"


def test_the_rating_api_needs_an_app_token(client, token, login, categories) -> None:
    receipt = _filed(client, token)
    _resolve(login, receipt["tracking_code"])
    anonymous = client.post(f"/api/v1/reports/track/{receipt['tracking_code']}/rating",
                            json={"proof": receipt["token"], "satisfied": True})
    assert anonymous.status_code == 401


def test_a_report_not_yet_resolved_cannot_be_rated(rate, client, token, categories) -> None:
    receipt = _filed(client, token)
    answer = rate(receipt["tracking_code"], proof=receipt["token"], satisfied=True)
    assert answer.status_code == 409 and problem_code(answer) == "rating-not-open"
    unknown = rate("PA-2026-999999", proof="x", satisfied=True)
    assert unknown.status_code == 404


def test_the_rating_window_closes_fourteen_days_after_the_resolution(app, client, token, login, categories) -> None:
    receipt = _filed(client, token)
    _resolve(login, receipt["tracking_code"])
    with app.state.session_factory() as session:
        resolved_at = session.query(Case).filter_by(code=receipt["tracking_code"]).one().closed_at
    with pytest.raises(rating.RatingWindowClosed), unit_of_work(app.state.session_factory) as session:
        rating.rate(session, tracking_code=receipt["tracking_code"], proof=receipt["token"], satisfied=True,
                    reason="", now=resolved_at + timedelta(days=14, seconds=1))
    with unit_of_work(app.state.session_factory) as session:
        done = rating.rate(session, tracking_code=receipt["tracking_code"], proof=receipt["token"], satisfied=True,
                           reason="", now=resolved_at + timedelta(days=13, hours=23))
    assert done.satisfied and _status(app, receipt["tracking_code"]) == "closed"


def test_the_reporter_rates_on_the_lookup_page_with_the_secret_link(app, client, token, login, categories) -> None:
    receipt = _filed(client, token)
    _resolve(login, receipt["tracking_code"])
    code = receipt["tracking_code"]
    page = client.get(f"/feedback/track?code={code}&key={receipt['token']}")
    assert 'data-testid="rating-card"' in page.text and "Đã thay bóng đèn mới" in page.text
    assert "Trần Thị Bình" not in page.text and "binh@example.vn" not in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    wrong = client.post("/feedback/track/rate", data={"csrf_token": csrf, "code": code, "proof": "guess",
                                                      "satisfied": "true"})
    assert wrong.status_code == 403 and 'data-code="rating-proof-invalid"' in wrong.text
    sent = client.post("/feedback/track/rate", data={"csrf_token": csrf, "code": code, "proof": receipt["token"],
                                                     "satisfied": "true", "reason": "Cảm ơn"}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].endswith("done=rated")
    after = client.get(sent.headers["location"])
    assert 'data-testid="rating-given"' in after.text and 'data-status="closed"' in after.text
