"""Request checks of NGSI-LD 1.8.1: unknown query parameters, options and formats (InvalidRequest),
entity ids, attribute names, query minimums, datasetId selection, expanded names in paths, GeoJSON
@context, and per-entity @context handling of batches."""

from __future__ import annotations

import pytest

from tests.context.conftest import Ngsi, building

INVALID_REQUEST = "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest"
BAD_REQUEST_DATA = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


@pytest.mark.parametrize("method,path", [("GET", "/entities?type=Building&invalidParam=1"),
                                         ("GET", "/types?invalidParam=1"),
                                         ("GET", "/subscriptions?invalidParam=1"),
                                         ("GET", "/entities/urn:ngsi-ld:Building:b1?invalidParam=1")])
def test_an_unknown_query_parameter_is_invalid_request(ngsi: Ngsi, method: str, path: str) -> None:
    ngsi.create(building())
    response = ngsi.request(method, path)
    assert response.status_code == 400
    assert response.json()["type"] == INVALID_REQUEST


@pytest.mark.parametrize("query", ["format=invalidFormat", "options=invalidOptions", "options=keyValues,invalid"])
def test_an_unknown_format_or_option_is_invalid_request(ngsi: Ngsi, query: str) -> None:
    ngsi.create(building())
    response = ngsi.get(f"/entities/urn:ngsi-ld:Building:b1?{query}")
    assert response.status_code == 400
    assert response.json()["type"] == INVALID_REQUEST


def test_simplified_is_a_synonym_of_key_values_in_options(ngsi: Ngsi) -> None:
    ngsi.create(building())
    body = ngsi.get("/entities/urn:ngsi-ld:Building:b1?options=simplified").json()
    assert body["height"] == 120.5


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\ufeff", "\ufe0f", "\U000e0100", "\ufdd0", "\ufffe",
                                  "\u115f", "\u3164", "\uffa0", "\u2800"])
def test_an_entity_id_with_an_invisible_character_is_bad_request_data(ngsi: Ngsi, char: str) -> None:
    response = ngsi.post("/entities", json={"id": f"urn:ngsi-ld:Vehicle:A{char}B", "type": "Vehicle"})
    assert response.status_code == 400
    assert response.json()["type"] == BAD_REQUEST_DATA


def test_non_ascii_iris_stay_valid(ngsi: Ngsi) -> None:
    ngsi.create({"id": "urn:ngsi-ld:Vehicle:Bình", "type": "Vehicle",
                 "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:Ciudad:París"}})


@pytest.mark.parametrize("method,path", [("PATCH", "/entities/"), ("PUT", "/entities/"),
                                         ("POST", "/entities//attrs"), ("PATCH", "/entities//attrs"),
                                         ("PATCH", "/entities//attrs/name"), ("DELETE", "/entities//attrs/name")])
def test_an_empty_entity_id_in_the_path_is_bad_request_data(ngsi: Ngsi, method: str, path: str) -> None:
    response = ngsi.request(method, path, json={"name": {"value": 1}})
    assert response.status_code == 400
    assert response.json()["type"] == BAD_REQUEST_DATA


def test_attribute_names_in_keyword_form_are_bad_request_data(ngsi: Ngsi) -> None:
    ngsi.create(building())
    response = ngsi.put("/entities/urn:ngsi-ld:Building:b1/attrs/@invalid", json={"value": 1})
    assert response.status_code == 400
    assert ngsi.get("/entities?attrs=id,type").status_code == 400


def test_a_query_by_ids_alone_needs_a_type_unless_local(ngsi: Ngsi) -> None:
    ngsi.create(building())
    assert ngsi.get("/entities?id=urn:ngsi-ld:Building:b1").status_code == 400
    assert ngsi.get("/entities?id=urn:ngsi-ld:Building:b1&type=Building").status_code == 200
    everything = ngsi.get("/entities?local=true")
    assert everything.status_code == 200 and [e["id"] for e in everything.json()] == ["urn:ngsi-ld:Building:b1"]


