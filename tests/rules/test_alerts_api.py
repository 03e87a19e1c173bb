"""``/api/v1/alerts``: list and filters, acknowledge and clear with stable 409 codes, permissions,
one's own alert subscriptions and the on-duty roster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from saola.core.auth.models import User
from saola.core.db import unit_of_work, utcnow
from saola.rules import alerts
from saola.rules.alert_models import Alert, AlertEvent

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def seed(app, *, rule_id: int, severity: str = "major", subject: str = "urn:ngsi-ld:FloodMonitoring:bn-09190-1",
         owner: str | None = "SXD", cleared: bool = False) -> int:
    with unit_of_work(app.state.session_factory) as session:
        alert = alerts.raise_alert(
            session, rule_id=rule_id, rule_version=2, tenant="", subject=subject,
            entity_type="https://uri.etsi.org/ngsi-ld/default-context/FloodMonitoring", severity=severity,
            title_vi="Mực nước vượt ngưỡng báo động", title_en="Water above the alert level", value=3.4,
            details={}, at=T0, owner_agency=owner, location=None, incident_type="flood")
        if cleared:
            alerts.clear_alert(session, rule_id=rule_id, subject=subject, at=T0 + timedelta(minutes=1), reason="ok")
        return alert.id


def snapshot(app, pk: int) -> tuple[Any, ...]:
    with unit_of_work(app.state.session_factory) as session:
        alert = session.get(Alert, pk)
        assert alert is not None
        events = session.scalar(select(func.count()).select_from(AlertEvent).where(AlertEvent.alert_id == pk))
        return alert.state, alert.acknowledged_at, alert.cleared_at, events


def set_contact(app, username: str, *, email: str = "", phone: str = "") -> None:
    with unit_of_work(app.state.session_factory) as session:
        session.execute(update(User).where(User.username == username).values(email=email, phone=phone))


def test_a_viewer_reads_alerts_but_cannot_acknowledge_them(app, login) -> None:
    pk = seed(app, rule_id=1)
    viewer = login("viewer")
    listed = viewer.client.get("/api/v1/alerts")
    assert listed.status_code == 200 and [a["id"] for a in listed.json()["items"]] == [pk]
    one = viewer.client.get(f"/api/v1/alerts/{pk}")
    assert one.status_code == 200 and [e["kind"] for e in one.json()["timeline"]] == ["raised"]
    before = snapshot(app, pk)
    refused = viewer.api("POST", f"/api/v1/alerts/{pk}/acknowledge", json={})
    assert refused.status_code == 403 and refused.json()["code"] == "permission-denied"
    assert snapshot(app, pk) == before


def test_acknowledge_then_clear_and_the_repeated_moves_answer_409(app, token, client) -> None:
    pk = seed(app, rule_id=1)
    auth = {"Authorization": f"Bearer {token('operator')}"}
    acked = client.post(f"/api/v1/alerts/{pk}/acknowledge", json={"note": "team sent"}, headers=auth)
    assert acked.status_code == 200
    assert (acked.json()["state"], acked.json()["acknowledged_by"]) == ("acknowledged", "operator")
    before = snapshot(app, pk)
    again = client.post(f"/api/v1/alerts/{pk}/acknowledge", headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "alert-already-acknowledged"
    assert again.headers["content-type"].startswith("application/problem+json")
    assert snapshot(app, pk) == before
    cleared = client.post(f"/api/v1/alerts/{pk}/clear", json={"reason": "water receded"}, headers=auth)
    assert cleared.status_code == 200 and cleared.json()["display_state"] == "cleared"
    before = snapshot(app, pk)
    twice = client.post(f"/api/v1/alerts/{pk}/clear", json={"reason": "again"}, headers=auth)
    assert twice.status_code == 409 and twice.json()["code"] == "alert-already-cleared"
    assert snapshot(app, pk) == before
    timeline = client.get(f"/api/v1/alerts/{pk}", headers=auth).json()["timeline"]
    assert [(e["kind"], e["actor"], e["note"]) for e in timeline] == [
        ("raised", "rule 1", ""), ("acknowledged", "operator", "team sent"), ("cleared", "operator", "water receded")]


def test_a_cleared_unacknowledged_alert_is_acknowledged_then_no_more(app, token, client) -> None:
    pk = seed(app, rule_id=1, cleared=True)
    auth = {"Authorization": f"Bearer {token('operator')}"}
    waiting = client.get("/api/v1/alerts", params={"state": "cleared-unacknowledged"}, headers=auth).json()
    assert [a["id"] for a in waiting["items"]] == [pk]
    acked = client.post(f"/api/v1/alerts/{pk}/acknowledge", headers=auth)
    assert acked.status_code == 200 and acked.json()["display_state"] == "cleared"
    refused = client.post(f"/api/v1/alerts/{pk}/clear", json={"reason": "x"}, headers=auth)
    assert refused.status_code == 409 and refused.json()["code"] == "alert-already-cleared"


def test_bad_requests_are_clear_4xx_and_change_nothing(app, token, client) -> None:
    pk = seed(app, rule_id=1)
    auth = {"Authorization": f"Bearer {token('operator')}"}
    before = snapshot(app, pk)
    no_reason = client.post(f"/api/v1/alerts/{pk}/clear", json={"reason": ""}, headers=auth)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "validation-failed"
    missing = client.post("/api/v1/alerts/999999/acknowledge", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "alert-not-found"
    bad_state = client.get("/api/v1/alerts", params={"state": "sleeping"}, headers=auth)
    assert bad_state.status_code == 400 and bad_state.json()["code"] == "alert-invalid-value"
    assert client.get("/api/v1/alerts/0", headers=auth).status_code == 422
    assert snapshot(app, pk) == before


def test_only_the_owning_agency_or_the_operations_centre_acts_on_an_alert(app, login) -> None:
    pk = seed(app, rule_id=1, owner="SYT")
    other = login("staff").api("POST", f"/api/v1/alerts/{pk}/acknowledge", json={})  # staff of SXD
    assert other.status_code == 403 and other.json()["code"] == "alert-not-your-agency"
    owner = login("staff2").api("POST", f"/api/v1/alerts/{pk}/acknowledge", json={})  # staff of SYT
    assert owner.status_code == 200


def test_listing_filters_pages_and_counts(app, token, client) -> None:
    ids = [seed(app, rule_id=n, severity="critical" if n % 3 == 0 else "minor",
                subject=f"urn:ngsi-ld:FloodMonitoring:bn-09190-{n}") for n in range(1, 8)]
    auth = {"Authorization": f"Bearer {token('viewer')}"}
    critical = client.get("/api/v1/alerts", params={"severity": "critical"}, headers=auth).json()
    assert critical["total"] == 2 and {a["id"] for a in critical["items"]} == {ids[2], ids[5]}
    page1 = client.get("/api/v1/alerts", params={"limit": 4}, headers=auth).json()
    page2 = client.get("/api/v1/alerts", params={"limit": 4, "offset": 4}, headers=auth).json()
    assert page1["total"] == page2["total"] == 7
    assert len(page1["items"]) == 4 and len(page2["items"]) == 3
    assert {a["id"] for a in page1["items"] + page2["items"]} == set(ids)
    assert [a["severity"] for a in page1["items"]][:2] == ["critical", "critical"]
    by_subject = client.get("/api/v1/alerts", params={"subject": "urn:ngsi-ld:FloodMonitoring:bn-09190-4"},
                            headers=auth).json()
    assert [a["id"] for a in by_subject["items"]] == [ids[3]]
    counts = client.get("/api/v1/alerts/counts", headers=auth).json()
    assert counts == {"critical": 2, "major": 0, "minor": 5, "warning": 0, "info": 0}
    assert client.get("/api/v1/alerts").status_code == 401


def test_subscriptions_belong_to_their_user(app, login) -> None:
    set_contact(app, "operator", email="op@ioc.bacninh.gov.vn", phone="0912000111")
    operator, staff = login("operator"), login("staff")
    made = operator.api("POST", "/api/v1/alerts/subscriptions", json={
        "name": "Floods at night", "min_severity": "major", "channels": ["email", "sms"],
        "entity_types": ["FloodMonitoring"], "agencies": ["SXD"], "quiet_start": "22:00", "quiet_end": "06:00"})
    assert made.status_code == 201, made.text
    sub = made.json()
    assert (sub["quiet_start"], sub["quiet_end"], sub["channels"]) == ("22:00", "06:00", ["email", "sms"])
    assert [s["id"] for s in operator.client.get("/api/v1/alerts/subscriptions").json()["items"]] == [sub["id"]]
    assert staff.client.get("/api/v1/alerts/subscriptions").json()["items"] == []
    stolen = staff.api("DELETE", f"/api/v1/alerts/subscriptions/{sub['id']}")
    assert stolen.status_code == 404 and stolen.json()["code"] == "alert-subscription-not-found"
    changed = operator.api("PUT", f"/api/v1/alerts/subscriptions/{sub['id']}",
                           json={"min_severity": "critical", "channels": ["sms"]})
    assert changed.status_code == 200 and changed.json()["min_severity"] == "critical"
    assert operator.api("DELETE", f"/api/v1/alerts/subscriptions/{sub['id']}").status_code == 204
    assert operator.client.get("/api/v1/alerts/subscriptions").json()["items"] == []


@pytest.mark.parametrize(("body", "code"), [
    ({"channels": ["email"]}, "alert-contact-missing"),  # the staff user has no e-mail address
    ({"channels": ["webhook"], "webhook_url": "https://hooks.example.vn/ioc"}, "alert-webhook-not-configured"),
    ({"channels": ["fax"]}, "validation-failed"),
    ({"channels": ["sms"], "min_severity": "urgent"}, "validation-failed"),
    ({"channels": []}, "validation-failed"),
])
def test_a_subscription_that_could_not_be_delivered_is_refused(app, login, body: dict[str, Any], code: str) -> None:
    answer = login("staff").api("POST", "/api/v1/alerts/subscriptions", json=body)
    assert answer.status_code == 422 and answer.json()["code"] == code
    assert login("staff").client.get("/api/v1/alerts/subscriptions").json()["items"] == []


def test_the_on_duty_roster(app, login) -> None:
    operator, staff, viewer = login("operator"), login("staff"), login("viewer")
    now = utcnow()
    mine = staff.api("POST", "/api/v1/alerts/on-duty", json={
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=7)).isoformat()})
    assert mine.status_code == 201 and mine.json()["username"] == "staff"
    with unit_of_work(app.state.session_factory) as session:
        operator_id = session.scalar(select(User.id).where(User.username == "operator"))
    later = {"user_id": operator_id, "starts_at": (now + timedelta(hours=7)).isoformat(),
             "ends_at": (now + timedelta(hours=15)).isoformat(), "note": "night"}
    refused = staff.api("POST", "/api/v1/alerts/on-duty", json=later)
    assert refused.status_code == 403 and refused.json()["code"] == "alert-shift-not-allowed"
    assert operator.api("POST", "/api/v1/alerts/on-duty", json=later).status_code == 201
    assert viewer.api("POST", "/api/v1/alerts/on-duty", json=later).status_code == 403
    backwards = operator.api("POST", "/api/v1/alerts/on-duty", json=later | {"ends_at": later["starts_at"]})
    assert backwards.status_code == 422 and backwards.json()["code"] == "alert-invalid-shift"
    naive = operator.api("POST", "/api/v1/alerts/on-duty", json=later | {"starts_at": "2026-11-25T07:00:00"})
    assert naive.status_code == 422 and naive.json()["code"] == "validation-failed"
    roster = viewer.client.get("/api/v1/alerts/on-duty").json()
    assert [s["username"] for s in roster["now"]] == ["staff"]
    assert [s["username"] for s in roster["shifts"]] == ["staff", "operator"]
    gone = staff.api("DELETE", f"/api/v1/alerts/on-duty/{mine.json()['id']}")
    assert gone.status_code == 204
    assert viewer.client.get("/api/v1/alerts/on-duty").json()["now"] == []
