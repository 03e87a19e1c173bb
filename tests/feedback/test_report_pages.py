"""The hotline's console pages: the report list with its filters, the triage queue, and a report's page with
its moves, notes, photos, similar reports and merge — each user seeing only what their agency and role allow."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from saola.cases.models import Case, CaseNote
from saola.core.db import unit_of_work, utcnow
from saola.feedback.models import FeedbackCategory, FeedbackReport
from tests.feedback.conftest import KINH_BAC, PNG, SXD, bearer, report_json


def _file(client, token, **changes: Any) -> dict[str, Any]:
    """A report filed by the app of the hotline (the operator's token): ``{case_id, tracking_code, ...}``."""
    created = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json(**changes))
    assert created.status_code == 201, created.text
    code = created.json()["tracking_code"]
    (found,) = [r for r in client.get("/api/v1/reports?limit=500", headers=bearer(token("operator"))).json()
                if r["tracking_code"] == code]
    return found


def _status(app, case_id: int) -> str:
    with app.state.session_factory() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.status


def _row_codes(html: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)"', html)


def test_the_list_shows_the_agencys_reports_nearest_deadline_first_with_filters(app, client, token, login,
                                                                                categories) -> None:
    light = _file(client, token, phone="0912 345 678", consent=True)
    tree = _file(client, token, service_code="trees", attributes={}, description="Cây đổ chắn ngang đường số 5")
    waiting = _file(client, token, service_code=None, attributes={}, description="Có chuyện lạ ở đầu ngõ nhà tôi")
    with unit_of_work(app.state.session_factory) as session:  # the tree report is already late
        case = session.get(Case, tree["case_id"])
        assert case is not None
        case.deadline_at = utcnow() - timedelta(hours=2)

    staff = login("staff")  # Sở Xây dựng: the light and the tree, not the report waiting at the IOC
    page = staff.client.get("/console/feedback/reports")
    assert page.status_code == 200
    assert _row_codes(page.text) == [tree["tracking_code"], light["tracking_code"]]
    assert 'data-deadline="overdue"' in page.text and "0912" not in page.text

    overdue = staff.client.get("/console/feedback/reports", params={"due": "overdue"})
    assert _row_codes(overdue.text) == [tree["tracking_code"]]
    by_code = staff.client.get("/console/feedback/reports", params={"q": light["tracking_code"].lower()})
    assert _row_codes(by_code.text) == [light["tracking_code"]]
    by_text = staff.client.get("/console/feedback/reports", params={"q": "cây đổ", "ward": "09187"})
    assert _row_codes(by_text.text) == [tree["tracking_code"]]
    assert _row_codes(staff.client.get("/console/feedback/reports", params={"category": "trees"}).text) == [
        tree["tracking_code"]]
    assert _row_codes(staff.client.get("/console/feedback/reports", params={"channel": "phone"}).text) == []

    operator = login("operator")  # every agency: the report waiting for triage too, marked so
    triage = operator.client.get("/console/feedback/reports", params={"category": "none"})
    assert _row_codes(triage.text) == [waiting["tracking_code"]] and "Cần phân loại" in triage.text

    assert staff.client.get("/console/feedback/reports", params={"due": "soon-ish"}).status_code == 422
    assert staff.client.get("/console/feedback/reports", params={"start": "yesterday"}).status_code == 422
    assert login("clerk").client.get("/console/feedback/reports").status_code == 403


