"""The console's KPI tiles: each value computed from data made through the owning packages, read over the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from saola.core.db import unit_of_work
from tests.ioc.test_console_layers import bearer, create, lamp, raise_alert, segment, station

KPI_KEYS = {"alerts", "incidents", "reports", "dossiers", "lamps", "devices", "aqi", "traffic"}


def provision_lamp_devices(app: Any, ids: list[str], *, silent: str | None = None) -> None:
    """Lamp controllers in the registry (commands on/off/dim); ``silent`` expects a message every minute."""
    from saola.devices import service
    from saola.devices.schemas import DeviceIn, ServiceIn

    with unit_of_work(app.state.session_factory) as session:
        service.create_groups(session, tenant="", service_path="/", services=[ServiceIn(
            apikey="lamp-key", entity_type="Streetlight", commands=[{"name": "on"}, {"name": "off"}, {"name": "dim"}])])
        service.create_devices(session, tenant="", service_path="/", devices=[DeviceIn.model_validate({
            "device_id": entity_id.rsplit(":", 1)[-1], "entity_name": entity_id, "entity_type": "Streetlight",
            "apikey": "lamp-key", "expected_interval": 60 if entity_id == silent else None}) for entity_id in ids])


def kpis(client: TestClient, secret: str) -> dict[str, Any]:
    r = client.get("/api/v1/ioc/kpis", headers=bearer(secret))
    assert r.status_code == 200, r.text
    return r.json()["kpis"]


def test_kpis_of_an_empty_city_are_zero_or_unknown(client: TestClient, token: Any) -> None:
    values = kpis(client, token("operator"))
    assert set(values) == KPI_KEYS
    assert not [k for k, v in values.items() if "error" in v], values
    assert values["alerts"] == {"value": 0, "by_severity": {"critical": 0, "major": 0, "minor": 0, "warning": 0,
                                                            "info": 0}}
    assert values["lamps"] == {"value": 0, "on": 0, "faulty": 0, "total": 0}
    assert values["aqi"]["value"] is None and values["aqi"]["band"] == "unknown"
    assert values["dossiers"]["value"] is None and values["dossiers"]["resolved"] == 0
    assert values["incidents"] == {"value": 0}


def test_kpis_count_what_was_created(app: Any, client: TestClient, token: Any) -> None:
    from saola.cases.actors import SYSTEM
    from saola.devices.health import check_devices
    from saola.feedback.demo import load_categories
    from saola.ioc import incidents
    from saola.rules import alerts
    from tests.feedback.stats_data import make_reports

    secret = token("operator", ["context:read", "context:write", "alerts:read"])
    lamps = [lamp(1), lamp(2), lamp(3, power="off"), lamp(4, status="brokenLantern"), lamp(5, power="off",
                                                                                        status="columnIssue")]
    create(client, secret, [*lamps, segment(1, "free"), segment(2, "heavy"), segment(3, "jam"), segment(4, "moderate"),
                            station(1, 80), station(2, 236.4), station(3, 12)])
    provision_lamp_devices(app, [e["id"] for e in lamps], silent=lamps[0]["id"])
    check_devices(app.state.session_factory, now=datetime.now(UTC) + timedelta(hours=1))
    raise_alert(app, subject=lamps[3]["id"], severity="critical", rule_id=1)
    raise_alert(app, subject=lamps[4]["id"], severity="major", rule_id=1)
    raise_alert(app, subject=lamps[4]["id"], severity="major", rule_id=1)  # deduplicated
    raise_alert(app, subject=lamps[2]["id"], severity="minor", rule_id=2)
    with unit_of_work(app.state.session_factory) as session:
        alerts.clear_alert(session, rule_id=2, subject=lamps[2]["id"], at=datetime.now(UTC), reason="back to normal")
        incidents.open_incident(session, incident_type="flood", title="Ngập",
                                severity="major", actor=SYSTEM, now=datetime.now(UTC))
        load_categories(session)
    make_reports(app)  # March 2026: open D (reopened), E and F; D and E overdue

    values = kpis(client, secret)
    assert not [k for k, v in values.items() if "error" in v], values
    assert values["alerts"]["value"] == 2
    assert values["alerts"]["by_severity"] == {"critical": 1, "major": 1, "minor": 0, "warning": 0, "info": 0}
    assert values["lamps"] == {"value": 3, "on": 3, "faulty": 2, "total": 5}  # lamp 4 is on and faulty
    assert values["traffic"] == {"value": 2, "congested": 2, "total": 4}
    assert values["aqi"]["value"] == 236 and values["aqi"]["band"] == "veryBad"
    assert values["aqi"]["station"] == "urn:ngsi-ld:AirQualityObserved:bn-09187-0002"
    assert values["aqi"]["name"] == "Trạm quan trắc 2"
    assert values["devices"] == {"value": 1, "offline": 1, "total": 5}
    assert values["incidents"] == {"value": 1}
    assert values["reports"]["open"] == 3 and values["reports"]["overdue"] == 2


def test_stale_kpis_follow_the_events_that_concern_them() -> None:
    from saola.ioc import kpis as registry
    from saola.ioc.layers import iri

    assert registry.stale_keys("alert.raised", {"id": 1}) == {"alerts"}
    assert registry.stale_keys("incident.opened", {"id": 1}) == {"incidents"}
    assert registry.stale_keys("case.transitioned", {}) == {"reports", "dossiers"}
    assert registry.stale_keys("device.offline", {}) == {"devices"}
    lamp_change = {"types": [iri("Streetlight")], "changed": [iri("powerState")]}
    assert registry.stale_keys("ngsi.entity.updated", lamp_change) == {"lamps"}
    assert registry.stale_keys("ngsi.entity.updated", {"types": [iri("AirQualityObserved")]}) == {"aqi"}
    assert registry.stale_keys("ngsi.entity.updated", {"types": [iri("School")]}) == set()
    assert registry.stale_keys("queue.ticket.called", {}) == set()


def test_charts_count_alerts_per_hour_and_average_the_aqi(app: Any, client: TestClient, token: Any) -> None:
    secret = token("operator", ["context:read", "context:write", "alerts:read"])
    create(client, secret, [station(1, 40), station(2, 60)])
    raise_alert(app, subject="urn:ngsi-ld:Streetlight:bn-09187-0001")
    raise_alert(app, subject="urn:ngsi-ld:Streetlight:bn-09187-0002")
    r = client.get("/api/v1/ioc/charts", headers=bearer(secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["alerts_per_hour"]["values"]) == 24 and body["alerts_per_hour"]["values"][-1] == 2
    assert sum(body["alerts_per_hour"]["values"]) == 2
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for n, value in ((1, 80), (2, 100)):
        r = client.patch(f"/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:bn-09187-{n:04d}/attrs",
                         headers=bearer(secret), json={"airQualityIndex": {"type": "Property", "value": value,
                                                                            "observedAt": now}})
        assert r.status_code == 204, r.text
    aqi = client.get("/api/v1/ioc/charts", headers=bearer(secret)).json()["average_aqi"]
    assert len(aqi["values"]) == 24 and aqi["values"][-1] == 90.0
