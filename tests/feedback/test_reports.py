"""Reports: every channel's submission becomes a case routed by its category, bad input creates nothing,
the ward comes from the point, the classifier suggests a category, and the reporter stays private."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from saola.cases.models import Case
from saola.core.db import unit_of_work
from saola.core.settings import Settings
from saola.feedback import reports
from saola.feedback.classifier import ReportClassifier
from saola.feedback.intake import Submission, Upload
from saola.feedback.models import FeedbackReporter
from tests.core.helpers import is_background_statement, problem_code
from tests.feedback.conftest import BAC_GIANG, HANOI, IOC, KINH_BAC, PNG, SXD, SYT, bearer, counts, report_json

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Hà Nội


def _submit(app, settings: Settings, **fields: Any) -> reports.Report:
    values: dict[str, Any] = {"channel": "web", "description": "Đèn đường trước nhà số 12 không sáng",
                              "service_code": "street-lighting", "lat": KINH_BAC[0], "lon": KINH_BAC[1],
                              "answers": {"lamp_state": "off"}}
    values.update(fields)
    with unit_of_work(app.state.session_factory) as session:
        item = reports.submit(session, submission=Submission(**values), actor=None, now=NOW, settings=settings)
        session.expunge_all()
    return item


def test_a_report_with_a_category_goes_to_its_agency_with_its_deadline(app, settings, categories) -> None:
    item = _submit(app, settings, channel="phone")
    assert item.case.code.startswith("PA-2026-")
    assert item.case.agency_id == SXD
    assert item.case.status == "triaged"  # routed at once
    assert item.case.deadline_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 3 working days: Friday 17:00
    assert item.report.channel == "phone" and item.report.answers == {"lamp_state": "off"}


def test_a_report_without_a_category_waits_in_the_triage_queue(app, settings, categories) -> None:
    item = _submit(app, settings, service_code=None, answers={}, description="Có chuyện lạ ở đầu ngõ, đề nghị xem")
    assert (item.case.agency_id, item.case.status, item.case.deadline_at) == (IOC, "received", None)
    assert item.category is None and item.report.suggested_category_id is None  # no model configured


def test_the_ward_is_resolved_from_the_point(app, settings, categories) -> None:
    assert (_submit(app, settings).report.ward_code, _submit(app, settings).report.ward_name) == (
        "09187", "Phường Kinh Bắc")
    other = _submit(app, settings, lat=BAC_GIANG[0], lon=BAC_GIANG[1])
    assert (other.report.ward_code, other.report.ward_name) == ("07210", "Phường Bắc Giang")


def test_an_address_without_a_point_is_accepted_and_kept(app, settings, categories) -> None:
    item = _submit(app, settings, lat=None, lon=None, address="Số 5 đường Ngô Gia Tự, phường Kinh Bắc, Bắc Ninh")
    assert item.report.address.startswith("Số 5") and item.report.lat is None


@pytest.mark.parametrize(("fields", "field"), [
    ({"description": "hỏng"}, "description"),
    ({"lon": None}, "long"),
    ({"lat": 91.0}, "lat"),
    ({"lat": None, "lon": None}, "location"),
    ({"lat": HANOI[0], "lon": HANOI[1]}, "location"),
    ({"phone": "call me", "consent": True}, "phone"),
    ({"email": "not-an-email", "consent": True}, "email"),
    ({"phone": "0912 345 678"}, "consent"),
    ({"service_code": "no-such-service"}, "service_code"),
    ({"answers": {}}, "attribute[lamp_state]"),
    ({"answers": {"lamp_state": "exploded"}}, "attribute[lamp_state]"),
    ({"answers": {"lamp_state": "off", "colour": "red"}}, "attribute[colour]"),
    ({"uploads": [Upload("photo.jpg", b"<html>not a photo</html>")]}, "media"),
    ({"channel": "pigeon"}, "channel"),
    ({"description": "Đèn hỏng\x00 rồi, tối quá"}, "description"),
])
def test_an_invalid_submission_is_refused_with_the_field_and_creates_nothing(
        app, settings, categories, fields: dict[str, Any], field: str) -> None:
    before = counts(app)
    with pytest.raises(reports.InvalidReport) as raised:
        _submit(app, settings, **fields)
    assert field in [e["field"] for e in raised.value.errors], raised.value.errors
    assert counts(app) == before


def test_a_photo_is_checked_by_its_content_and_attached_to_the_case(app, settings, categories) -> None:
    before = counts(app)
    item = _submit(app, settings, uploads=[Upload("den-hong.jpg", PNG)])
    with app.state.session_factory() as session:
        from saola.cases.models import CaseAttachment

        attachment = session.query(CaseAttachment).filter_by(case_id=item.case.id).one()
        assert (attachment.file_name, attachment.content_type, attachment.public) == ("den-hong.jpg", "image/png",
                                                                                       False)
    assert counts(app)["case_attachments"] == before["case_attachments"] + 1


def test_a_photo_larger_than_the_limit_is_refused(app, settings, categories) -> None:
    small = settings.model_copy(update={"feedback_max_photo_mb": 1})
    with pytest.raises(reports.InvalidReport):
        _submit(app, small, uploads=[Upload("big.png", PNG + b"\x00" * (1024 * 1024))])


def test_the_classifier_suggests_a_category_with_its_confidence(app, settings, categories, tmp_path: Path) -> None:
    lights = ["Đèn đường không sáng", "đèn chiếu sáng hỏng cả tuần", "cột đèn nhấp nháy", "bóng đèn đường bị vỡ",
              "street light is off", "khu phố mất đèn chiếu sáng"]
    food = ["ngộ độc thực phẩm ở quán cơm", "thực phẩm bẩn bày bán ở chợ", "quán ăn mất vệ sinh",
            "bán thịt ôi thiu", "food poisoning after lunch", "thức ăn đường phố bẩn"]
    model = ReportClassifier.train(lights + food, ["street-lighting"] * 6 + ["food-safety"] * 6)
    path = tmp_path / "model.joblib"
    model.save(path)
    configured = settings.model_copy(update={"feedback_classifier_model": path})
    item = _submit(app, configured, service_code=None, answers={}, description="Đèn đường ngõ 7 không sáng mấy hôm")
    assert item.report.suggested_category_id == categories["street-lighting"]
    assert 0.5 < item.report.suggestion_confidence <= 1.0
    assert item.case.agency_id == IOC and item.case.status == "received"  # a person confirms the suggestion

    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a model")
    unusable = settings.model_copy(update={"feedback_classifier_model": broken})
    plain = _submit(app, unusable, service_code=None, answers={}, description="Đèn đường ngõ 9 không sáng mấy hôm")
    assert plain.report.suggested_category_id is None


def test_the_reporters_personal_data_is_kept_apart(app, settings, categories) -> None:
    item = _submit(app, settings, name="Nguyễn Văn An", phone="0912 345 678", email="an@example.vn", consent=True)
    with app.state.session_factory() as session:
        reporter = session.query(FeedbackReporter).filter_by(report_id=item.report.id).one()
        case = session.get(Case, item.case.id)
        assert (reporter.name, reporter.phone, reporter.email, reporter.consent) == (
            "Nguyễn Văn An", "0912 345 678", "an@example.vn", True)
        assert "0912" not in repr(case.meta) and "An" not in case.title
        from saola.core.audit.models import AuditEntry

        logged = session.query(AuditEntry).filter_by(object_type="feedback_reporters").all()
        assert logged and all("0912" not in repr((e.before, e.after)) and "an@example.vn" not in
                              repr((e.before, e.after)) for e in logged)


# --- the JSON API for apps and staff ----------------------------------------------------------


def test_a_mobile_app_submits_a_report_and_follows_it_by_its_tracking_code(client, token, categories) -> None:
    app_key = bearer(token("operator", ["feedback:submit"]))
    created = client.post("/api/v1/reports", headers=app_key, json=report_json(
        name="Trần Thị Bình", phone="0987654321", consent=True,
        description="Đèn đường trước nhà số 12 không sáng, gọi 0987654321"))
    assert created.status_code == 201, created.text
    receipt = created.json()
    assert receipt["status"] == "triaged" and receipt["service_code"] == "street-lighting"
    tracked = client.get(f"/api/v1/reports/track/{receipt['tracking_code'].lower()}", headers=app_key)
    assert tracked.status_code == 200, tracked.text
    public = tracked.json()
    assert public["ward_name"] == "Phường Kinh Bắc" and public["open"] is True
    assert "0987654321" not in tracked.text and "Bình" not in tracked.text  # no personal data, even typed in
    missing = client.get("/api/v1/reports/track/PA-2026-999999", headers=app_key)
    assert missing.status_code == 404 and problem_code(missing) == "report-not-found"


def test_an_app_report_with_bad_input_gets_every_problem_and_creates_nothing(app, client, token, categories) -> None:
    before = counts(app)
    response = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json(
        description="x", lat=None, phone="12", attributes={}))
    assert response.status_code == 422
    assert problem_code(response) == "invalid-report"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"description", "lat", "phone", "consent", "attribute[lamp_state]"} <= fields
    assert counts(app) == before


def test_only_staff_handling_a_report_see_the_reporter(client, token, login, categories) -> None:
    created = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json(
        name="Lê Văn Cường", email="cuong@example.vn", consent=True)).json()
    staff = login("staff")  # Sở Xây dựng, the owner
    listed = staff.client.get("/api/v1/reports").json()
    case_id = listed[0]["case_id"]
    assert listed[0]["reporter"]["email"] == "cuong@example.vn"
    assert listed[0]["tracking_code"] == created["tracking_code"]
    viewer = login("viewer")  # the same agency, but only reads
    seen = viewer.client.get(f"/api/v1/reports/{case_id}")
    assert seen.status_code == 200 and seen.json()["reporter"] is None and "Cường" not in seen.text
    other = login("staff2")  # Sở Y tế
    assert other.client.get(f"/api/v1/reports/{case_id}").status_code == 404
    assert other.client.get("/api/v1/reports").json() == []


def test_staff_move_a_report_through_the_case_engine(client, token, login, categories, app) -> None:
    client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json())
    staff = login("staff")
    report = staff.client.get("/api/v1/reports").json()[0]
    me = staff.client.get("/api/v1/me").json()["id"]
    url = f"/api/v1/reports/{report['case_id']}/transition"
    illegal = staff.api("POST", url, json={"to": "resolved", "resolution": "Đã thay bóng"})
    assert illegal.status_code == 409 and problem_code(illegal) == "invalid-transition"
    assigned = staff.api("POST", url, json={"to": "assigned", "assignee_id": me})
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"
    forwarded = staff.api("POST", url, json={"to": "forwarded", "reason": "Thuộc ngành y tế", "target_agency_id": SYT})
    assert forwarded.status_code == 200, forwarded.text
    assert forwarded.json()["agency"] != report["agency"] and forwarded.json()["reporter"] is None
    assert staff.client.get(f"/api/v1/reports/{report['case_id']}").status_code == 404  # now Sở Y tế's
    viewer_try = login("viewer").api("POST", url, json={"to": "triaged"})
    assert viewer_try.status_code == 403


def test_an_operator_triages_a_report_without_a_category_to_the_categorys_agency(client, token, login,
                                                                                 categories) -> None:
    created = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json(
        service_code=None, attributes=None, description="Có cột đèn tắt ngấm ở đầu ngõ 3"))
    assert created.status_code == 201 and created.json()["status"] == "received"
    operator = login("operator")
    queue = operator.client.get("/api/v1/reports?status=received").json()
    assert [r["tracking_code"] for r in queue] == [created.json()["tracking_code"]]
    case_id = queue[0]["case_id"]
    assert login("staff").api("POST", f"/api/v1/reports/{case_id}/category",
                              json={"service_code": "street-lighting"}).status_code == 404  # not SXD's yet
    unknown = operator.api("POST", f"/api/v1/reports/{case_id}/category", json={"service_code": "nope"})
    assert unknown.status_code == 404 and problem_code(unknown) == "feedback-category-not-found"

    routed = operator.api("POST", f"/api/v1/reports/{case_id}/category", json={"service_code": "street-lighting"})
    assert routed.status_code == 200, routed.text
    body = routed.json()
    assert (body["status"], body["service_code"]) == ("triaged", "street-lighting")
    assert body["expected_at"] is not None
    staff_view = login("staff").client.get(f"/api/v1/reports/{case_id}")
    assert staff_view.status_code == 200  # now Sở Xây dựng's
    again = operator.api("POST", f"/api/v1/reports/{case_id}/category", json={"service_code": "food-safety"})
    assert again.status_code == 409 and problem_code(again) == "invalid-transition"


SIGN_IN_TABLES = ("browser_sessions", "api_tokens", "users", "audit_log")


def _statements(app, call) -> int:
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        # session upkeep varies from call to call; background workers poll on their own schedule
        if not any(t in statement for t in SIGN_IN_TABLES) and not is_background_statement(statement):
            seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        assert call().status_code == 200
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    return len(seen)


def test_report_lists_use_the_same_number_of_queries_for_one_report_or_many(app, client, token, login,
                                                                            categories) -> None:
    app_key = bearer(token("operator"))
    staff = login("staff")
    client.post("/api/v1/reports", headers=app_key, json=report_json(name="A", phone="0912345678", consent=True))
    one = (_statements(app, lambda: staff.client.get("/api/v1/reports")),
           _statements(app, lambda: client.get("/open311/v2/requests.json")))
    for n in range(4):
        client.post("/api/v1/reports", headers=app_key, json=report_json(description=f"Đèn đường số {n} hỏng rồi"))
    many = (_statements(app, lambda: staff.client.get("/api/v1/reports")),
            _statements(app, lambda: client.get("/open311/v2/requests.json")))
    assert len(staff.client.get("/api/v1/reports").json()) == 5
    assert many == one