def test_staff_of_another_agency_see_neither_the_report_nor_its_reporter(client, token, login, categories) -> None:
    filed = _file(client, token, phone="0912 345 678", consent=True)
    url = f"/console/feedback/reports/{filed['case_id']}"

    staff = login("staff")  # handles it: the reporter is shown
    page = staff.client.get(url)
    assert page.status_code == 200 and 'data-testid="reporter-phone">0912 345 678' in page.text

    other = login("staff2")  # Sở Y tế: not found, and absent from their list
    assert other.client.get(url).status_code == 404
    assert filed["tracking_code"] not in other.client.get("/console/feedback/reports").text

    viewer = login("viewer")  # same agency, reads only: the report without its reporter and no actions
    seen = viewer.client.get(url)
    assert seen.status_code == 200 and filed["tracking_code"] in seen.text
    assert "0912" not in seen.text and 'data-testid="report-actions"' not in seen.text
    assert login("clerk").client.get(url).status_code == 403


def test_photos_are_served_only_to_staff_handling_the_report(app, client, token, login, categories) -> None:
    created = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json())
    assert created.status_code == 201
    with unit_of_work(app.state.session_factory) as session:
        from saola.cases import service as cases
        from saola.cases.actors import SYSTEM
        from saola.cases.storage import filesystem_store

        case_id = session.scalar(select(Case.id).where(Case.code == created.json()["tracking_code"]))
        assert case_id is not None
        photo = cases.add_attachment(session, case_id=case_id, actor=SYSTEM, file_name="den.png",
                                     content_type="image/png", data=PNG,
                                     store=filesystem_store(app.state.settings.data_dir), now=utcnow())
        photo_id = photo.id
    url = f"/console/feedback/reports/{case_id}/files/{photo_id}"

    staff = login("staff")
    assert f'{url}?disposition=inline' in staff.client.get(f"/console/feedback/reports/{case_id}").text
    served = staff.client.get(url, params={"disposition": "inline"})
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png" and served.headers["content-disposition"] == "inline"
    assert served.headers["x-content-type-options"] == "nosniff"
    viewer = login("viewer")
    assert viewer.client.get(url).status_code == 403
    assert url not in viewer.client.get(f"/console/feedback/reports/{case_id}").text
    assert login("staff2").client.get(url).status_code == 404
    assert staff.client.get(f"/console/feedback/reports/{case_id}/files/{photo_id + 99}").status_code == 404


