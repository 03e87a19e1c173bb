"""The category tree: administrators build and change it, bad categories are refused, the demo loads once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saola.cases.deadlines import compute_deadline
from saola.core.calendar import default_calendar
from saola.core.db import unit_of_work
from saola.feedback.categories import deadline_rule
from saola.feedback.demo import catalogue, load_categories
from saola.feedback.models import FeedbackCategory
from tests.core.helpers import problem_code
from tests.feedback.conftest import SXD, SYT, bearer

LIGHT_QUESTION = {"code": "lamp_state", "datatype": "singlevaluelist", "required": True,
                  "description": "What is wrong?", "values": [{"key": "off", "name": "Off"},
                                                              {"key": "flicker", "name": "Flickering"}]}


def _field(admin: Any, code: str = "infra") -> dict[str, Any]:
    response = admin.api("POST", "/api/v1/feedback/fields", json={"code": code, "name_vi": "Hạ tầng",
                                                                  "name_en": "Infrastructure"})
    assert response.status_code == 201, response.text
    return response.json()


def _category(parent: int, **changes: Any) -> dict[str, Any]:
    body = {"field_id": parent, "service_code": "lights", "name_vi": "Đèn đường hỏng", "name_en": "Street light out",
            "agency_id": SXD, "deadline_amount": 3, "deadline_unit": "working_days", "attributes": [LIGHT_QUESTION]}
    body.update(changes)
    return body


def test_an_administrator_builds_a_field_and_category_and_reads_them_back_in_the_tree(login) -> None:
    admin = login("admin")
    field = _field(admin)
    created = admin.api("POST", "/api/v1/feedback/categories", json=_category(field["id"]))
    assert created.status_code == 201, created.text
    category = created.json()
    assert category["agency_id"] == SXD and category["deadline_unit"] == "working_days"
    assert category["attributes"][0]["values"][1] == {"key": "flicker", "name": "Flickering"}

    tree = admin.client.get("/api/v1/feedback/fields").json()
    assert [(f["code"], [c["service_code"] for c in f["categories"]]) for f in tree] == [("infra", ["lights"])]

    changed = admin.api("PATCH", f"/api/v1/feedback/categories/{category['id']}",
                        json={"agency_id": SYT, "deadline_amount": 8, "deadline_unit": "working_hours"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["agency_id"], changed.json()["deadline_amount"]) == (SYT, 8)
    assert admin.client.get(f"/api/v1/feedback/categories/{category['id']}").json()["agency_id"] == SYT

    hidden = admin.api("PATCH", f"/api/v1/feedback/fields/{field['id']}", json={"active": False})
    assert hidden.json()["active"] is False
    assert admin.client.get("/api/v1/feedback/fields?active_only=true").json() == []


@pytest.mark.parametrize(("changes", "code"), [
    ({"attributes": [{**LIGHT_QUESTION, "values": []}]}, "validation-failed"),
    ({"attributes": [LIGHT_QUESTION, LIGHT_QUESTION]}, "validation-failed"),
    ({"attributes": [{**LIGHT_QUESTION, "datatype": "string"}]}, "validation-failed"),
    ({"service_code": "has space"}, "validation-failed"),
    ({"deadline_amount": 0}, "validation-failed"),
    ({"deadline_unit": "fortnights"}, "validation-failed"),
    ({"deadline_amount": 1.5, "deadline_unit": "working_days"}, "invalid-category"),
    ({"agency_id": 999}, "invalid-category"),
    ({"field_id": 999}, "invalid-category"),
])
def test_a_category_with_a_bad_value_is_refused_and_nothing_is_saved(login, changes: dict[str, Any],
                                                                      code: str) -> None:
    admin = login("admin")
    field = _field(admin)
    response = admin.api("POST", "/api/v1/feedback/categories", json=_category(field["id"], **changes))
    assert response.status_code == 422, response.text
    assert problem_code(response) == code
    assert admin.client.get("/api/v1/feedback/categories").json() == []


def test_a_service_code_is_used_once(login) -> None:
    admin = login("admin")
    field = _field(admin)
    assert admin.api("POST", "/api/v1/feedback/categories", json=_category(field["id"])).status_code == 201
    again = admin.api("POST", "/api/v1/feedback/categories", json=_category(field["id"], name_vi="Khác"))
    assert again.status_code == 409
    assert problem_code(again) == "feedback-code-taken"
    assert problem_code(admin.api("POST", "/api/v1/feedback/fields", json={
        "code": "infra", "name_vi": "X", "name_en": "X"})) == "feedback-code-taken"


def test_only_administrators_change_the_tree_and_staff_read_it(login, token, client) -> None:
    admin = login("admin")
    field = _field(admin)
    for user in ("operator", "staff"):
        browser = login(user)
        refused = browser.api("POST", "/api/v1/feedback/categories", json=_category(field["id"]))
        assert refused.status_code == 403 and problem_code(refused) == "permission-denied"
        assert browser.api("PATCH", f"/api/v1/feedback/fields/{field['id']}", json={"active": False}).status_code == 403
        assert browser.client.get("/api/v1/feedback/fields").status_code == 200
    assert client.get("/api/v1/feedback/fields", headers=bearer(token("viewer"))).status_code == 200


def test_an_unknown_category_is_not_found(login) -> None:
    admin = login("admin")
    response = admin.client.get("/api/v1/feedback/categories/4242")
    assert response.status_code == 404 and problem_code(response) == "feedback-category-not-found"
    assert problem_code(admin.api("PATCH", "/api/v1/feedback/fields/4242", json={})) == "feedback-field-not-found"


def test_the_demo_ships_the_fields_of_the_1022_systems_and_loads_them_once(app) -> None:
    codes = [f["code"] for f in catalogue()["fields"]]
    assert codes == ["traffic", "urban-order", "environment", "infrastructure", "electricity", "telecoms",
                     "public-administration", "health", "security-order", "other"]
    with unit_of_work(app.state.session_factory) as session:
        first = load_categories(session)
    with unit_of_work(app.state.session_factory) as session:
        second = load_categories(session)
        lighting = session.query(FeedbackCategory).filter_by(service_code="street-lighting").one()
        assert lighting.agency_id == SXD and lighting.attributes[0]["code"] == "lamp_state"
    assert first.fields == 10 and first.categories > 10
    # the test database has only IOC, SXD, SYT and TTPVHCC: the other agencies' categories are left out, not rerouted
    assert first.skipped > 0
    assert (second.fields, second.categories) == (0, 0)


@pytest.mark.parametrize(("amount", "unit", "expected"), [
    (4, "calendar_hours", datetime(2026, 11, 21, 14, 0, tzinfo=UTC)),  # Saturday: calendar hours run on
    (2, "calendar_days", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
    (1, "working_days", datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),  # next working day's 17:00 (UTC+7)
    (8, "working_hours", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),  # all of Monday's office hours: 17:00 (UTC+7)
])
def test_a_category_deadline_is_counted_in_its_unit(amount: float, unit: str, expected: datetime) -> None:
    category = FeedbackCategory(deadline_amount=amount, deadline_unit=unit)
    received = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # Saturday 17:00 in Hà Nội
    deadline = compute_deadline(deadline_rule(category), received, default_calendar())
    assert deadline == expected, deadline - expected if deadline else None
    assert deadline - received >= timedelta(hours=4)


def test_the_console_page_shows_the_tree_and_lets_administrators_switch_a_category_off(login, categories) -> None:
    staff = login("staff")
    page = staff.client.get("/console/feedback/categories")
    assert page.status_code == 200
    assert 'data-category="street-lighting"' in page.text and "Hạ tầng đô thị" in page.text
    assert "/active" not in page.text  # staff read only
    refused = staff.post_form(f"/console/feedback/categories/{categories['trees']}/active", {"active": "false"})
    assert refused.status_code == 403

    admin = login("admin")
    switched = admin.post_form(f"/console/feedback/categories/{categories['trees']}/active", {"active": "false"},
                               follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"].endswith("done=off")
    after = admin.client.get("/console/feedback/categories?done=off&lang=en")
    assert "The category was deactivated" in after.text and "Street light out" in after.text
    assert "trees" not in {s["service_code"] for s in admin.client.get("/open311/v2/services.json").json()}


def test_answers_are_checked_against_each_kind_of_question() -> None:
    from saola.feedback.categories import check_answers

    category = FeedbackCategory(attributes=[
        {"code": "count", "datatype": "number", "required": True, "description": "How many?"},
        {"code": "since", "datatype": "datetime", "description": "Since when?"},
        {"code": "kinds", "datatype": "multivaluelist", "description": "Which?",
         "values": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}]},
        {"code": "note", "datatype": "text", "description": "Anything else?"},
    ])
    answers, errors = check_answers(category, {"count": "3", "since": "2026-11-24T07:00:00+07:00",
                                               "kinds": ["b", "a", "b"], "note": "  ok  "})
    assert errors == []
    assert answers == {"count": 3.0, "since": "2026-11-24T07:00:00+07:00", "kinds": ["a", "b"], "note": "ok"}
    _answers, errors = check_answers(category, {"count": "NaN", "since": "yesterday", "kinds": ["c"],
                                                "note": "x" * 2001})
    assert {e["field"] for e in errors} == {"attribute[count]", "attribute[since]", "attribute[kinds]",
                                            "attribute[note]"}
    _answers, errors = check_answers(category, {})
    assert errors == [{"field": "attribute[count]", "message": "this question must be answered"}]
