"""The queue over HTTP: the public kiosk form and ticket page, the JSON API with its permissions and
problem+json refusals, the clerk's counter page and the administrators' setup."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import csrf_from
from tests.core.helpers import db_snapshot, problem_code, snapshot_diff
from tests.egov.test_queue_support import bearer, centre


def test_a_citizen_takes_a_ticket_at_the_kiosk_and_gets_a_printable_ticket(app, client: TestClient) -> None:
    c = centre(app)
    kiosk = client.get("/queue/kiosk")
    assert kiosk.status_code == 200
    assert 'data-testid="service-A"' in kiosk.text and "Đất đai" in kiosk.text
    csrf = csrf_from(client, "/queue/kiosk")
    taken = client.post("/queue/kiosk/ticket", data={"service_id": str(c.land), "priority": "disabled",
                                                     "csrf_token": csrf}, follow_redirects=False)
    assert taken.status_code == 303
    ticket = client.get(taken.headers["location"])
    assert ticket.status_code == 200
    assert re.search(r'data-testid="ticket-code">A001<', ticket.text)
    assert "Người khuyết tật" in ticket.text
    assert 'http-equiv="refresh" content="20;url=/queue/kiosk"' in ticket.text  # the kiosk is ready for the next
    english = client.get(taken.headers["location"] + "&lang=en")
    assert "Tickets ahead of you" in english.text and "Person with a disability" in english.text


def test_the_kiosk_refuses_a_form_without_its_csrf_token_and_an_unknown_service(app, client: TestClient) -> None:
    centre(app)
    before = db_snapshot(app.state.engine)
    forged = client.post("/queue/kiosk/ticket", data={"service_id": "1"}, follow_redirects=False)
    assert forged.status_code == 403
    csrf = csrf_from(client, "/queue/kiosk")
    unknown = client.post("/queue/kiosk/ticket", data={"service_id": "999", "csrf_token": csrf})
    assert unknown.status_code == 404
    assert 'data-code="unknown-queue-service"' in unknown.text
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_a_kiosk_token_issues_tickets_and_a_clerk_serves_them_over_the_api(app, client: TestClient, token) -> None:
    c = centre(app)
    clerk = bearer(token("clerk"))
    issued = client.post("/api/v1/queue/tickets", headers=clerk, json={"service_id": c.land})
    assert issued.status_code == 201, issued.text
    assert issued.json()["code"] == "A001"
    called = client.post(f"/api/v1/queue/counters/{c.counter1}/call-next", headers=clerk)
    assert called.status_code == 200
    assert (called.json()["code"], called.json()["status"]) == ("A001", "called")
    assert client.post(f"/api/v1/queue/counters/{c.counter1}/recall", headers=clerk).json()["recalls"] == 1
    board = client.get("/api/v1/queue/board").json()  # public
    assert {"number": 1, "name": "Đất đai", "is_open": True, "ticket": "A001"} in board["counters"]
    assert board["last_calls"][0]["code"] == "A001"
    finished = client.post(f"/api/v1/queue/counters/{c.counter1}/finish", headers=clerk)
    assert finished.json()["status"] == "done"
    listed = client.get("/api/v1/queue/tickets?status=done", headers=clerk).json()
    assert [t["code"] for t in listed] == ["A001"]


def test_refusals_are_problem_json_with_stable_codes_and_change_nothing(app, client: TestClient, token) -> None:
    c = centre(app)
    clerk = bearer(token("clerk"))
    before = db_snapshot(app.state.engine)
    cases = [
        ("/api/v1/queue/tickets", {"service_id": 999999}, 404, "unknown-queue-service"),
        ("/api/v1/queue/tickets", {"service_id": c.land, "priority": "vip"}, 422, "validation-failed"),
        (f"/api/v1/queue/counters/{c.counter3}/call-next", None, 409, "counter-closed"),
        (f"/api/v1/queue/counters/{c.counter1}/call-next", None, 409, "queue-empty"),
        (f"/api/v1/queue/counters/{c.counter1}/finish", None, 409, "no-ticket-at-counter"),
        ("/api/v1/queue/counters/999999/call-next", None, 404, "unknown-counter"),
        ("/api/v1/queue/appointments/check-in", {"code": "NOPE42"}, 404, "unknown-appointment"),
    ]
    for url, body, status, code in cases:
        response = client.post(url, headers=clerk, json=body)
        assert response.status_code == status, (url, response.text)
        assert problem_code(response) == code
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_only_administrators_configure_and_viewers_cannot_serve(app, client: TestClient, token) -> None:
    c = centre(app)
    admin, clerk, viewer = bearer(token("admin")), bearer(token("clerk")), bearer(token("viewer"))
    body = {"prefix": "E", "name": "Bảo hiểm xã hội", "name_en": "Social insurance"}
    assert client.post("/api/v1/queue/services", headers=clerk, json=body).status_code == 403
    created = client.post("/api/v1/queue/services", headers=admin, json=body)
    assert created.status_code == 201
    again = client.post("/api/v1/queue/services", headers=admin, json=body)
    assert (again.status_code, problem_code(again)) == (409, "duplicate-queue-setup")
    bad = client.post("/api/v1/queue/services", headers=admin, json={"prefix": "1", "name": "X"})
    assert (bad.status_code, problem_code(bad)) == (422, "invalid-queue-setup")
    counter = client.post("/api/v1/queue/counters", headers=admin,
                          json={"number": 7, "name": "BHXH", "service_ids": [created.json()["id"], 999999]})
    assert (counter.status_code, problem_code(counter)) == (422, "invalid-queue-setup")
    counter = client.post("/api/v1/queue/counters", headers=admin,
                          json={"number": 7, "name": "BHXH", "service_ids": [created.json()["id"]]})
    assert counter.status_code == 201
    assert counter.json()["service_ids"] == [created.json()["id"]]
    assert client.post(f"/api/v1/queue/counters/{c.counter1}/call-next", headers=viewer).status_code == 403
    assert client.get("/api/v1/queue/stats", headers=viewer).status_code == 200  # statistics are for all staff
    assert [s["prefix"] for s in client.get("/api/v1/queue/services").json()] == ["A", "B", "D", "E"]


def test_a_clerk_serves_from_the_counter_page(app, login) -> None:
    c = centre(app)
    clerk = login("clerk")
    client = clerk.client
    taken = clerk.post_form("/queue/kiosk/ticket", {"service_id": str(c.land)}, follow_redirects=False)
    assert taken.status_code == 303
    page = client.get(f"/console/queue/counters/{c.counter1}")
    assert page.status_code == 200 and "A001" in page.text
    called = clerk.post_form(f"/console/queue/counters/{c.counter1}/call-next", {})
    assert 'data-testid="current-ticket">A001<' in called.text
    busy = clerk.post_form(f"/console/queue/counters/{c.counter1}/call-next", {})
    assert busy.status_code == 409 and 'data-code="counter-busy"' in busy.text
    moved = clerk.post_form(f"/console/queue/counters/{c.counter1}/transfer", {"to_service_id": str(c.business)})
    assert moved.status_code == 200 and "Quầy đang trống" in moved.text  # the counter is free again
    bad = clerk.post_form(f"/console/queue/counters/{c.counter2}/transfer", {"to_counter_id": "abc"})
    assert bad.status_code == 422 and 'data-code="invalid-transfer"' in bad.text
    idle = clerk.post_form(f"/console/queue/counters/{c.counter2}/transfer", {"to_counter_id": str(c.counter1)})
    assert idle.status_code == 409 and 'data-code="no-ticket-at-counter"' in idle.text
    waiting = client.get(f"/console/queue/counters/{c.counter2}/waiting")  # the live-reloaded fragment
    assert waiting.status_code == 200 and "A001" in waiting.text and "<html" not in waiting.text
    overview = client.get("/console/queue")
    assert overview.status_code == 200 and 'data-counter="1"' in overview.text
    assert client.get("/console/queue/setup").status_code == 403  # administrators only


def test_an_administrator_sets_up_services_and_counters_in_the_console(app, login) -> None:
    admin = login("admin")
    assert admin.post_form("/console/queue/setup/services", {"prefix": "k", "name": "Kho bạc", "name_en": "Treasury",
                                                             "slot_minutes": "20", "slot_capacity": "1"},
                           follow_redirects=False).status_code == 303
    page = admin.client.get("/console/queue/setup")
    assert 'value="K"' in page.text and "Kho bạc" in page.text
    service_id = re.search(r'action="/console/queue/setup/services/(\d+)"', page.text).group(1)
    added = admin.post_form("/console/queue/setup/counters", {"number": "12", "name": "Kho bạc",
                                                             "service_ids": service_id}, follow_redirects=False)
    assert added.status_code == 303
    duplicate = admin.post_form("/console/queue/setup/counters", {"number": "12"})
    assert duplicate.status_code == 409
    assert "Quầy 12" in admin.client.get("/queue/board").text
