"""Batch entity operations: 201/204/207 answers, per-entity errors, 1000 entities in one request."""

from __future__ import annotations

from tests.context.conftest import Ngsi


def _entity(i: int, **attrs: object) -> dict[str, object]:
    return {"id": f"urn:ngsi-ld:Sensor:{i:04d}", "type": "Sensor", "temperature": {"value": 20 + i % 10}, **attrs}


def test_create_1000_entities_in_one_request(ngsi: Ngsi) -> None:
    body = [_entity(i) for i in range(1000)]
    response = ngsi.post("/entityOperations/create", json=body)
    assert response.status_code == 201
    assert response.json() == [e["id"] for e in body]
    count = ngsi.get("/entities?type=Sensor&count=true&limit=0")
    assert count.headers["NGSILD-Results-Count"] == "1000"


def test_create_reports_each_failure_and_keeps_the_others(ngsi: Ngsi) -> None:
    ngsi.create(_entity(1))
    body = [_entity(1), _entity(2), {"id": "not a uri", "type": "Sensor"}, _entity(2), _entity(3)]
    response = ngsi.post("/entityOperations/create", json=body)
    assert response.status_code == 207
    result = response.json()
    assert result["success"] == ["urn:ngsi-ld:Sensor:0002", "urn:ngsi-ld:Sensor:0003"]
    errors = {(e["entityId"], e["error"]["type"].rsplit("/", 1)[-1]) for e in result["errors"]}
    assert errors == {("urn:ngsi-ld:Sensor:0001", "AlreadyExists"), ("not a uri", "BadRequestData"),
                      ("urn:ngsi-ld:Sensor:0002", "AlreadyExists")}
    assert ngsi.get("/entities/urn:ngsi-ld:Sensor:0003").status_code == 200


def test_upsert_creates_then_replaces_or_updates(ngsi: Ngsi) -> None:
    created = ngsi.post("/entityOperations/upsert", json=[_entity(1, humidity={"value": 50})])
    assert created.status_code == 201 and created.json() == ["urn:ngsi-ld:Sensor:0001"]
    replaced = ngsi.post("/entityOperations/upsert", json=[_entity(1)])
    assert replaced.status_code == 204
    assert "humidity" not in ngsi.get("/entities/urn:ngsi-ld:Sensor:0001").json()
    updated = ngsi.post("/entityOperations/upsert?options=update",
                        json=[{"id": "urn:ngsi-ld:Sensor:0001", "type": "Sensor", "humidity": {"value": 60}}])
    assert updated.status_code == 204
    entity = ngsi.get("/entities/urn:ngsi-ld:Sensor:0001?options=keyValues").json()
    assert entity["humidity"] == 60 and entity["temperature"] == 21
    partial = ngsi.post("/entityOperations/upsert", json=[_entity(2), {"id": "urn:x:1"}])
    assert partial.status_code == 207


def test_update_merge_and_delete(ngsi: Ngsi) -> None:
    ngsi.post("/entityOperations/create", json=[_entity(1), _entity(2)])
    update = ngsi.post("/entityOperations/update", json=[
        {"id": "urn:ngsi-ld:Sensor:0001", "temperature": {"value": 99}},
        {"id": "urn:ngsi-ld:Sensor:0009", "temperature": {"value": 99}}])
    assert update.status_code == 207
    assert update.json()["success"] == ["urn:ngsi-ld:Sensor:0001"]
    assert update.json()["errors"][0]["entityId"] == "urn:ngsi-ld:Sensor:0009"
    no_overwrite = ngsi.post("/entityOperations/update?options=noOverwrite", json=[
        {"id": "urn:ngsi-ld:Sensor:0001", "temperature": {"value": 1}, "battery": {"value": 80}}])
    assert no_overwrite.status_code == 207  # temperature was kept: a partial failure (clause 5.6.9 as 5.6.3)
    assert no_overwrite.json()["errors"][0]["entityId"] == "urn:ngsi-ld:Sensor:0001"
    entity = ngsi.get("/entities/urn:ngsi-ld:Sensor:0001?options=keyValues").json()
    assert (entity["temperature"], entity["battery"]) == (99, 80)
    merge = ngsi.post("/entityOperations/merge", json=[{"id": "urn:ngsi-ld:Sensor:0002", "battery": {"value": 5}}])
    assert merge.status_code == 204
    assert ngsi.get("/entities/urn:ngsi-ld:Sensor:0002?options=keyValues").json()["battery"] == 5
    delete = ngsi.post("/entityOperations/delete", json=["urn:ngsi-ld:Sensor:0001", "urn:ngsi-ld:Sensor:0404"])
    assert delete.status_code == 207
    assert delete.json()["success"] == ["urn:ngsi-ld:Sensor:0001"]
    assert ngsi.post("/entityOperations/delete", json=["urn:ngsi-ld:Sensor:0002"]).status_code == 204
    assert ngsi.get("/entities?type=Sensor").json() == []


def test_batch_bodies_must_be_non_empty_arrays(ngsi: Ngsi) -> None:
    for path in ("create", "upsert", "update", "delete", "merge"):
        for body in ({}, [], "x"):
            response = ngsi.post(f"/entityOperations/{path}", json=body)
            assert response.status_code == 400, (path, body, response.text)
