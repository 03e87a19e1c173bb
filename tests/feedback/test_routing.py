"""Routing rules: ordered, first active match wins (category, field, ward of the point, weekdays and a local
time window, across midnight too), else the category's agency; the case history names the rule; the
administration API checks every code it is given and answers which agency would get a report (dry run)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
from sqlalchemy import select

from saola.cases.models import CaseEvent
from saola.core.db import unit_of_work
from saola.feedback import reports
from saola.feedback.intake import Submission
from saola.feedback.routing import LOCAL_TZ, FeedbackRoutingRule, in_window
from tests.core.helpers import problem_code
from tests.feedback.conftest import BAC_GIANG, IOC, KINH_BAC, SXD, SYT, bearer

RULES = "/api/v1/feedback/routing-rules"
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=LOCAL_TZ)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the week of Monday 23 November 2026, local time (day 1 = Monday … 7 = Sunday)."""
    return datetime(2026, 11, 22 + day, hour, minute, tzinfo=LOCAL_TZ)


def _rule(client, admin: str, **body: Any) -> dict[str, Any]:
    created = client.post(RULES, headers=bearer(admin), json={"name": "rule", "agency_code": "SYT", **body})
    assert created.status_code == 201, created.text
    return created.json()


def _submit(app, settings, *, at: datetime = TUESDAY_10, service_code: str | None = "street-lighting",
            point: tuple[float, float] = KINH_BAC) -> reports.Report:
    answers = {"lamp_state": "off"} if service_code == "street-lighting" else {}
    with unit_of_work(app.state.session_factory) as session:
        item = reports.submit(session, submission=Submission(
            channel="phone", description="Đèn đường trước nhà số 12 không sáng", service_code=service_code,
            lat=point[0], lon=point[1], answers=answers), actor=None, now=at, settings=settings)
        session.expunge_all()
    return item


def _routing_events(app, case_id: int) -> list[CaseEvent]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                            CaseEvent.kind == "transition").order_by(CaseEvent.id)))


@pytest.fixture
def admin(token) -> str:
    return token("admin")


@pytest.mark.parametrize(("weekdays", "start", "end", "moment", "expected"), [
    ([], None, None, local(3, 3), True),  # no condition: always
    ([1, 2, 3, 4, 5], None, None, local(5, 12), True),
    ([1, 2, 3, 4, 5], None, None, local(6, 12), False),  # Saturday
    ([], time(8), time(17), local(2, 8), True),  # the start is inside
    ([], time(8), time(17), local(2, 17), False),  # the end is not
    ([], time(22), time(6), local(2, 23, 30), True),  # across midnight, before it
    ([], time(22), time(6), local(3, 5, 59), True),  # after it
    ([], time(22), time(6), local(3, 6), False),
    ([], time(22), time(6), local(3, 12), False),
    ([5], time(22), time(6), local(6, 2), True),  # Saturday 02:00 is Friday's night
    ([5], time(22), time(6), local(5, 2), False),  # Friday 02:00 is Thursday's night
    ([1], time(22), time(6), local(1, 2), False),  # Monday 02:00 is Sunday's night
    ([7], time(22), time(6), local(1, 2), True),
])
def test_the_time_window_is_local_and_a_night_belongs_to_the_day_it_began(
        weekdays: list[int], start: time | None, end: time | None, moment: datetime, expected: bool) -> None:
    assert in_window(weekdays=weekdays, start=start, end=end, local=moment) is expected


def test_without_rules_a_report_goes_to_its_category_agency(app, settings, categories) -> None:
    item = _submit(app, settings)
    assert (item.case.agency_id, item.case.status) == (SXD, "triaged")
    event = _routing_events(app, item.case.id)[-1]
    assert event.reason == "Routed by category street-lighting" and event.data["routing_rule_id"] is None