def test_staff_move_a_report_from_its_page_and_a_refused_move_changes_nothing(app, client, token, login,
                                                                              categories) -> None:
    filed = _file(client, token)
    staff = login("staff")
    base = f"/console/feedback/reports/{filed['case_id']}"
    page = staff.client.get(base)
    assert {"assigned", "rejected", "forwarded", "on_hold"} <= set(re.findall(r'data-move="([^"]+)"', page.text))
    me = re.search(r'<option value="(\d+)" selected>Staff</option>', page.text)
    assert me, "the assignee picker offers the user first"

    moved = staff.post_form(base + "/transition", {"to": "assigned", "assignee_id": me.group(1)},
                            follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == base + "?done=moved"
    assert _status(app, filed["case_id"]) == "assigned"

    not_allowed = staff.post_form(base + "/transition", {"to": "closed"})  # assigned → closed is no move
    assert not_allowed.status_code == 409 and 'data-code="invalid-transition"' in not_allowed.text
    no_reason = staff.post_form(base + "/transition", {"to": "rejected", "reason": "  "})
    assert no_reason.status_code == 422 and 'data-code="reason-required"' in no_reason.text
    assert 'data-testid="report-actions"' in no_reason.text  # the page again, with its actions
    assert _status(app, filed["case_id"]) == "assigned"

    started = staff.post_form(base + "/transition", {"to": "in_progress"})
    assert started.status_code == 200 and _status(app, filed["case_id"]) == "in_progress"
    unresolved = staff.post_form(base + "/transition", {"to": "resolved", "resolution": ""})
    assert unresolved.status_code == 422 and _status(app, filed["case_id"]) == "in_progress"
    resolved = staff.post_form(base + "/transition", {"to": "resolved", "resolution": "Đã thay bóng đèn mới"})
    assert resolved.status_code == 200 and 'data-testid="report-resolution">Đã thay bóng đèn mới' in resolved.text
    assert 'data-outcome="' in resolved.text

    assert login("viewer").post_form(base + "/transition", {"to": "reopened", "reason": "x"}).status_code == 403
    assert login("staff2").post_form(base + "/transition", {"to": "reopened", "reason": "x"}).status_code == 404
    assert _status(app, filed["case_id"]) == "resolved"


def test_a_report_forwarded_out_of_the_users_agency_leaves_their_sight(app, client, token, login, categories) -> None:
    filed = _file(client, token)
    staff = login("staff")
    base = f"/console/feedback/reports/{filed['case_id']}"
    forwarded = staff.post_form(base + "/transition", {"to": "forwarded", "reason": "Thuộc Sở Y tế",
                                                       "target_agency_id": "3"}, follow_redirects=False)
    assert forwarded.status_code == 303 and forwarded.headers["location"] == "/console/feedback/reports"
    assert staff.client.get(base).status_code == 404
    assert login("staff2").client.get(base).status_code == 200


def test_internal_notes_stay_inside_and_public_replies_reach_the_citizen(app, client, token, login,
                                                                        categories) -> None:
    filed = _file(client, token)
    staff = login("staff")
    base = f"/console/feedback/reports/{filed['case_id']}"
    internal = staff.post_form(base + "/notes", {"text": "Gọi đội điện số 3 kiểm tra"}, follow_redirects=False)
    assert internal.status_code == 303 and internal.headers["location"] == base + "?done=note"
    reply = staff.post_form(base + "/notes", {"text": "Chúng tôi sẽ sửa đèn trong tuần này", "public": "true"})
    assert reply.status_code == 200
    assert re.search(r'data-public="false">.*?Gọi đội điện số 3', reply.text, re.S)
    assert re.search(r'data-public="true">.*?Chúng tôi sẽ sửa đèn', reply.text, re.S)
    assert staff.post_form(base + "/notes", {"text": "   "}).status_code == 400

    public = client.get("/feedback/track", params={"code": filed["tracking_code"]})
    assert "Chúng tôi sẽ sửa đèn trong tuần này" in public.text and "Gọi đội điện" not in public.text

    # The same through the JSON API, for handlers only.
    api = client.post(f"/api/v1/reports/{filed['case_id']}/notes", headers=bearer(token("staff")),
                      json={"text": "Đã giao cho đội 3", "public": False})
    assert api.status_code == 201 and api.json()["public"] is False and api.json()["author_name"] == "staff"
    assert client.post(f"/api/v1/reports/{filed['case_id']}/notes", headers=bearer(token("staff2")),
                       json={"text": "Không phải việc của tôi"}).status_code == 404
    assert client.post(f"/api/v1/reports/{filed['case_id']}/notes", headers=bearer(token("staff")),
                       json={"text": ""}).status_code == 422
    assert login("viewer").post_form(base + "/notes", {"text": "Xem thôi"}).status_code == 403
    with app.state.session_factory() as session:
        assert [n.public for n in session.scalars(select(CaseNote).where(CaseNote.case_id == filed["case_id"])
                                                  .order_by(CaseNote.id))] == [False, True, False]


def test_the_triage_queue_accepts_the_classifiers_suggestion_in_one_click(app, client, token, login,
                                                                         categories) -> None:
    waiting = _file(client, token, service_code=None, attributes={}, description="Đèn đường hỏng cả tuần nay rồi")
    with unit_of_work(app.state.session_factory) as session:
        report = session.scalar(select(FeedbackReport).where(FeedbackReport.case_id == waiting["case_id"]))
        assert report is not None
        report.suggested_category_id = categories["street-lighting"]
        report.suggestion_confidence = 0.87

    operator = login("operator")
    queue = operator.client.get("/console/feedback/triage")
    assert queue.status_code == 200 and _row_codes(queue.text) == [waiting["tracking_code"]]
    assert 'data-confidence="0.87"' in queue.text and "87%" in queue.text
    accepted = operator.post_form(f"/console/feedback/reports/{waiting['case_id']}/category",
                                  {"service_code": "street-lighting"}, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/console/feedback/triage?done=categorised"
    with app.state.session_factory() as session:
        case = session.get(Case, waiting["case_id"])
        report = session.scalar(select(FeedbackReport).where(FeedbackReport.case_id == waiting["case_id"]))
        assert case is not None and report is not None
        assert (case.status, case.agency_id, case.deadline_at is not None) == ("triaged", SXD, True)
        assert session.get(FeedbackCategory, report.category_id).service_code == "street-lighting"  # type: ignore[union-attr]
    assert _row_codes(operator.client.get("/console/feedback/triage").text) == []

    again = operator.post_form(f"/console/feedback/reports/{waiting['case_id']}/category", {"service_code": "trees"})
    assert again.status_code == 409 and 'data-code="invalid-transition"' in again.text
    unknown = _file(client, token, service_code=None, attributes={}, description="Một chuyện khác ở ngõ 7 nhé")
    bad = operator.post_form(f"/console/feedback/reports/{unknown['case_id']}/category", {"service_code": "nope"})
    assert bad.status_code == 404 and _status(app, unknown["case_id"]) == "received"
    on_its_page = operator.post_form(f"/console/feedback/reports/{unknown['case_id']}/category",
                                     {"service_code": "nope", "back": "report"})
    assert on_its_page.status_code == 404 and 'data-testid="triage-form"' in on_its_page.text
    assert 'data-code="feedback-category-not-found"' in on_its_page.text


def test_similar_open_reports_nearby_are_offered_for_merging(app, client, token, login, categories) -> None:
    kept = _file(client, token)
    duplicate = _file(client, token, description="Đèn đường trước số 12 tắt từ tối qua",
                      lat=KINH_BAC[0] + 0.0002, long=KINH_BAC[1])
    staff = login("staff")
    base = f"/console/feedback/reports/{duplicate['case_id']}"
    page = staff.client.get(base)
    assert f'data-code="{kept["tracking_code"]}"' in page.text and 'data-testid="merge-into"' in page.text
    merged = staff.post_form(base + "/merge", {"into": kept["tracking_code"]})
    assert merged.status_code == 200
    assert re.search(r'data-testid="merged-into">[^<]*' + kept["tracking_code"], merged.text)
    assert _status(app, duplicate["case_id"]) == "rejected"
    itself = staff.post_form(f"/console/feedback/reports/{kept['case_id']}/merge", {"into": kept["tracking_code"]})
    assert itself.status_code == 409 and 'data-code="merge-not-allowed"' in itself.text
    assert _status(app, kept["case_id"]) == "triaged"


def test_the_list_and_the_triage_queue_use_the_same_number_of_queries_for_one_report_or_many(
        app, token, login, categories) -> None:
    from fastapi.testclient import TestClient

    from tests.feedback.test_reports import _statements

    client = TestClient(app, base_url="http://127.0.0.1")  # no lifespan: no background worker polls meanwhile
    operator = login("operator")
    _file(client, token)
    _file(client, token, service_code=None, attributes={}, description="Có chuyện lạ ở đầu ngõ số 1 nhé")
    one = (_statements(app, lambda: operator.client.get("/console/feedback/reports")),
           _statements(app, lambda: operator.client.get("/console/feedback/triage")))
    for n in range(3):
        _file(client, token, description=f"Đèn đường số {n} hỏng rồi")
        _file(client, token, service_code=None, attributes={}, description=f"Có chuyện lạ ở ngõ số {n} nhé")
    many = (_statements(app, lambda: operator.client.get("/console/feedback/reports")),
            _statements(app, lambda: operator.client.get("/console/feedback/triage")))
    client.close()
    assert len(_row_codes(operator.client.get("/console/feedback/reports").text)) == 8
    assert many == one
