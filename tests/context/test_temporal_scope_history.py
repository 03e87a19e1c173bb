"""Through HTTP: the scope's history in the Temporal API (deletedAt) and attribute-instance paths without a name."""

from __future__ import annotations

import pytest

from tests.context.conftest import Ngsi

BUS = "urn:ngsi-ld:Bus:b7"


def _temporal_bus(ngsi: Ngsi) -> str:
    """A bus created through the Temporal API with a scope; the instanceId of its first speed instance."""
    created = ngsi.post("/temporal/entities", json={
        "id": BUS, "type": "Bus", "scope": ["/BacNinh/TuSon", "/Transit/Line7"],
        "speed": [{"type": "Property", "value": 31, "observedAt": "2026-11-24T08:00:00Z"},
                  {"type": "Property", "value": 42, "observedAt": "2026-11-24T08:05:00Z"}]})
    assert created.status_code == 201, created.text
    return ngsi.get(f"/temporal/entities/{BUS}").json()["speed"][0]["instanceId"]


def test_a_deleted_scope_is_in_the_deleted_at_history(ngsi: Ngsi) -> None:
    _temporal_bus(ngsi)
    assert ngsi.get(f"/temporal/entities/{BUS}?timeproperty=deletedAt").json() == {
        "id": BUS, "type": "Bus", "scope": ["/BacNinh/TuSon", "/Transit/Line7"]}  # nothing deleted yet
    assert ngsi.delete(f"/entities/{BUS}/attrs/scope").status_code == 204
    body = ngsi.get(f"/temporal/entities/{BUS}?timeproperty=deletedAt").json()
    assert set(body) == {"id", "type", "scope"}  # the speed was never deleted
    [deleted] = body["scope"]
    assert deleted["type"] == "Property" and deleted["value"] == [] and deleted["deletedAt"].endswith("Z")
    assert deleted["instanceId"].startswith("urn:ngsi-ld:")
    simplified = ngsi.get(f"/temporal/entities/{BUS}?timeproperty=deletedAt&options=temporalValues").json()
    assert simplified["scope"] == {"type": "Property", "values": [[[], deleted["deletedAt"]]]}
    before = ngsi.get(f"/temporal/entities/{BUS}?timeproperty=deletedAt&timerel=before"
                      "&timeAt=2000-01-01T00:00:00Z").json()
    assert "scope" not in before
    assert ngsi.delete(f"/entities/{BUS}/attrs/scope").status_code == 404  # no scope left to delete


def test_scope_changes_are_kept_with_their_times(ngsi: Ngsi) -> None:
    ngsi.create({"id": BUS, "type": "Bus", "scope": "/BacNinh/TuSon"})
    replaced = ngsi.post(f"/entities/{BUS}/attrs", json={"scope": ["/BacNinh/YenPhong"]})  # clause 4.18: replaced
    assert replaced.status_code == 204, replaced.text
    history = ngsi.get(f"/temporal/entities/{BUS}?timeproperty=modifiedAt&options=temporalValues").json()
    assert [value for value, _ in history["scope"]["values"]] == [["/BacNinh/TuSon"], ["/BacNinh/YenPhong"]]
    # an update that leaves the scope alone adds nothing to its history
    assert ngsi.post(f"/entities/{BUS}/attrs", json={"speed": {"type": "Property", "value": 12}}).status_code == 204
    again = ngsi.get(f"/temporal/entities/{BUS}?timeproperty=modifiedAt&options=temporalValues").json()
    assert len(again["scope"]["values"]) == 2
    # the default (observedAt) view shows the scope as the entity has it now
    assert ngsi.get(f"/temporal/entities/{BUS}").json()["scope"] == "/BacNinh/YenPhong"
    assert ngsi.delete(f"/entities/{BUS}").status_code == 204


@pytest.mark.parametrize(("method", "status", "error"), [
    ("PATCH", 405, "OperationNotSupported"), ("DELETE", 400, "BadRequestData")])
def test_an_instance_path_without_an_attribute_name(ngsi: Ngsi, method: str, status: int, error: str) -> None:
    instance_id = _temporal_bus(ngsi)
    fragment = {"speed": {"type": "Property", "value": 1, "observedAt": "2026-11-24T08:00:00Z"}}
    response = ngsi.request(method, f"/temporal/entities/{BUS}/attrs//{instance_id}",
                            json=fragment if method == "PATCH" else None)
    assert response.status_code == status, response.text
    assert response.json()["type"].endswith("/" + error)
    assert response.headers["content-type"] == "application/json"
    if status == 405:
        assert response.headers["allow"] == "DELETE"
    # nothing changed: the instance is still there and answers under its attribute's name
    speeds = ngsi.get(f"/temporal/entities/{BUS}").json()["speed"]
    assert [s["value"] for s in speeds] == [31, 42]
    assert ngsi.request(method, f"/temporal/entities/{BUS}/attrs/speed/{instance_id}",
                        json=fragment if method == "PATCH" else None).status_code == 204
