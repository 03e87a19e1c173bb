"""Entities and their attributes through HTTP: the status codes, headers and bodies of NGSI-LD 1.8.1."""

from __future__ import annotations

from tests.context.conftest import Ngsi, building


def test_create_answers_201_with_location_and_a_second_create_409(ngsi: Ngsi) -> None:
    response = ngsi.post("/entities", json=building())
    assert response.status_code == 201
    assert response.headers["location"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:Building:b1"
    again = ngsi.post("/entities", json=building())
    assert again.status_code == 409
    assert again.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists"


def test_retrieve_returns_the_normalized_entity_with_a_core_context_link(ngsi: Ngsi) -> None:
    ngsi.create(building())
    response = ngsi.get("/entities/urn:ngsi-ld:Building:b1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "ngsi-ld-core-context" in response.headers["link"]
    assert response.json() == building()


def test_key_values_concise_and_sys_attrs(ngsi: Ngsi) -> None:
    ngsi.create(building())
    kv = ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=keyValues").json()
    assert kv == {"id": "urn:ngsi-ld:Building:b1", "type": "Building", "name": "Tháp Bình Dương", "height": 120.5,
                  "location": {"type": "Point", "coordinates": [106.65, 10.98]}, "owner": "urn:ngsi-ld:Agency:SXD"}
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1?format=keyValues").json() == kv
    concise = ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=concise").json()
    assert concise["name"] == {"value": "Tháp Bình Dương", "observedAt": "2026-11-24T09:59:00.000Z",
                               "source": "survey"}
    assert concise["height"] == {"value": 120.5, "unitCode": "MTR"}
    assert concise["owner"] == {"object": "urn:ngsi-ld:Agency:SXD"}
    plain = ngsi.get("/entities/urn:ngsi-ld:Building:b1").json()
    assert "createdAt" not in plain and "modifiedAt" not in plain["height"]
    sys = ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=sysAttrs").json()
    assert sys["createdAt"].endswith("Z") and sys["height"]["modifiedAt"].endswith("Z")


def test_concise_input_is_accepted(ngsi: Ngsi) -> None:
    ngsi.create({"id": "urn:ngsi-ld:Lamp:1", "type": "Streetlight", "power": 80,
                 "status": {"value": "on", "observedAt": "2026-11-24T10:00:00Z"},
                 "location": {"type": "Point", "coordinates": [106.6, 10.9]},
                 "cabinet": {"object": "urn:ngsi-ld:Cabinet:1"}})
    entity = ngsi.get("/entities/urn:ngsi-ld:Lamp:1").json()
    assert entity["power"] == {"type": "Property", "value": 80}
    assert entity["location"]["type"] == "GeoProperty"
    assert entity["cabinet"] == {"type": "Relationship", "object": "urn:ngsi-ld:Cabinet:1"}


def test_ld_json_answer_carries_the_context_in_the_body(ngsi: Ngsi) -> None:
    ngsi.create(building())
    response = ngsi.get("/entities/urn:ngsi-ld:Building:b1", headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    assert "ngsi-ld-core-context" in response.json()["@context"]
    assert "link" not in response.headers


def test_geo_json_answer_is_a_feature(ngsi: Ngsi) -> None:
    ngsi.create(building())
    feature = ngsi.get("/entities/urn:ngsi-ld:Building:b1", headers={"Accept": "application/geo+json"}).json()
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [106.65, 10.98]}
    assert feature["properties"]["height"]["value"] == 120.5
    collection = ngsi.get("/entities?type=Building", headers={"Accept": "application/geo+json"}).json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 1


def test_unknown_entity_is_404_and_delete_removes_it(ngsi: Ngsi) -> None:
    assert ngsi.get("/entities/urn:ngsi-ld:Building:none").status_code == 404
    ngsi.create(building())
    assert ngsi.delete("/entities/urn:ngsi-ld:Building:b1").status_code == 204
    missing = ngsi.get("/entities/urn:ngsi-ld:Building:b1")
    assert missing.status_code == 404
    assert missing.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    assert ngsi.delete("/entities/urn:ngsi-ld:Building:b1").status_code == 404


def test_invalid_entities_are_400_bad_request_data(ngsi: Ngsi) -> None:
    bad = [
        {"type": "Building"},
        {"id": "not a uri", "type": "Building"},
        {"id": "urn:ngsi-ld:B:1"},
        {"id": "urn:ngsi-ld:B:1", "type": "Building", "height": {"type": "Property"}},
        {"id": "urn:ngsi-ld:B:1", "type": "Building", "height": {"type": "Nonsense", "value": 1}},
        {"id": "urn:ngsi-ld:B:1", "type": "Building", "owner": {"type": "Relationship", "object": "no uri"}},
        {"id": "urn:ngsi-ld:B:1", "type": "Building", "location": {"type": "Property", "value": 1}},
        {"id": "urn:ngsi-ld:B:1", "type": "Building", "location": {"type": "GeoProperty", "value": {"type": "Point"}}},
        {"id": "urn:ngsi-ld:B:1", "type": "Building", "h": {"value": 1, "observedAt": "yesterday"}},
        {"id": "urn:ngsi-ld:B:1", "type": "Building", "bad name": {"value": 1}},
        {"id": "urn:ngsi-ld:B:1", "type": "type"},  # "type" is the core context's alias of @type
    ]
    for body in bad:
        response = ngsi.post("/entities", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", body
        assert response.headers["content-type"].startswith("application/json")
    for body in ([], "x"):
        response = ngsi.post("/entities", json=body)
        assert response.status_code == 400
        assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest"


def test_media_types_415_406_and_invalid_json(ngsi: Ngsi) -> None:
    response = ngsi.post("/entities", content=b'{"id": "urn:x:1", "type": "T"}', headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/UnsupportedMediaType"
    broken = ngsi.post("/entities", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest"
    ngsi.create(building())
    refused = ngsi.get("/entities/urn:ngsi-ld:Building:b1", headers={"Accept": "text/html"})
    assert refused.status_code == 406
    assert refused.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/NotAcceptable"


def test_multi_attributes_by_dataset_id(ngsi: Ngsi) -> None:
    entity = building(speed=[{"type": "Property", "value": 40},
                             {"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Dataset:radar"}])
    ngsi.create(entity)
    got = ngsi.get("/entities/urn:ngsi-ld:Building:b1").json()
    assert got["speed"] == entity["speed"]
    assert ngsi.delete("/entities/urn:ngsi-ld:Building:b1/attrs/speed?datasetId=urn:ngsi-ld:Dataset:radar"
                       ).status_code == 204
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1").json()["speed"] == {"type": "Property", "value": 40}
    duplicate = building("urn:ngsi-ld:Building:b2", speed=[{"value": 1}, {"value": 2}])
    assert ngsi.post("/entities", json=duplicate).status_code == 400


def test_delete_all_instances_and_missing_attribute_404(ngsi: Ngsi) -> None:
    ngsi.create(building(speed=[{"value": 1}, {"value": 2, "datasetId": "urn:ngsi-ld:Dataset:a"}]))
    assert ngsi.delete("/entities/urn:ngsi-ld:Building:b1/attrs/speed?deleteAll=true").status_code == 204
    assert "speed" not in ngsi.get("/entities/urn:ngsi-ld:Building:b1").json()
    assert ngsi.delete("/entities/urn:ngsi-ld:Building:b1/attrs/speed").status_code == 404


def test_append_with_and_without_no_overwrite(ngsi: Ngsi) -> None:
    ngsi.create(building())
    ok = ngsi.post("/entities/urn:ngsi-ld:Building:b1/attrs", json={"floors": {"value": 30}, "height": {"value": 1}})
    assert ok.status_code == 204
    partial = ngsi.post("/entities/urn:ngsi-ld:Building:b1/attrs?options=noOverwrite",
                        json={"height": {"value": 999}, "colour": {"value": "white"}})
    assert partial.status_code == 207
    assert partial.json() == {"updated": ["colour"], "notUpdated": [
        {"attributeName": "height", "reason": "The attribute exists (noOverwrite)"}]}
    entity = ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=keyValues").json()
    assert (entity["height"], entity["floors"], entity["colour"]) == (1, 30, "white")


def test_update_attributes_reports_the_missing_ones(ngsi: Ngsi) -> None:
    ngsi.create(building())
    assert ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs", json={"height": {"value": 121}}).status_code == 204
    partial = ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs", json={"height": {"value": 122},
                                                                          "nothere": {"value": 1}})
    assert partial.status_code == 207
    assert partial.json()["updated"] == ["height"]
    assert partial.json()["notUpdated"][0]["attributeName"] == "nothere"
    assert ngsi.patch("/entities/urn:ngsi-ld:Building:none/attrs", json={"height": {"value": 1}}).status_code == 404


def test_partial_update_keeps_sub_attributes_and_replace_drops_them(ngsi: Ngsi) -> None:
    ngsi.create(building())
    assert ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs/name", json={"value": "Tháp mới"}).status_code == 204
    name = ngsi.get("/entities/urn:ngsi-ld:Building:b1").json()["name"]
    assert name["value"] == "Tháp mới" and name["source"] == {"type": "Property", "value": "survey"}
    assert ngsi.put("/entities/urn:ngsi-ld:Building:b1/attrs/name",
                    json={"type": "Property", "value": "Tháp"}).status_code == 204
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1").json()["name"] == {"type": "Property", "value": "Tháp"}
    assert ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs/nothere", json={"value": 1}).status_code == 404
    assert ngsi.put("/entities/urn:ngsi-ld:Building:b1/attrs/nothere", json={"value": 1}).status_code == 404


def test_replace_and_merge_entity(ngsi: Ngsi) -> None:
    ngsi.create(building())
    created = ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=sysAttrs").json()["createdAt"]
    assert ngsi.put("/entities/urn:ngsi-ld:Building:b1",
                    json={"type": "Building", "floors": {"value": 3}}).status_code == 204
    replaced = ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=keyValues,sysAttrs").json()
    assert replaced == {"id": "urn:ngsi-ld:Building:b1", "type": "Building", "floors": 3}
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=sysAttrs").json()["createdAt"] == created
    merged = ngsi.patch("/entities/urn:ngsi-ld:Building:b1",
                        json={"floors": "urn:ngsi-ld:null", "colour": {"value": "red"}})
    assert merged.status_code == 204
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=keyValues").json() == {
        "id": "urn:ngsi-ld:Building:b1", "type": "Building", "colour": "red"}
    mismatch = ngsi.put("/entities/urn:ngsi-ld:Building:b1", json={"id": "urn:ngsi-ld:Building:b9", "type": "B"})
    assert mismatch.status_code == 400
    assert ngsi.patch("/entities/urn:ngsi-ld:Building:none", json={"colour": {"value": 1}}).status_code == 404


def test_merge_replaces_the_scope_and_the_null_removes_it(ngsi: Ngsi) -> None:
    ngsi.create(building() | {"scope": "/Bac_Ninh/Kinh_Bac"})
    url = "/entities/urn:ngsi-ld:Building:b1"
    assert ngsi.patch(url, json={"scope": ["/Bac_Ninh/Vo_Cuong", "/Bac_Ninh"]}).status_code == 204
    assert ngsi.get(url).json()["scope"] == ["/Bac_Ninh/Vo_Cuong", "/Bac_Ninh"]
    assert ngsi.patch(url, json={"scope": "not a scope!"}).status_code == 400
    assert ngsi.get(url).json()["scope"] == ["/Bac_Ninh/Vo_Cuong", "/Bac_Ninh"]  # the bad merge changed nothing
    assert ngsi.patch(url, json={"scope": "urn:ngsi-ld:null"}).status_code == 204
    assert "scope" not in ngsi.get(url).json()


def test_pick_omit_and_attrs_project_the_answer(ngsi: Ngsi) -> None:
    ngsi.create(building())
    picked = ngsi.get("/entities/urn:ngsi-ld:Building:b1?pick=id,height").json()
    assert picked == {"id": "urn:ngsi-ld:Building:b1", "height": {"type": "Property", "value": 120.5,
                                                                   "unitCode": "MTR"}}
    omitted = ngsi.get("/entities/urn:ngsi-ld:Building:b1?omit=name,location,owner&options=keyValues").json()
    assert omitted == {"id": "urn:ngsi-ld:Building:b1", "type": "Building", "height": 120.5}
    attrs = ngsi.get("/entities/urn:ngsi-ld:Building:b1?attrs=owner&options=keyValues").json()
    assert attrs == {"id": "urn:ngsi-ld:Building:b1", "type": "Building", "owner": "urn:ngsi-ld:Agency:SXD"}


def test_language_filter_and_unknown_attribute_404(ngsi: Ngsi) -> None:
    ngsi.create(building(street={"type": "LanguageProperty", "languageMap": {"vi": "Đại lộ", "en": "Avenue"}}))
    normalized = ngsi.get("/entities/urn:ngsi-ld:Building:b1?lang=en").json()["street"]
    assert normalized == {"type": "Property", "value": "Avenue", "lang": "en"}
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1?lang=vi&options=keyValues").json()["street"] == "Đại lộ"
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1").json()["street"]["languageMap"]["en"] == "Avenue"
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1?attrs=nothere").status_code == 404
    assert ngsi.get("/entities/thisisaninvaliduri").status_code == 400
