"""The hotline operator's form: a phone call becomes a report (channel ``phone``) with its tracking code shown,
the caller's earlier reports are looked up by number, open reports near the pin are shown, and bad input is
shown in the form with nothing saved. None of it is open to the public or to apps."""

from __future__ import annotations

import re

from sqlalchemy import select

from saola.cases.models import Case
from saola.feedback.models import FeedbackReport, FeedbackReporter
from tests.feedback.conftest import HANOI, KINH_BAC, bearer, counts, report_json

CALL = {"phone": "0912 345 678", "name": "Nguyễn Văn An", "consent": "true", "service_code": "street-lighting",
        "answer": "street-lighting:lamp_state=off", "description": "Đèn đường trước nhà số 12 không sáng",
        "address": "Số 12 đường Ngô Gia Tự", "lat": str(KINH_BAC[0]), "long": str(KINH_BAC[1])}


def test_the_operator_files_a_call_as_a_phone_report_and_reads_back_its_code(app, login, categories) -> None:
    operator = login("operator")
    form = operator.client.get("/console/feedback/call")
    assert form.status_code == 200 and 'data-testid="shortcuts"' in form.text
    assert re.search(r'name="phone"[^>]*autofocus', form.text)

    taken = operator.post_form("/console/feedback/call", CALL, follow_redirects=False)
    assert taken.status_code == 303
    code = re.fullmatch(r"/console/feedback/call\?code=(PA-\d{4}-\d{6})", taken.headers["location"]).group(1)
    page = operator.client.get(taken.headers["location"])
    assert f'data-testid="taken-code">{code}<' in page.text
    assert 'name="description"' in page.text and "Đèn đường trước nhà số 12" not in page.text  # a fresh form
    with app.state.session_factory() as session:
        report, case = session.execute(select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id)
                                       .where(Case.code == code)).one()
        reporter = session.scalar(select(FeedbackReporter).where(FeedbackReporter.report_id == report.id))
        assert (report.channel, case.status, report.answers) == ("phone", "triaged", {"lamp_state": "off"})
        assert reporter is not None and (reporter.phone, reporter.consent) == ("0912 345 678", True)
        assert report.submitted_by is not None  # the operator who took the call


def test_a_call_without_a_category_waits_for_triage(app, login, categories) -> None:
    operator = login("operator")
    taken = operator.post_form("/console/feedback/call", {**CALL, "service_code": "", "answer": ""})
    assert taken.status_code == 200 and "Cần phân loại" in taken.text
    with app.state.session_factory() as session:
        assert session.scalar(select(Case.status).order_by(Case.id.desc()).limit(1)) == "received"


def test_a_call_with_problems_is_shown_again_with_them_and_saves_nothing(app, login, categories) -> None:
    operator = login("operator")
    before = counts(app)
    refused = operator.post_form("/console/feedback/call", {**CALL, "description": "", "consent": ""})
    assert refused.status_code == 422
    assert 'data-field="description"' in refused.text and 'data-field="consent"' in refused.text
    assert 'value="0912 345 678"' in refused.text and 'value="Số 12 đường Ngô Gia Tự"' in refused.text
    outside = operator.post_form("/console/feedback/call", {**CALL, "lat": str(HANOI[0]), "long": str(HANOI[1])})
    assert outside.status_code == 422 and 'data-field="location"' in outside.text
    not_a_number = operator.post_form("/console/feedback/call", {**CALL, "lat": "abc"})
    assert not_a_number.status_code == 422 and 'data-field="lat"' in not_a_number.text
    assert counts(app) == before


def test_the_callers_earlier_reports_are_found_by_number_in_any_form(client, token, login, categories) -> None:
    earlier = client.post("/api/v1/reports", headers=bearer(token("operator")),
                          json=report_json(phone="0912 345 678", consent=True)).json()["tracking_code"]
    client.post("/api/v1/reports", headers=bearer(token("operator")),
                json=report_json(phone="0987 000 111", consent=True))
    operator = login("operator")
    for typed in ("0912345678", "+84 912 345 678", "0912.345.678"):
        found = operator.client.get("/console/feedback/call/caller", params={"phone": typed})
        assert found.status_code == 200
        assert re.findall(r'<li data-code="([^"]+)"', found.text) == [earlier], typed
        assert 'data-status="triaged"' in found.text
    assert 'data-testid="caller-none"' in operator.client.get("/console/feedback/call/caller",
                                                              params={"phone": "0900 000 000"}).text
    short = operator.client.get("/console/feedback/call/caller", params={"phone": "0912"})
    assert "<li" not in short.text

    # Never public, never for an app's token, never for staff without feedback:submit.
    for headers in ({}, bearer(token("operator"))):  # anonymous, or an app: sent to the sign-in page
        outsider = client.get("/console/feedback/call/caller", params={"phone": "0912345678"}, headers=headers,
                              follow_redirects=False)
        assert outsider.status_code == 303 and outsider.headers["location"].startswith("/login")
        assert earlier not in outsider.text
    assert login("staff").client.get("/console/feedback/call/caller", params={"phone": "0912345678"}).status_code == 403


def test_open_reports_near_the_pin_are_shown_while_taking_a_call(client, token, login, categories) -> None:
    near = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json()).json()
    operator = login("operator")
    params = {"lat": KINH_BAC[0] + 0.0003, "long": KINH_BAC[1]}
    any_category = operator.client.get("/console/feedback/call/nearby", params=params)
    assert re.findall(r'<li data-code="([^"]+)"', any_category.text) == [near["tracking_code"]]
    same = operator.client.get("/console/feedback/call/nearby", params={**params, "service_code": "street-lighting",
                                                                       "description": "Đèn hỏng"})
    assert re.findall(r'<li data-code="([^"]+)"', same.text) == [near["tracking_code"]]
    other = operator.client.get("/console/feedback/call/nearby", params={**params, "service_code": "trees"})
    assert 'data-testid="nearby-none"' in other.text
    assert "<li" not in operator.client.get("/console/feedback/call/nearby").text
    assert operator.client.get("/console/feedback/call/nearby", params={"lat": "nan", "long": "1"}).status_code == 422
