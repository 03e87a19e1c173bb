"""The console's map layers: the city's entities as GeoJSON by type and status, the bbox filter, alerts and
incidents as layers, one query per layer whatever the number of entities, and the errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from saola.core.db import unit_of_work

NGSI = "/ngsi-ld/v1"
# Around the Bắc Ninh provincial square, and one place in Bắc Giang (far north-east of it).
SQUARE = (106.0763, 21.1861)
BAC_GIANG = (106.2206, 21.2880)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def lamp(n: int, *, power: str = "on", status: str = "ok", at: tuple[float, float] = SQUARE) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:Streetlight:bn-09187-{n:04d}", "type": "Streetlight",
            "name": prop(f"Đèn Lý Thái Tổ {n}"), "location": point(at[0] + n * 1e-4, at[1]),
            "refWard": prop("09187"), "powerState": prop(power), "status": prop(status),
            "powerConsumption": prop(90 if power == "on" else 0), "address": prop({"streetAddress": "Lý Thái Tổ"})}


def segment(n: int, level: str) -> dict[str, Any]:
    x, y = SQUARE
    return {"id": f"urn:ngsi-ld:TrafficFlowObserved:bn-09187-{n:04d}", "type": "TrafficFlowObserved",
            "name": prop(f"Đoạn đường {n}"), "refWard": prop("09187"),
            "location": {"type": "GeoProperty", "value": {"type": "LineString", "coordinates": [
                [x, y + n * 1e-3], [x + 2e-3, y + n * 1e-3]]}},
            "congestionLevel": prop(level), "congested": prop(level in ("heavy", "jam")),
            "averageVehicleSpeed": prop(12.5), "intensity": prop(40)}


def station(n: int, aqi: float) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:AirQualityObserved:bn-09187-{n:04d}", "type": "AirQualityObserved",
            "name": prop(f"Trạm quan trắc {n}"), "refWard": prop("09187"),
            "location": point(SQUARE[0] - n * 1e-3, SQUARE[1]), "airQualityIndex": prop(aqi), "pm25": prop(aqi / 3)}


def create(client: TestClient, secret: str, entities: list[dict[str, Any]]) -> None:
    for start in range(0, len(entities), 500):
        r = client.post(f"{NGSI}/entityOperations/create", json=entities[start:start + 500], headers=bearer(secret))
        assert r.status_code == 201, r.text


def raise_alert(app: Any, *, subject: str, severity: str = "critical", rule_id: int = 1,
                location: dict[str, Any] | None = None, title: str = "Đèn hỏng") -> tuple[int, list[Any]]:
    """An alert raised as the rule engine raises it, in the server's database: (id, events to publish)."""
    from saola.rules import alerts

    events: list[Any] = []
    with unit_of_work(app.state.session_factory, events=events) as session:
        alert = alerts.raise_alert(
            session, rule_id=rule_id, rule_version=1, tenant="", subject=subject, entity_type="Streetlight",
            severity=severity, title_vi=title, title_en="Lamp failure", value=0, details={},
            at=datetime.now(UTC), owner_agency=None, incident_type=None,
            location=location or {"type": "Point", "coordinates": list(SQUARE)})
        alert_id = alert.id
    return alert_id, events


def test_the_layer_list_describes_every_layer_with_its_statuses(client: TestClient, token: Any) -> None:
    r = client.get("/api/v1/ioc/layers", headers=bearer(token("operator")))
    assert r.status_code == 200, r.text
    layers = {layer["key"]: layer for layer in r.json()["layers"]}
    assert {"lamps", "traffic", "cameras", "air", "flood", "substations", "schools", "incidents", "reports",
            "alerts"} <= set(layers)
    assert [s["key"] for s in layers["lamps"]["statuses"]] == ["on", "off", "faulty"]
    bands = {s["key"]: s["color"] for s in layers["air"]["statuses"]}
    assert bands["good"] == "#00e400" and bands["hazardous"] == "#7e0023"  # VN_AQI colours
    assert layers["traffic"]["url"] == "/api/v1/ioc/layers/traffic.geojson"


