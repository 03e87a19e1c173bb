"""The Temporal API through HTTP: history of normal updates, timerel/lastN, temporalValues, provision, tenants."""

from __future__ import annotations

import pytest

from tests.context.conftest import Ngsi

SENSOR = "urn:ngsi-ld:Sensor:s1"


def _reading(value: float, at: str, **extra: object) -> dict[str, object]:
    return {"type": "Property", "value": value, "observedAt": at, **extra}


@pytest.fixture
def sensor_history(ngsi: Ngsi) -> None:
    """A sensor whose temperature was written four times through the ordinary entity API."""
    ngsi.create({"id": SENSOR, "type": "Sensor", "temperature": _reading(20, "2026-01-01T10:00:00Z")})
    for value, at in ((21, "2026-01-01T11:00:00Z"), (22, "2026-01-01T12:00:00Z"), (23, "2026-01-01T13:00:00Z")):
        response = ngsi.patch(f"/entities/{SENSOR}/attrs", json={"temperature": _reading(value, at)})
        assert response.status_code == 204, response.text


def _values(body: dict[str, object], attr: str = "temperature") -> list[object]:
    instances = body[attr]
    instances = instances if isinstance(instances, list) else [instances]
    return [i["value"] for i in instances]  # type: ignore[index]


def test_history_of_entity_updates_with_before_after_between(ngsi: Ngsi, sensor_history: None) -> None:
    everything = ngsi.get(f"/temporal/entities/{SENSOR}")
    assert everything.status_code == 200, everything.text
    body = everything.json()
    assert body["id"] == SENSOR and body["type"] == "Sensor"
    assert _values(body) == [20, 21, 22, 23]
    assert all(i["instanceId"].startswith("urn:ngsi-ld:") for i in body["temperature"])
    assert body["temperature"][0]["observedAt"] == "2026-01-01T10:00:00Z"
    before = ngsi.get(f"/temporal/entities/{SENSOR}?timerel=before&timeAt=2026-01-01T12:00:00Z").json()
    assert _values(before) == [20, 21]
    after = ngsi.get(f"/temporal/entities/{SENSOR}?timerel=after&timeAt=2026-01-01T11:00:00Z").json()
    assert _values(after) == [22, 23]
    between = ngsi.get(f"/temporal/entities/{SENSOR}", params={
        "timerel": "between", "timeAt": "2026-01-01T11:00:00Z", "endTimeAt": "2026-01-01T13:00:00Z"}).json()
    assert _values(between) == [21, 22]
    last = ngsi.get(f"/temporal/entities/{SENSOR}?lastN=2").json()
    assert _values(last) == [22, 23]
    modified = ngsi.get(f"/temporal/entities/{SENSOR}?timeproperty=modifiedAt&timerel=before"
                        "&timeAt=2000-01-01T00:00:00Z").json()
    assert "temperature" not in modified


def test_temporal_values_and_query_endpoints(ngsi: Ngsi, sensor_history: None) -> None:
    simplified = ngsi.get(f"/temporal/entities/{SENSOR}?options=temporalValues&lastN=2").json()
    assert simplified["temperature"] == {"type": "Property", "values": [
        [22, "2026-01-01T12:00:00Z"], [23, "2026-01-01T13:00:00Z"]]}
    listed = ngsi.get("/temporal/entities?type=Sensor&timerel=after&timeAt=2026-01-01T12:30:00Z&count=true")
    assert listed.status_code == 200, listed.text
    assert listed.headers["NGSILD-Results-Count"] == "1"
    assert [_values(e) for e in listed.json()] == [[23]]
    posted = ngsi.post("/temporal/entityOperations/query?options=temporalValues", json={
        "type": "Query", "entities": [{"type": "Sensor"}], "attrs": ["temperature"],
        "temporalQ": {"timerel": "before", "timeAt": "2026-01-01T11:30:00Z"}})
    assert posted.status_code == 200, posted.text
    assert posted.json()[0]["temperature"]["values"] == [[20, "2026-01-01T10:00:00Z"],
                                                         [21, "2026-01-01T11:00:00Z"]]


