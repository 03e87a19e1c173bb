"""Garbage never produces a 500 on the NGSI-LD API, and failed requests change nothing."""

from __future__ import annotations

import json

from tests.context.conftest import Ngsi, building
from tests.core.helpers import db_snapshot, snapshot_diff

BODIES: list[bytes] = [
    b"", b"{", b"null", b"[]", b"[{}]", b'"x"', b"1e999", b"[" * 3000 + b"]" * 3000, b'{"id": "\\ud800"}',
    json.dumps({"id": "urn:a:1", "type": "T", "a": {"value": {"x": [None] * 3}}}).encode(),
    json.dumps({"id": "urn:a:1", "type": "T", "a": {"type": "Property", "value": 1e308 * 10}}).encode(),
    json.dumps({"id": "urn:a:1", "type": ["T", None]}).encode(),
    json.dumps({"id": "urn:a:1", "type": "T", "a": [{"value": 1, "datasetId": 5}]}).encode(),
    json.dumps({"id": "urn:a:1", "type": "T", "location": {"type": "GeoProperty", "value": {
        "type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}}).encode(),
    json.dumps({"id": "urn:a:" + "x" * 5000, "type": "T"}).encode(),
    json.dumps({"id": "urn:a:1", "type": "T", "a\x00b": {"value": 1}}).encode(),
    json.dumps({"id": "urn:a:1", "type": "T", "@context": 5}).encode(),
    json.dumps({"id": "urn:a:1", "type": "T", "a": {"value": "x\u0000y", "unitCode": "\u0000"}}).encode(),
    json.dumps({"id": "urn:a:1", "type": "T", "@context": {"@vocab": 5}}).encode(),
]
PATHS = ["/entities", "/entities/urn:ngsi-ld:Building:b1", "/entities/urn:ngsi-ld:Building:b1/attrs",
         "/entities/urn:ngsi-ld:Building:b1/attrs/name", "/entityOperations/create", "/entityOperations/upsert",
         "/entityOperations/update", "/entityOperations/delete", "/entityOperations/merge",
         "/entityOperations/query", "/jsonldContexts"]
QUERIES = ["type=(((", "q=((a==1", "q=a~=(", "idPattern=(", "georel=near&geometry=Point&coordinates=[x]",
           "georel=near;maxDistance==-5&geometry=Point&coordinates=[1,2]", "limit=99999999999999999999",
           "offset=-1", "count=maybe", "options=nonsense", "scopeQ=((", "type=T&geometryProperty=%00",
           "type=" + "x" * 5000, "id=not%20a%20uri", "type=T&attrs=a%00b", "type=T&pick=a&omit=b",
           "georel=within&geometry=Polygon&coordinates=[[[0,0],[0,0],[0,0],[0,0]]]"]


def test_garbage_bodies_are_4xx_problems(ngsi: Ngsi) -> None:
    ngsi.create(building())
    for path in PATHS:
        for method in ("POST", "PATCH", "PUT"):
            for body in BODIES:
                for kind in ("application/json", "application/ld+json"):
                    response = ngsi.request(method, path, content=body, headers={"Content-Type": kind})
                    assert response.status_code < 500, (method, path, body[:80], response.text)
                    if response.status_code >= 400:
                        assert response.json()["type"].startswith("https://"), response.text


def test_a_refused_write_changes_nothing(app, ngsi: Ngsi) -> None:
    ngsi.create(building())
    before = db_snapshot(app.state.engine)
    bad = {"name": {"value": "ok"}, "location": {"type": "GeoProperty", "value": {"type": "Point"}}}
    assert ngsi.post("/entities/urn:ngsi-ld:Building:b1/attrs", json=bad).status_code == 400
    assert ngsi.put("/entities/urn:ngsi-ld:Building:b1", json={"type": "B", "x": {"type": "Nope"}}).status_code == 400
    assert ngsi.post("/entities", json={**building("urn:ngsi-ld:Building:b2"), "h": {"value": None}}).status_code == 400
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_garbage_query_parameters_are_4xx(ngsi: Ngsi) -> None:
    ngsi.create(building())
    for query in QUERIES:
        for path in ("/entities", "/entities/urn:ngsi-ld:Building:b1"):
            response = ngsi.get(f"{path}?{query}")
            assert response.status_code < 500, (path, query, response.text)
    rel = 'rel="http://www.w3.org/ns/json-ld#context"'
    for header in ("<not a url>", f"<http://127.0.0.1:9/x>; {rel}", f"<x>; {rel}, <y>; {rel}"):
        response = ngsi.get("/entities?type=T", headers={"Link": header})
        if response.status_code == 504:  # an unreachable @context
            assert response.json()["type"].endswith("/LdContextNotAvailable")
        else:
            assert response.status_code < 500, (header, response.text)