def test_the_first_matching_active_rule_wins_in_order(app, client, settings, categories, admin) -> None:
    by_category = _rule(client, admin, name="Ổ gà → Sở Y tế", service_code="road-damage", agency_code="SYT")
    by_field = _rule(client, admin, name="Hạ tầng → IOC", field_code="infrastructure", agency_code="IOC")
    assert [r["position"] for r in client.get(RULES, headers=bearer(admin)).json()] == [1, 2]
    assert _submit(app, settings, service_code="road-damage").case.agency_id == SYT
    lamp = _submit(app, settings)
    assert lamp.case.agency_id == IOC
    event = _routing_events(app, lamp.case.id)[-1]
    assert event.reason == "Routed by rule 'Hạ tầng → IOC'"
    assert (event.data["routing_rule_id"], event.data["routing_rule"]) == (by_field["id"], "Hạ tầng → IOC")

    reordered = client.post(f"{RULES}/reorder", headers=bearer(admin), json={"ids": [by_field["id"],
                                                                                    by_category["id"]]})
    assert reordered.status_code == 200 and [r["id"] for r in reordered.json()] == [by_field["id"],
                                                                                   by_category["id"]]
    assert _submit(app, settings, service_code="road-damage").case.agency_id == IOC


def test_an_inactive_rule_is_skipped(app, client, settings, categories, admin) -> None:
    rule = _rule(client, admin, service_code="street-lighting", agency_code="SYT", active=False)
    assert _submit(app, settings).case.agency_id == SXD
    assert client.patch(f"{RULES}/{rule['id']}", headers=bearer(admin), json={"active": True}).status_code == 200
    assert _submit(app, settings).case.agency_id == SYT


def test_a_ward_rule_uses_the_ward_of_the_reported_point(app, client, settings, categories, admin) -> None:
    _rule(client, admin, name="Kinh Bắc", ward_codes=["09187"], agency_code="SYT")
    assert _submit(app, settings, point=KINH_BAC).case.agency_id == SYT
    assert _submit(app, settings, point=BAC_GIANG).case.agency_id == SXD


def test_nights_and_weekends_go_to_the_on_duty_ioc(app, client, settings, categories, admin) -> None:
    _rule(client, admin, name="Đêm", time_from="17:30", time_to="07:30", agency_code="IOC")
    _rule(client, admin, name="Cuối tuần", weekdays=[6, 7], agency_code="IOC")
    for moment, agency in [(local(1, 23), IOC), (local(2, 6), IOC), (local(2, 10), SXD), (local(2, 17, 29), SXD),
                           (local(6, 10), IOC), (local(7, 15), IOC)]:
        assert _submit(app, settings, at=moment).case.agency_id == agency, moment


