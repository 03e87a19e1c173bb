"""The temporal API through HTTP: pagination (clause 6.3.10, 206 + Content-Range) and member selection."""

from __future__ import annotations

from typing import Any

import pytest

from tests.context.conftest import Ngsi

CAR = "urn:ngsi-ld:Vehicle:car1"
BUS = "urn:ngsi-ld:Vehicle:bus1"


def _series(minutes: range, start_value: int = 0) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": start_value + m, "observedAt": f"2020-01-01T01:{m:02d}:00Z"}
            for m in minutes]


@pytest.fixture
def history(app, ngsi: Ngsi) -> None:
    """A car with 20 speed readings (minutes 1-20) and 20 fuel readings (minutes 3-22); at most 10 a page."""
    app.state.settings.ngsi_ld_temporal_max_instances = 10
    response = ngsi.post("/temporal/entities", json={
        "id": CAR, "type": "Vehicle", "speed": _series(range(1, 21)), "fuelLevel": _series(range(3, 23), 100)})
    assert response.status_code == 201, response.text


def _minutes(body: dict[str, Any], attr: str) -> list[int]:
    items = body[attr] if isinstance(body[attr], list) else [body[attr]]
    return [int(i["observedAt"][14:16]) for i in items]


def test_long_history_is_answered_206_forwards_with_consistent_cut(ngsi: Ngsi, history: None) -> None:
    response = ngsi.get(f"/temporal/entities/{CAR}")
    assert response.status_code == 206, response.text
    body = response.json()
    assert _minutes(body, "speed") == list(range(1, 11))
    assert _minutes(body, "fuelLevel") == list(range(3, 11))  # cut where speed's page ends, nothing skipped
    assert response.headers["Content-Range"] == "date-time 2020-01-01T01:01:00Z-2020-01-01T01:10:00Z/*"
    rest = ngsi.get(f"/temporal/entities/{CAR}?timerel=after&timeAt=2020-01-01T01:10:00Z")
    assert rest.status_code == 206 and _minutes(rest.json(), "speed")[0] == 11 and \
        _minutes(rest.json(), "fuelLevel")[0] == 11
    assert rest.headers["Content-Range"].startswith("date-time 2020-01-01T01:10:00Z-")


def test_last_n_pages_backwards_and_names_its_size(ngsi: Ngsi, history: None) -> None:
    response = ngsi.get(f"/temporal/entities/{CAR}?lastN=15&timerel=before&timeAt=2021-01-01T00:00:00Z")
    assert response.status_code == 206, response.text
    body = response.json()
    assert _minutes(body, "fuelLevel") == list(range(13, 23))
    assert _minutes(body, "speed") == list(range(13, 21))
    assert response.headers["Content-Range"] == "date-time 2021-01-01T00:00:00Z-2020-01-01T01:13:00Z/15"


def test_attribute_whose_instances_are_all_on_later_pages_is_empty(ngsi: Ngsi, history: None) -> None:
    response = ngsi.post(f"/temporal/entities/{CAR}/attrs", json={"co2": _series(range(40, 46))})
    assert response.status_code == 204, response.text
    page = ngsi.get(f"/temporal/entities/{CAR}")
    assert page.status_code == 206 and page.json()["co2"] == [] and len(page.json()["speed"]) == 10


def test_history_within_the_limit_is_a_complete_200(ngsi: Ngsi, history: None) -> None:
    response = ngsi.get(f"/temporal/entities/{CAR}?lastN=5")
    assert response.status_code == 200 and "Content-Range" not in response.headers
    assert _minutes(response.json(), "speed") == list(range(16, 21))
    aggregated = ngsi.get(f"/temporal/entities/{CAR}?options=aggregatedValues&aggrMethods=totalCount")
    assert aggregated.status_code == 200 and aggregated.json()["speed"]["totalCount"][0][0] == 20


