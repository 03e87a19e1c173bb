"""Duplicate suggestions: open reports of the same category within the radius and period, most alike text first,
answered by the public GET /api/v1/reports/similar without any personal data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from saola.cases.models import Case
from saola.core.db import unit_of_work, utcnow
from saola.feedback import duplicates, reports
from saola.feedback.intake import Submission
from tests.core.helpers import problem_code
from tests.feedback.conftest import KINH_BAC

LAMP = "Đèn đường trước nhà số 12 không sáng"
NEAR = (KINH_BAC[0] + 0.0005, KINH_BAC[1])  # about 56 m north
FAR = (KINH_BAC[0] + 0.0012, KINH_BAC[1])  # about 133 m north


def _file(app, settings, *, description: str = LAMP, point: tuple[float, float] = KINH_BAC,
          service_code: str = "street-lighting", days_ago: float = 0, **extra: Any) -> str:
    answers = {"lamp_state": "off"} if service_code == "street-lighting" else {}
    with unit_of_work(app.state.session_factory) as session:
        item = reports.submit(session, submission=Submission(
            channel="web", description=description, service_code=service_code, lat=point[0], lon=point[1],
            answers=answers, **extra), actor=None, now=utcnow() - timedelta(days=days_ago), settings=settings)
        return item.case.code


def _similar(client, point: tuple[float, float] = KINH_BAC, description: str = LAMP, **params: Any):
    query = {"service_code": "street-lighting", "lat": point[0], "long": point[1], "description": description}
    query.update(params)
    return client.get("/api/v1/reports/similar", params=query)


def test_the_distance_is_measured_on_the_earth() -> None:
    assert duplicates.distance_m(*KINH_BAC, *NEAR) == pytest.approx(55.6, abs=0.5)
    assert duplicates.distance_m(*KINH_BAC, *KINH_BAC) == 0


def test_only_reports_within_the_radius_are_suggested(app, client, settings, categories) -> None:
    near = _file(app, settings, point=NEAR)
    _file(app, settings, point=FAR)
    found = _similar(client)
    assert found.status_code == 200
    assert [r["tracking_code"] for r in found.json()] == [near]
    assert found.json()[0]["distance_m"] == pytest.approx(55.6, abs=0.5)


def test_the_radius_and_period_are_settings(app, client, settings, categories) -> None:
    far = _file(app, settings, point=FAR)
    old = _file(app, settings, days_ago=40)
    assert _similar(client).json() == []
    settings.feedback_duplicate_radius_m = 200
    settings.feedback_duplicate_days = 60
    assert {r["tracking_code"] for r in _similar(client).json()} == {far, old}


def test_reports_older_than_the_period_are_not_suggested(app, client, settings, categories) -> None:
    recent = _file(app, settings, days_ago=29)
    _file(app, settings, days_ago=31)
    assert [r["tracking_code"] for r in _similar(client).json()] == [recent]


def test_only_the_same_category_is_suggested(app, client, settings, categories) -> None:
    _file(app, settings, service_code="road-damage", description="Ổ gà lớn trước nhà số 12")
    assert _similar(client).json() == []
    assert len(_similar(client, service_code="road-damage").json()) == 1


def test_settled_reports_are_not_suggested(app, client, settings, categories, login) -> None:
    code = _file(app, settings)
    operator = login("operator")
    case_id = next(r["case_id"] for r in operator.client.get("/api/v1/reports").json() if r["tracking_code"] == code)
    rejected = operator.api("POST", f"/api/v1/reports/{case_id}/transition", json={"to": "rejected",
                                                                                 "reason": "Trùng phản ánh khác"})
    assert rejected.status_code == 200
    assert _similar(client).json() == []


def test_the_most_alike_text_comes_first(app, client, settings, categories) -> None:
    other = _file(app, settings, description="Cột đèn bị nghiêng sau cơn bão, sắp đổ", point=KINH_BAC)
    alike = _file(app, settings, description="Đèn đường trước số nhà 12 bị tắt không sáng", point=NEAR)
    ranked = _similar(client).json()
    assert [r["tracking_code"] for r in ranked] == [alike, other]  # the farther one first: its text is closer
    assert ranked[0]["similarity"] > ranked[1]["similarity"]


def test_the_answer_is_public_and_has_no_personal_data(app, client, settings, categories) -> None:
    _file(app, settings, description=LAMP + ", gọi tôi 0912 345 678", name="Lê Văn Cường", phone="0912345678",
          email="cuong@example.vn", consent=True)
    answer = _similar(client)
    assert answer.status_code == 200 and len(answer.json()) == 1
    for private in ("Cường", "0912", "cuong@example.vn", "token"):
        assert private not in answer.text
    assert set(answer.json()[0]) == {"tracking_code", "status", "service_code", "service_name", "description",
                                     "ward_name", "distance_m", "similarity", "requested_at"}


@pytest.mark.parametrize("params", [{"lat": "north"}, {"lat": 91}, {"long": "inf"}, {"service_code": ""},
                                    {"limit": 0}])
def test_bad_queries_are_refused_with_422(client, categories, params: dict[str, Any]) -> None:
    assert _similar(client, **params).status_code == 422


def test_an_unknown_category_has_no_suggestions(client, categories) -> None:
    answer = _similar(client, service_code="no-such-thing")
    assert answer.status_code == 200 and answer.json() == []


def _case_id(login, code: str) -> int:
    return next(r["case_id"] for r in login("operator").client.get("/api/v1/reports").json()
                if r["tracking_code"] == code)


def test_staff_merge_a_duplicate_into_the_report_they_keep(app, client, settings, categories, login) -> None:
    kept = _file(app, settings)
    duplicate = _file(app, settings, point=NEAR, description="Đèn trước nhà 12 tắt mấy hôm rồi")
    staff = login("staff")  # Sở Xây dựng handles street lighting
    merged = staff.api("POST", f"/api/v1/reports/{_case_id(login, duplicate)}/merge",
                       json={"into": kept.lower(), "reason": "Cùng một cột đèn"})
    assert merged.status_code == 200, merged.text
    assert merged.json() == {"tracking_code": duplicate, "status": "rejected", "merged_into": kept}
    assert [r["tracking_code"] for r in _similar(client).json()] == [kept]  # the duplicate is settled
    page = client.get(f"/feedback/track?code={duplicate}")
    assert 'data-testid="merged-into"' in page.text and f"code={kept}" in page.text


def test_a_merge_into_itself_a_settled_or_unknown_report_is_refused(app, client, settings, categories,
                                                                    login) -> None:
    first, second, third = _file(app, settings), _file(app, settings), _file(app, settings)
    staff = login("staff")

    def merge(code: str, into: str):
        return staff.api("POST", f"/api/v1/reports/{_case_id(login, code)}/merge", json={"into": into})

    itself = merge(first, first)
    assert itself.status_code == 409 and problem_code(itself) == "merge-not-allowed"
    assert merge(first, "PA-2026-999999").status_code == 404
    assert merge(second, first).status_code == 200
    into_settled = merge(third, second)  # the second one is merged: settled
    assert into_settled.status_code == 409 and problem_code(into_settled) == "merge-not-allowed"


def test_only_handlers_of_both_reports_may_merge(app, client, settings, categories, login) -> None:
    kept, duplicate = _file(app, settings), _file(app, settings)
    url = f"/api/v1/reports/{_case_id(login, duplicate)}/merge"
    assert login("viewer").api("POST", url, json={"into": kept}).status_code == 403
    assert login("staff2").api("POST", url, json={"into": kept}).status_code == 404  # Sở Y tế sees neither
    with app.state.session_factory() as session:
        assert session.query(Case).filter_by(code=duplicate).one().status == "triaged"