def test_dataset_id_selects_attribute_instances(ngsi: Ngsi) -> None:
    ngsi.create({"id": "urn:ngsi-ld:Building:d", "type": "Building",
                 "name": [{"value": "Eiffel Tower"}, {"value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}],
                 "height": {"value": 300}})
    french = ngsi.get("/entities?type=Building&datasetId=urn:ngsi-ld:Dataset:fr").json()[0]
    assert french["name"] == {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}
    assert "height" not in french
    default = ngsi.get("/entities?type=Building&datasetId=@none").json()[0]
    assert default["name"] == {"type": "Property", "value": "Eiffel Tower"} and "height" in default


def test_types_and_attributes_can_be_named_by_their_expanded_iri(ngsi: Ngsi) -> None:
    ngsi.create(building())
    iri = "https://uri.etsi.org/ngsi-ld/default-context/Building"
    assert ngsi.get(f"/types/{iri}").status_code == 200
    assert ngsi.get("/attributes/https://uri.etsi.org/ngsi-ld/default-context/height").status_code == 200


def test_geojson_answers_carry_the_context_in_the_body(ngsi: Ngsi) -> None:
    ngsi.create(building())
    headers = {"Accept": "application/geo+json"}
    feature = ngsi.get("/entities/urn:ngsi-ld:Building:b1", headers=headers).json()
    assert feature["type"] == "Feature" and "ngsi-ld-core-context" in feature["@context"]
    collection = ngsi.get("/entities?type=Building", headers=headers).json()
    assert collection["type"] == "FeatureCollection" and "@context" in collection


def test_a_term_taken_by_the_user_context_compacts_to_a_compact_iri(ngsi: Ngsi, suite_link: str) -> None:
    ngsi.create({"id": "urn:ngsi-ld:Building:c", "type": "Building", "almostFull": {"value": True}})
    body = ngsi.get("/entities/urn:ngsi-ld:Building:c", headers={"Link": suite_link}).json()
    assert body["ngsi-ld:default-context/almostFull"] == {"type": "Property", "value": True}


def test_post_query_with_several_selectors_with_ids(ngsi: Ngsi) -> None:
    for i in (1, 2, 3):
        ngsi.create(building(f"urn:ngsi-ld:Building:s{i}"))
    ngsi.create({"id": "urn:ngsi-ld:Vehicle:v1", "type": "Vehicle"})
    response = ngsi.post("/entityOperations/query", json={"type": "Query", "entities": [
        {"id": "urn:ngsi-ld:Building:s1", "type": "Building"}, {"id": "urn:ngsi-ld:Building:s3", "type": "Building"},
        {"idPattern": "^urn:ngsi-ld:Vehicle:", "type": "Vehicle"}]})
    assert response.status_code == 200
    assert sorted(e["id"] for e in response.json()) == ["urn:ngsi-ld:Building:s1", "urn:ngsi-ld:Building:s3",
                                                        "urn:ngsi-ld:Vehicle:v1"]


def test_batch_entities_without_their_own_context_fail_alone(ngsi: Ngsi) -> None:
    good = {**building("urn:ngsi-ld:Building:g"), "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"}
    bad = building("urn:ngsi-ld:Building:x")
    response = ngsi.post("/entityOperations/create", json=[good, bad],
                         headers={"Content-Type": "application/ld+json"})
    assert response.status_code == 207
    assert response.json()["success"] == ["urn:ngsi-ld:Building:g"]
    assert response.json()["errors"][0]["error"]["type"] == BAD_REQUEST_DATA
    plain = ngsi.post("/entityOperations/create", json=[{**bad, "@context": good["@context"]}])
    assert plain.status_code == 207 and plain.json()["errors"][0]["error"]["type"] == BAD_REQUEST_DATA


def test_batch_delete_accepts_an_ld_json_list_of_ids(ngsi: Ngsi) -> None:
    ngsi.create(building())
    response = ngsi.post("/entityOperations/delete", json=["urn:ngsi-ld:Building:b1"],
                         headers={"Content-Type": "application/ld+json"})
    assert response.status_code == 204


def test_batch_update_with_no_overwrite_reports_entities_with_kept_attributes(ngsi: Ngsi) -> None:
    ngsi.create(building())
    response = ngsi.post("/entityOperations/update?options=noOverwrite",
                         json=[{"id": "urn:ngsi-ld:Building:b1", "height": {"value": 1}, "floors": {"value": 3}}])
    assert response.status_code == 207
    entity = ngsi.get("/entities/urn:ngsi-ld:Building:b1").json()
    assert entity["height"]["value"] == 120.5 and entity["floors"]["value"] == 3


def test_an_unavailable_context_in_a_batch_fails_each_entity_with_504_error(ngsi: Ngsi) -> None:
    context = "http://127.0.0.1:9/missing.jsonld"
    response = ngsi.post("/entityOperations/create", headers={"Content-Type": "application/ld+json"},
                         json=[{**building(f"urn:ngsi-ld:Building:u{i}"), "@context": context} for i in (1, 2)])
    assert response.status_code == 207
    assert [e["error"]["status"] for e in response.json()["errors"]] == [504, 504]


def test_the_entities_collection_also_answers_with_a_trailing_slash(ngsi: Ngsi) -> None:
    assert ngsi.post("/entities/", json=building(), follow_redirects=False).status_code == 201
    response = ngsi.get("/entities/?type=Building", follow_redirects=False)
    assert response.status_code == 200 and response.json()[0]["id"] == "urn:ngsi-ld:Building:b1"


def test_types_and_attributes_listings_also_answer_with_a_trailing_slash(ngsi: Ngsi) -> None:
    ngsi.create(building())
    types = ngsi.get("/types/?details=false", follow_redirects=False)
    assert types.status_code == 200 and types.json()["typeList"] == ["Building"]
    assert ngsi.get("/attributes/?details=true", follow_redirects=False).status_code == 200