def test_query_and_post_query_are_paged_per_entity(ngsi: Ngsi, history: None) -> None:
    response = ngsi.post("/temporal/entities", json={"id": BUS, "type": "Vehicle", "speed": _series(range(30, 33))})
    assert response.status_code == 201, response.text
    listed = ngsi.get("/temporal/entities?type=Vehicle&options=temporalValues")
    assert listed.status_code == 206, listed.text
    by_id = {e["id"]: e for e in listed.json()}
    assert len(by_id[CAR]["speed"]["values"]) == 10 and len(by_id[BUS]["speed"]["values"]) == 3
    assert listed.headers["Content-Range"] == "date-time 2020-01-01T01:01:00Z-2020-01-01T01:32:00Z/*"
    posted = ngsi.post("/temporal/entityOperations/query", json={
        "type": "Query", "entities": [{"type": "Vehicle"}], "temporalQ": {"lastN": 3}})
    assert posted.status_code == 200, posted.text
    assert "Content-Range" not in posted.headers


# --- selection: attrs, pick/omit, datasetId, format/options -------------------------------------------------


def test_pick_and_omit_select_members_of_the_temporal_representation(ngsi: Ngsi, history: None) -> None:
    picked = ngsi.get(f"/temporal/entities/{CAR}?pick=id,speed&lastN=1")
    assert picked.status_code == 200 and set(picked.json()) == {"id", "speed"}
    omitted = ngsi.get(f"/temporal/entities/{CAR}?omit=type,speed&lastN=1").json()
    assert set(omitted) == {"id", "fuelLevel"}
    listed = ngsi.get("/temporal/entities?type=Vehicle&pick=fuelLevel&lastN=1").json()
    assert [set(e) for e in listed] == [{"fuelLevel"}]
    for query, kind in (("pick=speed&omit=fuelLevel", "BadRequestData"), ("attrs=speed&pick=speed", "BadRequestData")):
        refused = ngsi.get(f"/temporal/entities/{CAR}?{query}")
        assert refused.status_code == 400 and refused.json()["type"].endswith(kind)


def test_nothing_left_to_show_is_404(ngsi: Ngsi, history: None) -> None:
    for query in ("pick=unknown", "omit=id,type,speed,fuelLevel", "attrs=unknown"):
        response = ngsi.get(f"/temporal/entities/{CAR}?{query}")
        assert response.status_code == 404 and response.json()["type"].endswith("ResourceNotFound"), query


def test_dataset_id_selects_instances(ngsi: Ngsi) -> None:
    response = ngsi.post("/temporal/entities", json={"id": BUS, "type": "Vehicle", "speed": [
        {"type": "Property", "value": 1, "observedAt": "2020-01-01T01:00:00Z"},
        {"type": "Property", "value": 2, "observedAt": "2020-01-01T01:00:00Z", "datasetId": "urn:ngsi-ld:Dataset:gps"},
    ]})
    assert response.status_code == 201, response.text
    gps = ngsi.get("/temporal/entities?type=Vehicle&datasetId=urn:ngsi-ld:Dataset:gps").json()
    assert [i["value"] for i in gps[0]["speed"]] == [2]
    default = ngsi.get("/temporal/entities?type=Vehicle&datasetId=@none&local=true").json()
    assert [i["value"] for i in default[0]["speed"]] == [1]


def test_format_wins_over_options_and_unknown_values_are_invalid_requests(ngsi: Ngsi, history: None) -> None:
    both = ngsi.get(f"/temporal/entities/{CAR}?format=temporalValues&options=aggregatedValues&lastN=1")
    assert both.status_code == 200 and both.json()["speed"]["values"] == [[20, "2020-01-01T01:20:00Z"]]
    for query in ("format=fancy", "options=fancy", "options=temporalValues,fancy"):
        refused = ngsi.get(f"/temporal/entities?type=Vehicle&{query}")
        assert refused.status_code == 400 and refused.json()["type"].endswith("InvalidRequest"), query


