"""Linked entity retrieval (join, joinLevel) and pick/omit projections with linked entities (4.5.23, 4.21)."""

from __future__ import annotations

import pytest

from tests.context.conftest import Ngsi

BUILDING = "urn:ngsi-ld:Building:B1"
CITY = "urn:ngsi-ld:City:Paris"
COUNTRY = "urn:ngsi-ld:Country:France"


@pytest.fixture
def linked(ngsi: Ngsi) -> Ngsi:
    ngsi.create({"id": BUILDING, "type": "Building", "name": {"value": "Tour"},
                 "locatedAt": {"type": "Relationship", "object": CITY}})
    ngsi.create({"id": CITY, "type": "City", "name": {"value": "Paris"}, "description": {"value": "capital"},
                 "isInCountry": {"type": "Relationship", "object": COUNTRY}})
    ngsi.create({"id": COUNTRY, "type": "Country", "name": {"value": "France"},
                 "description": {"value": "a country"}})
    return ngsi


def test_join_inline_puts_the_linked_entity_in_the_relationship(linked: Ngsi) -> None:
    body = linked.get(f"/entities/{BUILDING}?join=inline&pick=id,locatedAt").json()
    assert body == {"id": BUILDING, "locatedAt": {
        "type": "Relationship", "object": CITY,
        "entity": {"id": CITY, "type": "City", "name": {"type": "Property", "value": "Paris"},
                   "description": {"type": "Property", "value": "capital"},
                   "isInCountry": {"type": "Relationship", "object": COUNTRY}}}}


def test_join_inline_key_values_replaces_the_object_id_by_the_entity(linked: Ngsi) -> None:
    body = linked.get(f"/entities/{BUILDING}?join=inline&joinLevel=2&options=keyValues"
                      "&pick=id,locatedAt{id,isInCountry{id,type}}").json()
    assert body == {"id": BUILDING, "locatedAt": {"id": CITY, "isInCountry": {"id": COUNTRY, "type": "Country"}}}


def test_join_flat_answers_the_linked_entities_next_to_the_entity(linked: Ngsi) -> None:
    body = linked.get(f"/entities/{BUILDING}?join=flat&joinLevel=2&options=keyValues").json()
    assert [e["id"] for e in body] == [BUILDING, CITY, COUNTRY]
    assert body[0]["locatedAt"] == CITY


def test_join_flat_without_linked_entity_answers_the_entity_alone(ngsi: Ngsi) -> None:
    ngsi.create({"id": BUILDING, "type": "Building", "locatedAt": {"type": "Relationship", "object": CITY}})
    body = ngsi.get(f"/entities/{BUILDING}?join=flat").json()
    assert body["id"] == BUILDING


def test_join_level_limits_how_deep_links_are_followed(linked: Ngsi) -> None:
    one = linked.get(f"/entities/{BUILDING}?join=flat&joinLevel=1").json()
    assert [e["id"] for e in one] == [BUILDING, CITY]


def test_query_with_join_flat_adds_each_linked_entity_once(linked: Ngsi) -> None:
    linked.create({"id": "urn:ngsi-ld:Building:B2", "type": "Building",
                   "locatedAt": {"type": "Relationship", "object": CITY}})
    body = linked.get("/entities?type=Building&join=flat&pick=id,locatedAt").json()
    assert sorted(e["id"] for e in body) == sorted([BUILDING, "urn:ngsi-ld:Building:B2", CITY])


def test_post_query_takes_join_from_the_body(linked: Ngsi) -> None:
    body = linked.post("/entityOperations/query?options=keyValues", json={
        "type": "Query", "entities": [{"type": "Building"}], "join": "inline"}).json()
    assert body[0]["locatedAt"]["id"] == CITY


def test_omit_with_braces_projects_the_linked_entity_and_keeps_the_relationship(linked: Ngsi) -> None:
    body = linked.get(f"/entities/{BUILDING}?join=inline&joinLevel=2"
                      "&omit=type,name,locatedAt{name,isInCountry{description}}").json()
    assert set(body) == {"id", "locatedAt"}
    city = body["locatedAt"]["entity"]
    assert "name" not in city and "description" in city
    assert set(city["isInCountry"]["entity"]) == {"id", "type", "name"}


@pytest.mark.parametrize("pick", ["id,locatedAt{name", "id,locatedAt{{name}", "id,,name", "id,locatedAt{,name}",
                                  "id,locatedAt{}", "id;name", "name}"])
def test_malformed_pick_is_bad_request_data(linked: Ngsi, pick: str) -> None:
    response = linked.get(f"/entities/{BUILDING}", params={"pick": pick})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/BadRequestData")


def test_pick_or_omit_with_attrs_is_bad_request_data(linked: Ngsi) -> None:
    assert linked.get(f"/entities/{BUILDING}?pick=name&attrs=name").status_code == 400
    assert linked.get(f"/entities/{BUILDING}?omit=name&attrs=name").status_code == 400


def test_invalid_join_or_join_level_is_bad_request_data(linked: Ngsi) -> None:
    assert linked.get(f"/entities/{BUILDING}?join=deep").status_code == 400
    assert linked.get(f"/entities/{BUILDING}?join=flat&joinLevel=0").status_code == 400


def test_retrieve_with_nothing_left_after_pick_or_omit_is_404(linked: Ngsi) -> None:
    assert linked.get(f"/entities/{BUILDING}?pick=unknown").status_code == 404
    assert linked.get(f"/entities/{BUILDING}?omit=id,type,name,locatedAt").status_code == 404


def test_query_leaves_out_entities_with_nothing_left_after_pick(linked: Ngsi) -> None:
    linked.create({"id": "urn:ngsi-ld:Building:B3", "type": "Building"})
    body = linked.get("/entities?type=Building&pick=name").json()
    assert body == [{"name": {"type": "Property", "value": "Tour"}}]