def test_layer_geojson_classifies_the_created_entities(client: TestClient, token: Any) -> None:
    secret = token("operator", ["context:read", "context:write", "alerts:read"])
    create(client, secret, [lamp(1), lamp(2, power="off"), lamp(3, status="defectiveLamp"),
                            segment(1, "free"), segment(2, "jam"), station(1, 42), station(2, 180), station(3, 320)])
    r = client.get("/api/v1/ioc/layers/lamps.geojson", headers=bearer(secret))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    status = {f["id"]: f["properties"]["status"] for f in body["features"]}
    assert status == {"urn:ngsi-ld:Streetlight:bn-09187-0001": "on", "urn:ngsi-ld:Streetlight:bn-09187-0002": "off",
                      "urn:ngsi-ld:Streetlight:bn-09187-0003": "faulty"}
    assert body["counts"] == {"on": 1, "off": 1, "faulty": 1}
    first = next(f for f in body["features"] if f["id"].endswith("0001"))
    assert first["geometry"] == {"type": "Point", "coordinates": [SQUARE[0] + 1e-4, SQUARE[1]]}
    assert first["properties"]["name"] == "Đèn Lý Thái Tổ 1"
    assert first["properties"]["address"] == "Lý Thái Tổ"
    assert first["properties"]["url"] == "/console/entities/urn:ngsi-ld:Streetlight:bn-09187-0001"
    assert first["properties"]["attributes"] == {"powerState": "on", "status": "ok", "powerConsumption": 90}

    traffic = client.get("/api/v1/ioc/layers/traffic.geojson", headers=bearer(secret)).json()
    assert {f["properties"]["status"] for f in traffic["features"]} == {"free", "jam"}
    assert all(f["geometry"]["type"] == "LineString" for f in traffic["features"])
    air = client.get("/api/v1/ioc/layers/air.geojson", headers=bearer(secret)).json()
    assert sorted(f["properties"]["status"] for f in air["features"]) == ["bad", "good", "hazardous"]
    assert client.get("/api/v1/ioc/layers/cameras.geojson", headers=bearer(secret)).json()["features"] == []


def test_the_bbox_keeps_only_the_entities_inside_it(client: TestClient, token: Any) -> None:
    secret = token("operator", ["context:read", "context:write", "alerts:read"])
    create(client, secret, [lamp(1), lamp(2), lamp(3, at=BAC_GIANG)])
    around_square = "106.07,21.18,106.09,21.19"
    r = client.get(f"/api/v1/ioc/layers/lamps.geojson?bbox={around_square}", headers=bearer(secret))
    assert r.status_code == 200, r.text
    assert sorted(f["id"][-4:] for f in r.json()["features"]) == ["0001", "0002"]
    r = client.get("/api/v1/ioc/layers/lamps.geojson?bbox=106.2,21.28,106.23,21.3", headers=bearer(secret))
    assert [f["id"][-4:] for f in r.json()["features"]] == ["0003"]


def test_bad_layer_requests_answer_problems_and_need_a_reader(client: TestClient, token: Any) -> None:
    secret = token("operator")
    for bbox in ("1,2,3", "a,b,c,d", "106.1,21.2,106.0,21.3", "0,0,200,10"):
        r = client.get(f"/api/v1/ioc/layers/lamps.geojson?bbox={bbox}", headers=bearer(secret))
        assert r.status_code == 400, (bbox, r.text)
        assert r.json()["code"] == "invalid-bbox"
    r = client.get("/api/v1/ioc/layers/volcanoes.geojson", headers=bearer(secret))
    assert r.status_code == 404 and r.json()["code"] == "unknown-layer"
    assert client.get("/api/v1/ioc/layers").status_code == 401
    assert client.get("/api/v1/ioc/layers/lamps.geojson").status_code == 401


def test_a_layer_costs_the_same_queries_for_5_or_200_entities(app: Any, client: TestClient, token: Any) -> None:
    from saola.ioc import layers

    secret = token("operator", ["context:read", "context:write", "alerts:read"])

    def queries() -> tuple[int, int]:
        statements: list[Any] = []
        with app.state.session_factory() as session:
            event.listen(session, "do_orm_execute", statements.append)
            found = layers.layer_geojson(session, key="lamps")
        return len(statements), len(found["features"])

    create(client, secret, [lamp(n) for n in range(1, 6)])
    few, five = queries()
    create(client, secret, [lamp(n) for n in range(6, 201)])
    many, two_hundred = queries()
    assert (five, two_hundred) == (5, 200)
    assert many == few == 1


def test_alerts_and_incidents_are_layers_too(app: Any, client: TestClient, token: Any) -> None:
    from saola.cases.actors import SYSTEM
    from saola.ioc import incidents

    secret = token("operator")
    alert_id, _events = raise_alert(app, subject="urn:ngsi-ld:Streetlight:bn-09187-0001", severity="major")
    with unit_of_work(app.state.session_factory) as session:
        incident = incidents.open_incident(
            session, incident_type="flood", title="Ngập đường Lý Thái Tổ", severity="critical", actor=SYSTEM,
            now=datetime.now(UTC), location={"type": "Point", "coordinates": list(SQUARE)})
        incident_id = incident.id
    alerts = client.get("/api/v1/ioc/layers/alerts.geojson", headers=bearer(secret)).json()
    assert [(f["properties"]["id"], f["properties"]["status"]) for f in alerts["features"]] == [(alert_id, "major")]
    assert alerts["features"][0]["properties"]["url"] == "/console/entities/urn:ngsi-ld:Streetlight:bn-09187-0001"
    found = client.get("/api/v1/ioc/layers/incidents.geojson", headers=bearer(secret)).json()
    assert [(f["properties"]["id"], f["properties"]["status"]) for f in found["features"]] == [
        (incident_id, "critical")]
    assert found["features"][0]["properties"]["url"] == f"/console/incidents/{incident_id}"
    outside = client.get("/api/v1/ioc/layers/alerts.geojson?bbox=105.0,20.0,105.1,20.1", headers=bearer(secret))
    assert outside.json()["features"] == []