def test_deleted_at_time_property_lists_deletions_as_null(ngsi: Ngsi) -> None:
    ngsi.create({"id": BUS, "type": "Vehicle", "speed": {"type": "Property", "value": 3},
                 "parkedIn": {"type": "Relationship", "object": "urn:ngsi-ld:Parking:p1"},
                 "label": {"type": "LanguageProperty", "languageMap": {"vi": "Xe buýt"}}})
    for attr in ("speed", "parkedIn", "label"):
        assert ngsi.delete(f"/entities/{BUS}/attrs/{attr}").status_code == 204
    body = ngsi.get(f"/temporal/entities/{BUS}?timeproperty=deletedAt").json()
    assert body["speed"][0]["value"] == "urn:ngsi-ld:null" and body["speed"][0]["deletedAt"].endswith("Z")
    assert body["parkedIn"][0]["object"] == "urn:ngsi-ld:null"
    assert body["label"][0]["languageMap"] == {"@none": "urn:ngsi-ld:null"}
    simplified = ngsi.get(f"/temporal/entities/{BUS}?timeproperty=deletedAt&options=temporalValues").json()
    assert simplified["parkedIn"]["objects"][0][0] == "urn:ngsi-ld:null"
    before = ngsi.get(f"/temporal/entities/{BUS}?timeproperty=deletedAt&timerel=before&timeAt=2000-01-01T00:00:00Z")
    assert before.status_code == 200 and "speed" not in before.json()


def test_query_answers_only_entities_with_instances_in_the_range(ngsi: Ngsi, history: None) -> None:
    response = ngsi.post("/temporal/entities", json={"id": BUS, "type": "Vehicle", "speed": _series(range(30, 33))})
    assert response.status_code == 201, response.text
    late = ngsi.get("/temporal/entities?type=Vehicle&timerel=after&timeAt=2020-01-01T01:25:00Z").json()
    assert [e["id"] for e in late] == [BUS]
    ids_only = ngsi.get("/temporal/entities?type=Vehicle&timerel=after&timeAt=2020-01-01T01:25:00Z&pick=id").json()
    assert ids_only == [{"id": BUS}]
    retrieved = ngsi.get(f"/temporal/entities/{CAR}?timerel=after&timeAt=2021-01-01T00:00:00Z")
    assert retrieved.status_code == 200 and retrieved.json() == {"id": CAR, "type": "Vehicle"}


def test_invalid_instance_ids_and_dot_segment_names_are_400(ngsi: Ngsi, history: None) -> None:
    instance = ngsi.get(f"/temporal/entities/{CAR}?lastN=1").json()["speed"][0]["instanceId"]
    assert ngsi.delete(f"/temporal/entities/{CAR}/attrs/speed/not-a-uri").status_code == 400
    assert ngsi.patch(f"/temporal/entities/{CAR}/attrs/speed/not-a-uri",
                      json={"speed": {"type": "Property", "value": 1}}).status_code == 400
    for name in ("%252e%252e", "%252e"):
        response = ngsi.delete(f"/temporal/entities/{CAR}/attrs/{name}")
        assert response.status_code == 400 and response.json()["type"].endswith("BadRequestData"), name
    assert ngsi.delete(f"/temporal/entities/{CAR}/attrs/speed/{instance}").status_code == 204
    assert _minutes(ngsi.get(f"/temporal/entities/{CAR}?lastN=1").json(), "speed") == [19]


def test_updating_a_temporal_representation_replaces_instances_of_the_same_instant(ngsi: Ngsi) -> None:
    first = [{"type": "Property", "value": 120, "observedAt": "2020-09-01T12:03:00Z"},
             {"type": "Property", "value": 80, "observedAt": "2020-09-01T12:05:00Z"}]
    assert ngsi.post("/temporal/entities", json={"id": BUS, "type": "Vehicle", "speed": first}).status_code == 201
    again = [{"type": "Property", "value": 121, "observedAt": "2020-09-01T12:03:00Z"},
             {"type": "Property", "value": 100, "observedAt": "2020-09-01T12:07:00Z"}]
    assert ngsi.post("/temporal/entities", json={"id": BUS, "type": "Vehicle", "speed": again}).status_code == 204
    speeds = ngsi.get(f"/temporal/entities/{BUS}").json()["speed"]
    assert [(i["observedAt"], i["value"]) for i in speeds] == [
        ("2020-09-01T12:03:00Z", 121), ("2020-09-01T12:05:00Z", 80), ("2020-09-01T12:07:00Z", 100)]
