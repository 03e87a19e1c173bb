"""Attribute updates: NGSI-LD Null deletes (per datasetId), scope and types in fragments, merge keeps
members not sent, partial updates do not change the attribute type."""

from __future__ import annotations

import pytest

from tests.context.conftest import Ngsi

EID = "urn:ngsi-ld:Building:n1"
D1 = "urn:ngsi-ld:Dataset:01"


@pytest.fixture
def multi(ngsi: Ngsi) -> Ngsi:
    ngsi.create({"id": EID, "type": "Building",
                 "name": [{"type": "Property", "value": "default"},
                          {"type": "Property", "value": "one", "datasetId": D1}],
                 "street": {"type": "LanguageProperty", "languageMap": {"fr": "rue"}},
                 "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.3, 48.8]}},
                 "airQualityLevel": {"type": "Property", "value": 3, "unitCode": "C62"},
                 "scope": "/Madrid/Gardens"})
    return ngsi


def _entity(ngsi: Ngsi) -> dict:
    return ngsi.get(f"/entities/{EID}").json()


def test_ngsi_ld_null_in_update_attributes_deletes_the_instance_of_its_dataset_id(multi: Ngsi) -> None:
    response = multi.patch(f"/entities/{EID}/attrs",
                           json={"name": {"type": "Property", "value": "urn:ngsi-ld:null", "datasetId": D1}})
    assert response.status_code == 204
    assert _entity(multi)["name"] == {"type": "Property", "value": "default"}


def test_ngsi_ld_null_deletes_geo_and_language_properties(multi: Ngsi) -> None:
    response = multi.patch(f"/entities/{EID}/attrs", json={
        "location": {"type": "GeoProperty", "value": "urn:ngsi-ld:null"},
        "street": {"type": "LanguageProperty", "languageMap": {"@none": "urn:ngsi-ld:null"}}})
    assert response.status_code == 204
    entity = _entity(multi)
    assert "location" not in entity and "street" not in entity


def test_ngsi_ld_null_in_partial_update_deletes_the_attribute_instance(multi: Ngsi) -> None:
    response = multi.patch(f"/entities/{EID}/attrs/name", json={"type": "Property", "value": "urn:ngsi-ld:null"})
    assert response.status_code == 204
    assert _entity(multi)["name"] == {"type": "Property", "value": "one", "datasetId": D1}


def test_ngsi_ld_null_in_merge_deletes_only_the_instance_of_its_dataset_id(multi: Ngsi) -> None:
    response = multi.patch(f"/entities/{EID}", json={"name": {"value": "urn:ngsi-ld:null", "datasetId": D1}})
    assert response.status_code == 204
    assert _entity(multi)["name"] == {"type": "Property", "value": "default"}


def test_merge_keeps_the_members_of_an_attribute_that_are_not_sent(multi: Ngsi) -> None:
    response = multi.patch(f"/entities/{EID}", json={"airQualityLevel": {"type": "Property", "value": 1}})
    assert response.status_code == 204
    assert _entity(multi)["airQualityLevel"] == {"type": "Property", "value": 1, "unitCode": "C62"}


def test_update_attributes_replaces_the_scope_and_adds_types(multi: Ngsi) -> None:
    response = multi.patch(f"/entities/{EID}/attrs", json={"scope": "/Hanoi/Parks", "type": "Landmark"})
    assert response.status_code == 204
    entity = _entity(multi)
    assert entity["scope"] == "/Hanoi/Parks"
    assert entity["type"] == ["Building", "Landmark"]


def test_append_replaces_the_scope_or_with_no_overwrite_extends_it(multi: Ngsi) -> None:
    assert multi.post(f"/entities/{EID}/attrs?options=noOverwrite", json={"scope": "/A/B"}).status_code == 204
    assert _entity(multi)["scope"] == ["/Madrid/Gardens", "/A/B"]
    assert multi.post(f"/entities/{EID}/attrs", json={"scope": "/C"}).status_code == 204
    assert _entity(multi)["scope"] == "/C"


def test_delete_scope_like_an_attribute(multi: Ngsi) -> None:
    assert multi.delete(f"/entities/{EID}/attrs/scope").status_code == 204
    assert "scope" not in _entity(multi)
    assert multi.delete(f"/entities/{EID}/attrs/scope").status_code == 404


def test_partial_update_cannot_change_the_attribute_type(multi: Ngsi) -> None:
    response = multi.patch(f"/entities/{EID}/attrs/airQualityLevel",
                           json={"type": "Relationship", "object": "urn:ngsi-ld:X:1"})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/BadRequestData")


def test_update_attributes_does_not_append_missing_attributes(multi: Ngsi) -> None:
    response = multi.patch(f"/entities/{EID}/attrs", json={"height": {"value": 3}, "airQualityLevel": {"value": 2}})
    assert response.status_code == 207
    assert response.json()["notUpdated"][0]["attributeName"] == "height"
    assert "height" not in _entity(multi)


def test_a_bad_fragment_is_bad_request_data_even_for_a_missing_entity(ngsi: Ngsi) -> None:
    response = ngsi.post("/entities/urn:ngsi-ld:Building:none/attrs", json={"name": {"value": None}})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/BadRequestData")


def test_update_attributes_does_not_add_a_scope_to_an_entity_without_one(ngsi: Ngsi) -> None:
    ngsi.create({"id": EID, "type": "Building"})
    response = ngsi.patch(f"/entities/{EID}/attrs", json={"scope": "/Hanoi"})
    assert response.status_code == 207
    assert response.json()["notUpdated"][0]["attributeName"] == "scope"
    assert "scope" not in _entity(ngsi)
