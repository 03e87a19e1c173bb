"""Incidents opened by rules: ``alert.raised`` (a real alert from the alerts service, its events published on the
app's bus) with an incident type and severity critical/major opens one incident, linked to the alert and its
entity, by ``system: rule <id>``; the same alert never opens two; other alerts open none; alerts raised while
nobody listened are caught up at start."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from saola.ioc.incident_listener import IncidentListener, open_from_alert
from saola.ioc.incident_models import Incident, IncidentLink
from tests.ioc.incident_helpers import LAMP, POINT, bearer, create_entity, raise_alert


def _incidents(app) -> list[Incident]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def _wait_for(app, count: int, timeout: float = 10.0) -> list[Incident]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _incidents(app)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    return _incidents(app)


def _publish(client: TestClient, events) -> None:
    bus = client.app.state.event_bus
    for topic, payload in events:
        client.portal.call(bus.publish, topic, payload)


def test_a_major_alert_with_an_incident_type_opens_one_incident(app, token) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        create_entity(client, token("operator"))
        alert_id, events = raise_alert(app, severity="major", incident_type="lighting_failure", owner_agency="SXD")
        assert [t for t, _ in events] == ["alert.raised"]
        _publish(client, events)
        [incident] = _wait_for(app, 1)
        assert incident.source_alert_id == alert_id and incident.incident_type == "lighting_failure"
        assert incident.created_by_name == "system: rule 7" and incident.severity == "major"
        assert incident.title == "Đèn đường tắt" and incident.location == POINT and incident.ward_code == "09187"
        with app.state.session_factory() as session:
            links = {(x.kind, x.ref) for x in session.scalars(select(IncidentLink))}
        assert links == {("alert", str(alert_id)), ("entity", LAMP)}
        detail = client.get(f"/api/v1/incidents/{incident.id}", headers=bearer(token("staff"))).json()
        assert detail["agency_code"] == "SXD" and detail["checklist"][0]["key"] == "scope"

        _publish(client, events)  # the same event again (redelivery): still one incident
        again, _ = raise_alert(app, severity="critical", incident_type="lighting_failure")  # deduplicated alert
        assert again == alert_id
        time.sleep(0.3)
        assert len(_incidents(app)) == 1


def test_minor_alerts_and_alerts_without_a_type_open_nothing(app) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        _id, minor = raise_alert(app, rule_id=1, subject="urn:ngsi-ld:Streetlight:a", severity="minor")
        _id, untyped = raise_alert(app, rule_id=2, subject="urn:ngsi-ld:Streetlight:b", incident_type=None)
        alert_id, typed = raise_alert(app, rule_id=3, subject="area:09187", severity="critical",
                                      incident_type="power_outage", owner_agency="NO-SUCH-AGENCY")
        _publish(client, minor + untyped + typed)
        [incident] = _wait_for(app, 1)
        time.sleep(0.3)
        assert len(_incidents(app)) == 1
        assert incident.source_alert_id == alert_id and incident.ward_code == "09187"
        assert incident.agency_id is None and incident.incident_type == "power_outage"


def test_an_alert_already_linked_by_an_operator_opens_nothing_more(app, token) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        alert_id, events = raise_alert(app, severity="critical")
        created = client.post("/api/v1/incidents", headers=bearer(token("operator")), json={
            "incident_type": "lighting_failure", "title": "Tay", "severity": "critical", "alert_ids": [alert_id]})
        assert created.status_code == 201
        _publish(client, events)
        time.sleep(0.3)
        assert [i.id for i in _incidents(app)] == [created.json()["id"]]


def test_alerts_raised_while_nobody_listened_are_caught_up_at_start(app) -> None:
    alert_id, _events = raise_alert(app, severity="critical", incident_type="flood")  # never published
    with TestClient(app, base_url="http://127.0.0.1"):
        [incident] = _wait_for(app, 1)
        assert incident.source_alert_id == alert_id and incident.incident_type == "flood"
    with TestClient(app, base_url="http://127.0.0.1"):  # a restart: nothing new
        time.sleep(0.3)
        assert len(_incidents(app)) == 1


def test_handling_the_same_alert_twice_opens_one_incident(app) -> None:
    alert_id, _events = raise_alert(app, severity="major", incident_type="fire")
    listener = IncidentListener(app)
    first = listener.handle(alert_id)
    assert [t for t, _ in first] == ["incident.opened", "incident.updated", "incident.updated"]
    assert listener.handle(alert_id) == []
    with app.state.session_factory() as session:
        assert open_from_alert(session, alert_id=alert_id).source_alert_id == alert_id
    assert len(_incidents(app)) == 1