def test_triage_routes_by_the_rules_and_names_the_rule(app, client, settings, categories, admin, login) -> None:
    rule = _rule(client, admin, name="Chiếu sáng → Sở Y tế", service_code="street-lighting", agency_code="SYT")
    item = _submit(app, settings, service_code=None)
    assert (item.case.agency_id, item.case.status) == (IOC, "received")
    operator = login("operator")
    answer = operator.api("POST", f"/api/v1/reports/{item.case.id}/category", json={"service_code": "street-lighting"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "triaged"
    events = _routing_events(app, item.case.id)
    assert [e.to_status for e in events] == ["forwarded", "triaged"]
    assert events[0].data["agency_to"] == SYT and events[0].data["routing_rule_id"] == rule["id"]
    assert "Chiếu sáng → Sở Y tế" in events[0].reason


def test_a_matching_rule_of_an_inactive_agency_is_passed_over_and_recorded(app, client, settings, categories,
                                                                          admin) -> None:
    from saola.core.directory.models import Agency

    _rule(client, admin, name="Sở Y tế", service_code="street-lighting", agency_code="SYT")
    with unit_of_work(app.state.session_factory) as session:
        session.get(Agency, SYT).active = False
    item = _submit(app, settings)
    assert item.case.agency_id == SXD
    assert _routing_events(app, item.case.id)[-1].data["routing_rules_passed_over"] == ["Sở Y tế"]


# --- dry run ---------------------------------------------------------------------------------------


def test_the_dry_run_answers_the_agency_and_the_rule(client, categories, admin, token) -> None:
    night = _rule(client, admin, name="Đêm", time_from="22:00", time_to="06:00", agency_code="IOC")
    reader = bearer(token("viewer"))
    asked = client.get(f"{RULES}/dry-run", headers=reader, params={
        "service_code": "street-lighting", "lat": KINH_BAC[0], "long": KINH_BAC[1], "at": "2026-11-24T23:15:00"})
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert (body["agency_code"], body["rule"], body["ward_code"]) == ("IOC", {"id": night["id"], "name": "Đêm"},
                                                                       "09187")
    assert body["local_time"].startswith("2026-11-24T23:15:00+07:00")
    day = client.get(f"{RULES}/dry-run", headers=reader, params={
        "service_code": "street-lighting", "ward_code": "07210", "at": "2026-11-24T03:00:00Z"}).json()
    assert (day["agency_code"], day["rule"], day["ward_name"]) == ("SXD", None, "Phường Bắc Giang")
    triage = client.get(f"{RULES}/dry-run", headers=reader).json()
    assert (triage["agency_code"], triage["triage"]) == ("IOC", True)


@pytest.mark.parametrize(("params", "field"), [
    ({"service_code": "no-such-thing"}, "service_code"),
    ({"service_code": "street-lighting", "lat": 21.0285, "long": 105.8542}, "location"),  # Hà Nội
    ({"service_code": "street-lighting", "lat": 21.2}, "long"),
    ({"service_code": "street-lighting", "ward_code": "99999"}, "ward_code"),
    ({"service_code": "street-lighting", "at": "0001-01-01T00:00:00+14:00"}, "at"),
    ({"service_code": "street-lighting", "at": "9999-12-31T23:59:59-14:00"}, "at"),
])
def test_a_dry_run_that_cannot_be_answered_is_a_422(client, categories, admin, params, field) -> None:
    asked = client.get(f"{RULES}/dry-run", headers=bearer(admin), params=params)
    assert asked.status_code == 422 and problem_code(asked) == "invalid-routing-query"
    assert [e["field"] for e in asked.json()["errors"]] == [field]


# --- administration --------------------------------------------------------------------------------


def test_every_problem_of_a_rule_is_listed_and_nothing_is_saved(client, categories, admin) -> None:
    bad = client.post(RULES, headers=bearer(admin), json={
        "name": "sai", "agency_code": "NOPE", "service_code": "no-such-thing", "field_code": "nope",
        "ward_codes": ["09187", "00001"], "time_from": "22:00"})
    assert bad.status_code == 422 and problem_code(bad) == "invalid-routing-rule"
    assert {e["field"] for e in bad.json()["errors"]} == {"agency_code", "service_code", "field_code", "ward_codes",
                                                          "time_to"}
    assert client.get(RULES, headers=bearer(admin)).json() == []


@pytest.mark.parametrize(("body", "field"), [
    ({"time_from": "08:00", "time_to": "08:00"}, "time_to"),
    ({"time_to": "08:00"}, "time_from"),
    ({"service_code": "street-lighting", "field_code": "health"}, "field_code"),
    ({"agency_code": None, "agency_id": 999}, "agency_id"),
    ({"agency_code": None}, "agency_code"),
])
def test_a_bad_window_or_reference_is_a_422_naming_the_field(client, categories, admin, body, field) -> None:
    bad = client.post(RULES, headers=bearer(admin), json={"name": "sai", "agency_code": "SYT", **body})
    assert bad.status_code == 422 and problem_code(bad) == "invalid-routing-rule"
    assert [e["field"] for e in bad.json()["errors"]] == [field]


def test_a_malformed_rule_is_refused_by_the_schema(client, categories, admin) -> None:
    for body in ({"name": "x", "agency_code": "SYT", "weekdays": [8]}, {"name": "x", "agency_code": "SYT",
                                                                        "time_from": "25:00", "time_to": "01:00"},
                 {"name": "", "agency_code": "SYT"}, {"name": "x", "agency_code": "SYT", "ward_codes": ["abc"]}):
        bad = client.post(RULES, headers=bearer(admin), json=body)
        assert bad.status_code == 422, body


def test_rules_are_changed_reordered_and_deleted(client, categories, admin) -> None:
    first = _rule(client, admin, name="một", service_code="street-lighting", weekdays=[1, 1, 2])
    second = _rule(client, admin, name="hai", position=1, ward_codes=["09187"])
    assert [r["name"] for r in client.get(RULES, headers=bearer(admin)).json()] == ["hai", "một"]
    assert first["weekdays"] == [1, 2]
    changed = client.patch(f"{RULES}/{first['id']}", headers=bearer(admin),
                           json={"service_code": None, "agency_code": "IOC", "position": 1})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["service_code"], changed.json()["agency_code"], changed.json()["position"]) == (
        None, "IOC", 1)
    assert client.patch(f"{RULES}/{first['id']}", headers=bearer(admin),
                        json={"time_from": "10:00"}).status_code == 422
    bad_order = client.post(f"{RULES}/reorder", headers=bearer(admin), json={"ids": [first["id"]]})
    assert bad_order.status_code == 422 and problem_code(bad_order) == "invalid-routing-rule"
    assert client.delete(f"{RULES}/{first['id']}", headers=bearer(admin)).status_code == 204
    left = client.get(RULES, headers=bearer(admin)).json()
    assert [(r["id"], r["position"]) for r in left] == [(second["id"], 1)]
    missing = client.get(f"{RULES}/{first['id']}", headers=bearer(admin))
    assert missing.status_code == 404 and problem_code(missing) == "routing-rule-not-found"


def test_reading_needs_feedback_read_and_changing_needs_feedback_manage(client, categories, admin, token) -> None:
    rule = _rule(client, admin)
    staff = bearer(token("staff"))
    assert client.get(RULES, headers=staff).status_code == 200
    for method, url, body in (("POST", RULES, {"name": "x", "agency_code": "SYT"}),
                              ("PATCH", f"{RULES}/{rule['id']}", {"active": False}),
                              ("DELETE", f"{RULES}/{rule['id']}", None),
                              ("POST", f"{RULES}/reorder", {"ids": [rule["id"]]})):
        refused = client.request(method, url, headers=staff, json=body)
        assert refused.status_code == 403 and problem_code(refused) == "permission-denied", (method, url)
    assert client.get(RULES).status_code == 401
    with client.app.state.session_factory() as session:
        assert session.get(FeedbackRoutingRule, rule["id"]).active is True


def test_the_console_lists_the_rules_and_administrators_switch_them(client, categories, admin, login) -> None:
    rule = _rule(client, admin, name="Đêm trực IOC", time_from="22:00", time_to="06:00", agency_code="IOC")
    staff = login("staff")
    page = staff.client.get("/console/feedback/routing")
    assert page.status_code == 200 and "Đêm trực IOC" in page.text and "22:00–06:00" in page.text
    assert f"/console/feedback/routing/{rule['id']}/active" not in page.text
    refused = staff.post_form(f"/console/feedback/routing/{rule['id']}/active", {"active": "false"})
    assert refused.status_code == 403
    boss = login("admin")
    assert f"/console/feedback/routing/{rule['id']}/active" in boss.client.get("/console/feedback/routing").text
    switched = boss.post_form(f"/console/feedback/routing/{rule['id']}/active", {"active": "false"},
                              follow_redirects=False)
    assert switched.status_code == 303
    assert client.get(f"{RULES}/{rule['id']}", headers=bearer(admin)).json()["active"] is False
