"""Context source registrations and their discovery (clauses 5.9, 5.10, 6.8, 6.9) through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.context.conftest import Ngsi, link

SUITE = "https://ngsi-ld-test-suite/context#"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
USER_CONTEXT = {"@context": {"Streetlight": "https://saola.city/ns#Streetlight",
                             "powerState": "https://saola.city/ns#powerState",
                             "maker": "https://saola.city/ns#maker"}}


def registration(reg_id: str | None = "urn:ngsi-ld:ContextSourceRegistration:r1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": "Streetlight"}], "propertyNames": ["powerState"]}],
        "endpoint": "http://lamps.bn.example/ngsi-ld",
        **extra,
    }
    if reg_id is not None:
        body["id"] = reg_id
    return body


def create(ngsi: Ngsi, body: dict[str, Any], **kw: Any) -> str:
    response = ngsi.post("/csourceRegistrations", json=body, **kw)
    assert response.status_code == 201, response.text
    assert response.content == b""
    return response.headers["location"].rsplit("/", 1)[1]


def test_create_retrieve_update_delete(ngsi: Ngsi) -> None:
    reg_id = create(ngsi, registration(registrationName="Bắc Ninh lamps", maker="Rạng Đông",
                                       location={"type": "Point", "coordinates": [106.07, 21.18]},
                                       observationInterval={"startAt": "2026-01-01T00:00:00Z"},
                                       mode="exclusive", operations=["retrieveOps"]))
    assert reg_id == "urn:ngsi-ld:ContextSourceRegistration:r1"
    body = ngsi.get(f"/csourceRegistrations/{reg_id}").json()
    assert body == {
        "id": reg_id, "type": "ContextSourceRegistration", "registrationName": "Bắc Ninh lamps",
        "information": [{"entities": [{"type": "Streetlight"}], "propertyNames": ["powerState"]}],
        "observationInterval": {"startAt": "2026-01-01T00:00:00Z"},
        "location": {"type": "Point", "coordinates": [106.07, 21.18]},
        "endpoint": "http://lamps.bn.example/ngsi-ld", "mode": "exclusive", "operations": ["retrieveOps"],
        "maker": "Rạng Đông",
    }
    assert ngsi.patch(f"/csourceRegistrations/{reg_id}",
                      json={"endpoint": "http://lamps2.bn.example", "maker": None}).status_code == 204
    body = ngsi.get(f"/csourceRegistrations/{reg_id}?options=sysAttrs").json()
    assert body["endpoint"] == "http://lamps2.bn.example" and "maker" not in body
    assert body["registrationName"] == "Bắc Ninh lamps" and body["createdAt"] <= body["modifiedAt"]
    assert ngsi.delete(f"/csourceRegistrations/{reg_id}").status_code == 204
    assert ngsi.get(f"/csourceRegistrations/{reg_id}").status_code == 404
    missing = ngsi.delete(f"/csourceRegistrations/{reg_id}")
    assert missing.status_code == 404 and missing.json()["type"].endswith("/ResourceNotFound")
    assert ngsi.patch(f"/csourceRegistrations/{reg_id}", json={"endpoint": "http://x.example"}).status_code == 404


def test_generated_id_and_defaults(ngsi: Ngsi) -> None:
    reg_id = create(ngsi, registration(None))
    assert reg_id.startswith("urn:ngsi-ld:ContextSourceRegistration:")
    body = ngsi.get(f"/csourceRegistrations/{reg_id}").json()
    assert body["mode"] == "inclusive" and body["operations"] == ["federationOps"]


def test_duplicate_id_is_409(ngsi: Ngsi) -> None:
    create(ngsi, registration())
    response = ngsi.post("/csourceRegistrations", json=registration())
    assert response.status_code == 409 and response.json()["type"].endswith("/AlreadyExists")


@pytest.mark.parametrize("body", [
    {"type": "ContextSourceRegistration", "endpoint": "http://a.example"},  # no information
    registration(information=[]),
    registration(information=None),
    registration(information=[{}]),
    registration(information=[{"entities": [{"id": "urn:ngsi-ld:Streetlight:1"}]}]),  # no type
    registration(information=[{"entities": [{"type": "Streetlight", "idPattern": "(["}]}]),
    registration(information=[{"entities": [{"type": "Streetlight", "id": "not a uri"}]}]),
    registration(information=[{"propertyNames": "powerState"}]),
    registration(information=[{"colour": ["red"]}]),
    registration(endpoint=None),
    registration(endpoint="not-a-uri"),
    registration(type="Building"),
    registration(expiresAt="2000-01-01T00:00:00Z"),
    registration(expiresAt=" 2018-11-29T14:53:15Z"),
    registration(mode="sometimes"),
    registration(operations=["teleport"]),
    registration(operations=[]),
    registration(location={"type": "Point", "coordinates": [200, 100]}),
    registration(observationSpace={"type": "Polygon", "coordinates": [[[1, 2]]]}),
    registration(observationInterval={"endAt": "2026-01-01T00:00:00Z"}),
    registration(managementInterval={"startAt": "2026-02-01T00:00:00Z", "endAt": "2026-01-01T00:00:00Z"}),
    registration(contextSourceInfo=[{"key": "a"}]),
    registration(scope="no spaces allowed"),
    registration(registrationName=5),
    registration("not-a-uri"),
    ["a", "list"],
])
def test_invalid_registrations_are_bad_request_data(ngsi: Ngsi, body: Any) -> None:
    response = ngsi.post("/csourceRegistrations", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/BadRequestData")


def test_bad_requests(ngsi: Ngsi) -> None:
    reg_id = create(ngsi, registration())
    assert ngsi.get("/csourceRegistrations/invalidUri").status_code == 400
    assert ngsi.delete("/csourceRegistrations/invalidUri").json()["type"].endswith("/BadRequestData")
    removing = ngsi.patch(f"/csourceRegistrations/{reg_id}", json={"information": None})
    assert removing.status_code == 400 and "mandatory" in removing.json()["detail"]
    assert ngsi.patch(f"/csourceRegistrations/{reg_id}", json={"type": "Building"}).status_code == 400
    assert ngsi.patch(f"/csourceRegistrations/{reg_id}", json={"id": "urn:x:other"}).status_code == 400
    assert ngsi.patch(f"/csourceRegistrations/{reg_id}", json={}).status_code == 400
    bad_json = ngsi.patch(f"/csourceRegistrations/{reg_id}", content=b'{"endpoint":,}',
                          headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["type"].endswith("/InvalidRequest")
    assert ngsi.post("/csourceRegistrations", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    assert ngsi.get("/csourceRegistrations?type=Streetlight&unknown=1").json()["type"].endswith("/InvalidRequest")


def test_expires_at_can_be_removed_and_expired_registrations_are_not_discovered(ngsi: Ngsi) -> None:
    reg_id = create(ngsi, registration(expiresAt="2099-01-01T00:00:00Z"))
    assert ngsi.patch(f"/csourceRegistrations/{reg_id}", json={"expiresAt": None}).status_code == 204
    assert "expiresAt" not in ngsi.get(f"/csourceRegistrations/{reg_id}").json()
    assert ngsi.patch(f"/csourceRegistrations/{reg_id}",
                      json={"expiresAt": "2001-01-01T00:00:00Z"}).status_code == 400


def test_terms_follow_the_request_context(ngsi: Ngsi, suite_link: str) -> None:
    body = registration(information=[{"entities": [{"type": "Building"}], "propertyNames": ["name"]}])
    create(ngsi, body, headers={"Link": suite_link})
    compact = ngsi.get("/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1",
                       headers={"Link": suite_link}).json()
    assert compact["information"] == [{"entities": [{"type": "Building"}], "propertyNames": ["name"]}]
    expanded = ngsi.get("/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1").json()
    assert expanded["information"][0]["entities"][0]["type"] == SUITE + "Building"
    assert expanded["information"][0]["propertyNames"] == [SUITE + "name"]
    # without a context the default vocabulary applies; shown with another context as a compact IRI
    create(ngsi, registration("urn:ngsi-ld:ContextSourceRegistration:r2",
                              information=[{"entities": [{"type": "Building"}]}]))
    other = ngsi.get("/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r2",
                     headers={"Link": suite_link}).json()
    assert other["information"][0]["entities"][0]["type"] == "ngsi-ld:default-context/Building"


def test_ld_json_bodies_and_answers(ngsi: Ngsi) -> None:
    url = ngsi.register_context(USER_CONTEXT)
    reg_id = create(ngsi, {**registration(None), "@context": url},
                    headers={"Content-Type": "application/ld+json"})
    answer = ngsi.get(f"/csourceRegistrations/{reg_id}", headers={"Accept": "application/ld+json", "Link": link(url)})
    assert answer.headers["content-type"] == "application/ld+json" and answer.json()["@context"] == url
    assert answer.json()["information"][0]["propertyNames"] == ["powerState"]
    plain = ngsi.get(f"/csourceRegistrations/{reg_id}").json()
    assert plain["information"][0]["entities"][0]["type"] == "https://saola.city/ns#Streetlight"
    both = ngsi.post("/csourceRegistrations", json={**registration("urn:x:2"), "@context": url},
                     headers={"Content-Type": "application/ld+json", "Link": link(url)})
    assert both.status_code == 400
    no_context = ngsi.post("/csourceRegistrations", json=registration("urn:x:3"),
                           headers={"Content-Type": "application/ld+json"})
    assert no_context.status_code == 400
    in_json = ngsi.post("/csourceRegistrations", json={**registration("urn:x:4"), "@context": url})
    assert in_json.status_code == 400


def test_accept_header(ngsi: Ngsi) -> None:
    reg_id = create(ngsi, registration())
    anything = ngsi.get("/csourceRegistrations?type=Streetlight", headers={"Accept": "*/*"})
    assert anything.status_code == 200 and anything.headers["content-type"] == "application/json"
    assert "json-ld#context" in anything.headers["link"]
    for path in ("/csourceRegistrations?type=Streetlight", f"/csourceRegistrations/{reg_id}"):
        assert ngsi.get(path, headers={"Accept": "application/geo+json"}).status_code == 406
        assert ngsi.get(path, headers={"Accept": "text/html"}).status_code == 406


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


def test_discovery_filters(ngsi: Ngsi, suite_link: str) -> None:
    headers = {"Link": suite_link}
    create(ngsi, registration("urn:r:vehicles", information=[
        {"entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:A456"}], "propertyNames": ["speed"]},
        {"entities": [{"type": "OffStreetParking", "idPattern": ".*downtown$"}]}]), headers=headers)
    create(ngsi, registration("urn:r:buildings", information=[
        {"entities": [{"type": "Building"}], "propertyNames": ["name"], "relationshipNames": ["locatedAt"]}],
        location={"type": "Point", "coordinates": [-8.521, 41.2]},
        managementInterval={"startAt": "2020-08-01T22:07:00Z", "endAt": "2021-08-01T21:07:00Z"},
        csourceProperty1="aValue"), headers=headers)
    create(ngsi, registration("urn:r:any-entity", information=[{"propertyNames": ["name"]}]), headers=headers)

    def query(params: str) -> list[str]:
        return _ids(ngsi.get(f"/csourceRegistrations?{params}", headers=headers))

    assert query("type=Building") == ["urn:r:buildings", "urn:r:any-entity"]
    assert query("type=Vehicle,Building&attrs=speed") == ["urn:r:vehicles"]
    # the OffStreetParking item of urn:r:vehicles names no attributes: it provides all of them
    assert query("attrs=locatedAt") == ["urn:r:vehicles", "urn:r:buildings"]
    assert query("id=urn:ngsi-ld:Vehicle:B1") == ["urn:r:buildings", "urn:r:any-entity"]
    assert query("id=urn:ngsi-ld:Vehicle:A456&type=Vehicle") == ["urn:r:vehicles", "urn:r:any-entity"]
    assert query("type=OffStreetParking&id=urn:p:downtown") == ["urn:r:vehicles", "urn:r:any-entity"]
    assert query("type=Vehicle&idPattern=.*B$") == ["urn:r:any-entity"]
    assert query('q=csourceProperty1=="aValue"') == ["urn:r:buildings"]
    assert query('csf=csourceProperty1=="other"') == []
    assert query("georel=near;maxDistance==2000&geometry=Point&coordinates=[-8.503,41.202]") == ["urn:r:buildings"]
    assert query("georel=near;maxDistance==20&geometry=Point&coordinates=[-8.503,41.202]") == []
    assert query("type=Building&timeproperty=createdAt&timerel=before&timeAt=2021-08-01T22:00:00Z") == [
        "urn:r:buildings"]
    assert query("type=Building&timeproperty=modifiedAt&timerel=after&timeAt=2021-08-01T22:00:00Z") == []
    for bad in ("", "id=invalidUri", "q=(invalid", "georel=within", "timerel=before", "type=Building&limit=-1",
                "type=Building&timerel=between&timeAt=2021-01-01T00:00:00Z",
                "type=Building&georel=near;maxDistance==1&geometry=Point&coordinates=[1,2]&geoproperty=height",
                "idPattern=([", "type=Building&options=keyValues"):
        response = ngsi.get(f"/csourceRegistrations?{bad}", headers=headers)
        assert response.status_code == 400, bad
        assert response.json()["type"].endswith(("/BadRequestData", "/InvalidRequest")), bad


def test_paging_count_and_links(ngsi: Ngsi) -> None:
    for n in range(3):
        create(ngsi, registration(f"urn:r:{n}"))
    first = ngsi.get("/csourceRegistrations?type=Streetlight&limit=1&count=true")
    assert _ids(first) == ["urn:r:0"] and first.headers["NGSILD-Results-Count"] == "3"
    assert ('</ngsi-ld/v1/csourceRegistrations?type=Streetlight&count=true&limit=1&offset=1>; rel="next"'
            in first.headers["link"])
    last = ngsi.get("/csourceRegistrations?type=Streetlight&limit=2&offset=2")
    assert _ids(last) == ["urn:r:2"]
    assert '</ngsi-ld/v1/csourceRegistrations?type=Streetlight&limit=2&offset=0>; rel="prev"' in last.headers["link"]
    assert 'rel="next"' not in last.headers["link"]
    assert "NGSILD-Results-Count" not in last.headers


def test_tenants_are_isolated(ngsi: Ngsi) -> None:
    create(ngsi, registration(), headers={"NGSILD-Tenant": "bacninh"})
    assert ngsi.get("/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1").status_code == 404
    assert _ids(ngsi.get("/csourceRegistrations?type=Streetlight")) == []
    found = ngsi.get("/csourceRegistrations?type=Streetlight", headers={"NGSILD-Tenant": "bacninh"})
    assert _ids(found) == ["urn:ngsi-ld:ContextSourceRegistration:r1"]
    create(ngsi, registration())  # the same id in another tenant is another registration


def test_reads_and_writes_need_their_scopes(client: Any, token: Any) -> None:
    reader = Ngsi(client, {"Authorization": f"Bearer {token('admin', scopes=['context:read'])}"})
    assert reader.get("/csourceRegistrations?type=Streetlight").status_code == 200
    assert reader.post("/csourceRegistrations", json=registration()).status_code == 403
    anonymous = Ngsi(client)
    assert anonymous.get("/csourceRegistrations?type=Streetlight").status_code == 401
    assert anonymous.post("/csourceSubscriptions", json={}).status_code == 401
