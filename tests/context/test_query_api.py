"""GET /entities and POST /entityOperations/query: filters, q, geo-queries, paging, limits."""

from __future__ import annotations

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.context.conftest import Ngsi


def _lamps(ngsi: Ngsi, count: int) -> list[str]:
    body = [{"id": f"urn:ngsi-ld:Streetlight:{i:03d}", "type": "Streetlight",
             "power": {"type": "Property", "value": i * 10},
             "status": {"type": "Property", "value": "on" if i % 2 else "off"},
             "location": {"type": "GeoProperty",
                          "value": {"type": "Point", "coordinates": [106.60 + i * 0.001, 10.90]}}}
            for i in range(count)]
    response = ngsi.post("/entityOperations/create", json=body)
    assert response.status_code == 201, response.text
    return [e["id"] for e in body]


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()]


def test_a_query_needs_a_filter(ngsi: Ngsi) -> None:
    response = ngsi.get("/entities")
    assert response.status_code == 400
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


def test_type_id_id_pattern_and_attrs(ngsi: Ngsi) -> None:
    ids = _lamps(ngsi, 5)
    ngsi.create({"id": "urn:ngsi-ld:Cabinet:1", "type": "Cabinet", "power": {"value": 1}})
    assert _ids(ngsi.get("/entities?type=Streetlight")) == ids
    assert _ids(ngsi.get(f"/entities?type=Streetlight&id={ids[1]},{ids[3]}")) == [ids[1], ids[3]]
    assert _ids(ngsi.get("/entities?type=Streetlight&idPattern=Streetlight:00[24]")) == [ids[2], ids[4]]
    # ids select within types (an EntitySelector needs a type): ids alone are not a query (TP 019_03_05)
    assert ngsi.get(f"/entities?id={ids[1]}").status_code == 400
    assert _ids(ngsi.get("/entities?attrs=power&limit=100")) == [*ids, "urn:ngsi-ld:Cabinet:1"]
    assert _ids(ngsi.get("/entities?type=Nothing")) == []


def test_type_expressions(ngsi: Ngsi) -> None:
    ngsi.create({"id": "urn:ngsi-ld:X:1", "type": ["A", "B"]})
    ngsi.create({"id": "urn:ngsi-ld:X:2", "type": "A"})
    ngsi.create({"id": "urn:ngsi-ld:X:3", "type": "C"})
    assert _ids(ngsi.get("/entities?type=A,C")) == ["urn:ngsi-ld:X:1", "urn:ngsi-ld:X:2", "urn:ngsi-ld:X:3"]
    assert _ids(ngsi.get("/entities?type=A|C")) == ["urn:ngsi-ld:X:1", "urn:ngsi-ld:X:2", "urn:ngsi-ld:X:3"]
    assert _ids(ngsi.get("/entities?type=A;B")) == ["urn:ngsi-ld:X:1"]
    assert _ids(ngsi.get("/entities?type=(A;B)|C")) == ["urn:ngsi-ld:X:1", "urn:ngsi-ld:X:3"]
    assert ngsi.get("/entities?type=(A;B").status_code == 400


def test_q_filters_end_to_end(ngsi: Ngsi) -> None:
    ids = _lamps(ngsi, 10)
    assert _ids(ngsi.get("/entities?type=Streetlight&q=power>=70")) == ids[7:]
    assert _ids(ngsi.get("/entities?type=Streetlight&q=power==20..40;status==%22on%22")) == [ids[3]]
    assert _ids(ngsi.get("/entities?q=status==%22off%22|power==90")) == [ids[0], ids[2], ids[4], ids[6], ids[8],
                                                                          ids[9]]
    assert _ids(ngsi.get("/entities?type=Streetlight&q=!power")) == []
    bad = ngsi.get("/entities?type=Streetlight&q=power>>1")
    assert bad.status_code == 400
    assert bad.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


def test_geo_queries_end_to_end(ngsi: Ngsi) -> None:
    ids = _lamps(ngsi, 10)
    near = ngsi.get("/entities?type=Streetlight&georel=near;maxDistance==250&geometry=Point"
                    "&coordinates=[106.600,10.900]")
    assert _ids(near) == ids[:3]
    within = ngsi.get("/entities?type=Streetlight&georel=within&geometry=Polygon"
                      "&coordinates=[[[106.6045,10.89],[106.6075,10.89],[106.6075,10.91],[106.6045,10.91],"
                      "[106.6045,10.89]]]")
    assert _ids(within) == ids[5:8]
    assert ngsi.get("/entities?type=Streetlight&georel=within&geometry=Point").status_code == 400


