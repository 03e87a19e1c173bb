"""GET /types and /attributes: computed over every entity of the tenant."""

from __future__ import annotations

from tests.context.conftest import Ngsi


def _fill(ngsi: Ngsi) -> None:
    body = [{"id": f"urn:ngsi-ld:Streetlight:{i}", "type": "Streetlight", "power": {"value": i},
             "location": {"type": "Point", "coordinates": [106.6, 10.9]}} for i in range(30)]
    body += [{"id": "urn:ngsi-ld:Cabinet:1", "type": "Cabinet", "power": {"value": 1},
              "feeds": {"type": "Relationship", "object": "urn:ngsi-ld:Streetlight:1"}}]
    assert ngsi.post("/entityOperations/create", json=body).status_code == 201


def test_types_list_details_and_info(ngsi: Ngsi) -> None:
    _fill(ngsi)
    listing = ngsi.get("/types").json()
    assert listing["type"] == "EntityTypeList" and listing["typeList"] == ["Cabinet", "Streetlight"]
    details = {t["typeName"]: t for t in ngsi.get("/types?details=true").json()}
    assert details["Cabinet"]["attributeNames"] == ["feeds", "power"]
    info = ngsi.get("/types/Streetlight").json()
    assert info["entityCount"] == 30 and info["type"] == "EntityTypeInfo"
    assert {a["attributeName"]: a["attributeTypes"] for a in info["attributeDetails"]} == {
        "location": ["GeoProperty"], "power": ["Property"]}
    assert ngsi.get("/types/Nothing").status_code == 404


def test_attributes_list_and_info(ngsi: Ngsi) -> None:
    _fill(ngsi)
    assert ngsi.get("/attributes").json()["attributeList"] == ["feeds", "location", "power"]
    power = ngsi.get("/attributes/power").json()
    assert power["attributeCount"] == 31 and power["typeNames"] == ["Cabinet", "Streetlight"]
    assert power["attributeTypes"] == ["Property"]
    details = {a["attributeName"]: a for a in ngsi.get("/attributes?details=true").json()}
    assert details["feeds"]["typeNames"] == ["Cabinet"]
    assert ngsi.get("/attributes/nothing").status_code == 404