@pytest.mark.parametrize("query", [
    "timerel=before", "timerel=between&timeAt=2026-01-01T00:00:00Z", "timerel=later&timeAt=2026-01-01T00:00:00Z",
    "timeAt=2026-01-01T00:00:00Z", "timerel=after&timeAt=yesterday",
    "timerel=after&timeAt=2026-01-01T00:00:00Z&endTimeAt=2026-01-02T00:00:00Z",
    "timerel=between&timeAt=2026-01-02T00:00:00Z&endTimeAt=2026-01-01T00:00:00Z",
    "timeproperty=expiresAt", "lastN=0", "lastN=two", "options=aggregatedValues",
    "options=aggregatedValues&aggrMethods=median", "options=aggregatedValues&aggrMethods=sum&aggrPeriodDuration=1h",
    "options=temporalValues,aggregatedValues&aggrMethods=sum", "aggrMethods=sum",
])
def test_bad_temporal_parameters_are_400(ngsi: Ngsi, sensor_history: None, query: str) -> None:
    response = ngsi.get(f"/temporal/entities/{SENSOR}?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
    listed = ngsi.get(f"/temporal/entities?type=Sensor&{query}")
    assert listed.status_code == 400, listed.text


def test_unknown_entity_is_404(ngsi: Ngsi, sensor_history: None) -> None:
    response = ngsi.get("/temporal/entities/urn:ngsi-ld:Sensor:none")
    assert response.status_code == 404
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"


def test_temporal_provision_round_trip(ngsi: Ngsi) -> None:
    created = ngsi.post("/temporal/entities", json={"id": SENSOR, "type": "Sensor", "temperature": [
        _reading(1, "2026-02-01T00:00:00Z"), _reading(3, "2026-02-01T02:00:00Z"), _reading(2, "2026-02-01T01:00:00Z"),
    ]})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/ngsi-ld/v1/temporal/entities/{SENSOR}"
    current = ngsi.get(f"/entities/{SENSOR}").json()
    assert current["temperature"]["value"] == 3  # the latest instance is the current value
    again = ngsi.post("/temporal/entities", json={"id": SENSOR, "type": "Sensor",
                                                  "temperature": _reading(4, "2026-02-01T03:00:00Z")})
    assert again.status_code == 204, again.text
    added = ngsi.post(f"/temporal/entities/{SENSOR}/attrs", json={"temperature": [
        _reading(5, "2026-02-01T04:00:00Z"), _reading(50, "2026-02-01T04:00:00Z", datasetId="urn:ngsi-ld:d:b")]})
    assert added.status_code == 204, added.text
    body = ngsi.get(f"/temporal/entities/{SENSOR}").json()
    assert sorted(_values(body)) == [1, 2, 3, 4, 5, 50]
    simplified = ngsi.get(f"/temporal/entities/{SENSOR}?options=temporalValues").json()
    assert [[v for v, _ in block["values"]] for block in simplified["temperature"]] == [[1, 2, 3, 4, 5], [50]]
    assert simplified["temperature"][1]["datasetId"] == "urn:ngsi-ld:d:b"

    first = next(i for i in body["temperature"] if i["value"] == 1)
    path = f"/temporal/entities/{SENSOR}/attrs/temperature/{first['instanceId']}"
    patched = ngsi.patch(path, json={"temperature": _reading(10, "2026-02-01T00:00:00Z")})
    assert patched.status_code == 204, patched.text
    assert sorted(_values(ngsi.get(f"/temporal/entities/{SENSOR}").json())) == [2, 3, 4, 5, 10, 50]
    assert ngsi.delete(path).status_code == 204
    assert ngsi.delete(path).status_code == 404
    assert sorted(_values(ngsi.get(f"/temporal/entities/{SENSOR}").json())) == [2, 3, 4, 5, 50]

    dataset = ngsi.delete(f"/temporal/entities/{SENSOR}/attrs/temperature?datasetId=urn:ngsi-ld:d:b")
    assert dataset.status_code == 204
    assert sorted(_values(ngsi.get(f"/temporal/entities/{SENSOR}").json())) == [2, 3, 4, 5]
    assert ngsi.delete(f"/temporal/entities/{SENSOR}/attrs/temperature?deleteAll=true").status_code == 204
    assert "temperature" not in ngsi.get(f"/temporal/entities/{SENSOR}").json()
    assert ngsi.delete(f"/temporal/entities/{SENSOR}/attrs/temperature").status_code == 404

    assert ngsi.delete(f"/temporal/entities/{SENSOR}").status_code == 204
    assert ngsi.get(f"/temporal/entities/{SENSOR}").status_code == 404
    assert ngsi.get(f"/entities/{SENSOR}").status_code == 404
    assert ngsi.delete(f"/temporal/entities/{SENSOR}").status_code == 404


@pytest.mark.parametrize("body", [
    [], {"type": "Sensor"}, {"id": "not a uri", "type": "Sensor"}, {"id": SENSOR},
    {"id": SENSOR, "type": "Sensor", "temperature": []}, {"id": SENSOR, "type": "Sensor", "temperature": [1, {}]},
])
def test_bad_temporal_provision_is_400(ngsi: Ngsi, body: object) -> None:
    response = ngsi.post("/temporal/entities", json=body)
    assert response.status_code == 400, response.text


def test_tenants_are_isolated(ngsi: Ngsi) -> None:
    blue = {"NGSILD-Tenant": "blue"}
    entity = {"id": SENSOR, "type": "Sensor", "temperature": _reading(7, "2026-03-01T00:00:00Z")}
    assert ngsi.post("/temporal/entities", json=entity, headers=blue).status_code == 201
    assert _values(ngsi.get(f"/temporal/entities/{SENSOR}", headers=blue).json()) == [7]
    assert ngsi.get(f"/temporal/entities/{SENSOR}").status_code == 404
    assert ngsi.get("/temporal/entities?type=Sensor").json() == []
    assert ngsi.get(f"/temporal/entities/{SENSOR}", headers={"NGSILD-Tenant": "green"}).status_code == 404
    entity["temperature"] = _reading(8, "2026-03-01T01:00:00Z")
    assert ngsi.post("/temporal/entities", json=entity).status_code == 201
    assert _values(ngsi.get(f"/temporal/entities/{SENSOR}").json()) == [8]
    assert _values(ngsi.get(f"/temporal/entities/{SENSOR}", headers=blue).json()) == [7]


def test_simplified_members_of_other_attribute_types_and_sys_attrs(ngsi: Ngsi) -> None:
    at = "2026-04-01T00:00:00Z"
    created = ngsi.post("/temporal/entities", json={
        "id": SENSOR, "type": "Sensor",
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Agency:a", "observedAt": at},
        "label": {"type": "LanguageProperty", "languageMap": {"vi": "Cảm biến", "en": "Sensor"}, "observedAt": at},
        "config": {"type": "JsonProperty", "json": {"rate": 5}, "observedAt": at}})
    assert created.status_code == 201, created.text
    body = ngsi.get(f"/temporal/entities/{SENSOR}?options=temporalValues").json()
    assert body["owner"] == {"type": "Relationship", "objects": [["urn:ngsi-ld:Agency:a", at]]}
    assert body["label"] == {"type": "LanguageProperty",
                             "languageMaps": [[{"languageMap": {"vi": "Cảm biến", "en": "Sensor"}}, at]]}
    assert body["config"] == {"type": "JsonProperty", "jsons": [[{"json": {"rate": 5}}, at]]}
    full = ngsi.get(f"/temporal/entities/{SENSOR}?options=sysAttrs&attrs=owner").json()
    assert set(full) == {"id", "type", "createdAt", "modifiedAt", "owner"}
    # a temporal attribute is an array of instances, also when there is one
    assert full["owner"][0]["object"] == "urn:ngsi-ld:Agency:a" and full["owner"][0]["createdAt"].endswith("Z")