def test_paging_with_count_and_too_many_results(ngsi: Ngsi) -> None:
    ids = _lamps(ngsi, 25)
    first = ngsi.get("/entities?type=Streetlight&count=true")
    assert first.headers["NGSILD-Results-Count"] == "25"
    assert _ids(first) == ids[:20]  # default limit 20
    assert _ids(ngsi.get("/entities?type=Streetlight&offset=20&limit=10")) == ids[20:]
    only_count = ngsi.get("/entities?type=Streetlight&count=true&limit=0")
    assert only_count.json() == [] and only_count.headers["NGSILD-Results-Count"] == "25"
    filtered = ngsi.get("/entities?type=Streetlight&q=status==%22on%22&count=true&limit=5&offset=5")
    assert filtered.headers["NGSILD-Results-Count"] == "12" and _ids(filtered) == ids[11:20:2]
    too_many = ngsi.get("/entities?type=Streetlight&limit=1001")
    assert too_many.status_code == 403
    assert too_many.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/TooManyResults"
    assert ngsi.get("/entities?type=Streetlight&limit=-1").status_code == 400
    assert ngsi.get("/entities?type=Streetlight&limit=abc").status_code == 400


def test_max_limit_is_a_setting(app, ngsi: Ngsi) -> None:
    app.state.settings.ngsi_ld_max_limit = 5
    _lamps(ngsi, 3)
    assert ngsi.get("/entities?type=Streetlight&limit=6").status_code == 403
    assert ngsi.get("/entities?type=Streetlight&limit=5").status_code == 200


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=st.integers(min_value=1, max_value=40), with_q=st.booleans())
def test_paging_returns_each_entity_exactly_once(ngsi: Ngsi, page: int, with_q: bool) -> None:
    existing = _ids(ngsi.get("/entities?type=Streetlight&limit=1000"))
    ids = existing or _lamps(ngsi, 37)
    query = "/entities?type=Streetlight" + ("&q=power>=0" if with_q else "")
    seen: list[str] = []
    offset = 0
    while True:
        response = ngsi.get(f"{query}&limit={page}&offset={offset}&count=true")
        assert response.headers["NGSILD-Results-Count"] == str(len(ids))
        batch = _ids(response)
        if not batch:
            break
        seen += batch
        offset += page
    assert seen == ids


def test_post_query(ngsi: Ngsi) -> None:
    ids = _lamps(ngsi, 6)
    body = {"type": "Query", "entities": [{"type": "Streetlight"}], "q": "power>30",
            "geoQ": {"georel": "near;maxDistance==3000", "geometry": "Point", "coordinates": [106.6, 10.9]},
            "attrs": ["power"]}
    response = ngsi.post("/entityOperations/query?count=true", json=body)
    assert _ids(response) == ids[4:]
    assert response.headers["NGSILD-Results-Count"] == "2"
    assert set(response.json()[0]) == {"id", "type", "power"}
    assert ngsi.post("/entityOperations/query", json={"entities": []}).status_code == 400


def test_several_equality_terms_select_exactly_the_entities_meeting_all_of_them(ngsi: Ngsi) -> None:
    # Each equality term beyond the first is checked in SQL on every candidate (saola.context.query._hint_probe):
    # texts, numbers, lists, multi-attribute instances and URIs (compacted or not) must answer as the exact filter.
    body = [{"id": f"urn:ngsi-ld:Streetlight:{i:03d}", "type": "Streetlight",
             "power": {"type": "Property", "value": i % 4},
             "status": {"type": "Property", "value": "on" if i % 2 else "off"},
             "tags": {"type": "Property", "value": ["a", "b"] if i % 3 == 0 else ["c"]},
             "lux": [{"type": "Property", "value": i % 5, "datasetId": "urn:ngsi-ld:Dataset:a"},
                     {"type": "Property", "value": 9}]}
            for i in range(24)]
    assert ngsi.post("/entityOperations/create", json=body).status_code == 201

    def expected(test) -> list[str]:
        return [e["id"] for i, e in enumerate(body) if test(i)]

    query = "/entities?type=Streetlight&limit=100&q="
    assert _ids(ngsi.get(query + 'power==1;status=="on"')) == expected(lambda i: i % 4 == 1)
    assert _ids(ngsi.get(query + 'status=="on";power==2')) == []
    assert _ids(ngsi.get(query + 'status=="off";power==2,0;tags=="a"')) == expected(
        lambda i: i % 2 == 0 and i % 4 in (0, 2) and i % 3 == 0)
    assert _ids(ngsi.get(query + 'power==3;lux==4')) == expected(lambda i: i % 4 == 3 and i % 5 == 4)
    assert _ids(ngsi.get(query + 'power==0;lux==9')) == expected(lambda i: i % 4 == 0)
    assert _ids(ngsi.get(query + 'power==0;status=="on"')) == []
    assert _ids(ngsi.get(query + 'power==1;(status=="on"|status=="off")')) == expected(lambda i: i % 4 == 1)
    paged = [_ids(ngsi.get(f"/entities?type=Streetlight&q=status==%22on%22;power==1,3&limit=2&offset={k}"))
             for k in range(0, 12, 2)]
    assert [i for page in paged for i in page] == expected(lambda i: i % 2 == 1)
