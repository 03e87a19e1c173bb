"""FIWARE Smart Data Models examples (CC-BY-4.0, tests/data/smart-data-models) created and read back.

Issue 3 lists the models: Streetlight, StreetlightControlCabinet, TrafficFlowObserved,
AirQualityObserved, WeatherObserved, Device, ParkingSpot, EVChargingStation and service requests.
Each ships a normalized example and a keyValues example. Each example's domain @context is
registered with the broker and named by the request, so the run is offline.

* The normalized example is created as ``application/ld+json`` (@context in the body) and as
  ``application/json`` (@context in a Link header), and read back identical in normalized form, as
  keyValues (``options=keyValues`` and ``format=simplified``), as concise, as GeoJSON, and as
  ``application/json`` (context in a Link header) and ``application/ld+json`` (context in the body),
  one by one and through a query by type.
* The keyValues example is created the way a client that only has keyValues does it (each attribute
  wrapped as a Property, a GeoProperty for GeoJSON geometries, a Relationship for ``ref…`` URIs) and
  read back identical as keyValues and as GeoJSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.context.conftest import DATA, Ngsi, link

SDM = DATA / "smart-data-models"
NORMALIZED = sorted(p for p in SDM.glob("*.jsonld") if not p.name.startswith("context-"))
KEY_VALUES = sorted((SDM / "keyValues").glob("*.jsonld"))
ISSUE_3_MODELS = {"Streetlight", "StreetlightControlCabinet", "TrafficFlowObserved", "AirQualityObserved",
                  "WeatherObserved", "Device", "ParkingSpot", "EVChargingStation", "service_requests"}
GEO_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
LD_JSON = "application/ld+json"
GEO_JSON = "application/geo+json"


def _value(attribute: dict[str, Any]) -> Any:
    for member in ("value", "object", "languageMap", "vocab", "valueList", "objectList", "json"):
        if member in attribute:
            return attribute[member]
    raise AssertionError(attribute)


def _domain(example: dict[str, Any]) -> tuple[str, str]:
    """The example's Smart Data Models @context URL and its domain (``Streetlighting``...)."""
    remote = next(u for u in example["@context"] if "smart-data-models" in u and "dataModel." in u)
    return remote, remote.split("dataModel.")[1].split("/")[0]


def _json_ld_11(document: dict[str, Any]) -> dict[str, Any]:
    """The @context without the terms JSON-LD 1.1 refuses: a term shaped like a compact IRI whose
    prefix is not defined must expand to itself (IssueTracking's ``open311:metadata`` does not)."""
    terms = document["@context"]

    def refused(term: str, definition: Any) -> bool:
        prefix, colon, _rest = term.partition(":")
        iri = definition if isinstance(definition, str) else (definition or {}).get("@id")
        return bool(colon) and prefix not in terms and iri != term

    return {"@context": {t: d for t, d in terms.items() if not refused(t, d)}}


def _register(ngsi: Ngsi, domain: str) -> str:
    document = json.loads((SDM / f"context-{domain}.jsonld").read_text("utf-8"))
    return ngsi.register_context(_json_ld_11(document))


def _load(ngsi: Ngsi, path: Path) -> tuple[dict[str, Any], str]:
    """The example with its Smart Data Models @context replaced by the registered local copy."""
    example = json.loads(path.read_text("utf-8"))
    remote, domain = _domain(example)
    local = _register(ngsi, domain)
    example["@context"] = [local if u == remote else u for u in example["@context"]]
    return example, local


def _key_values(normalized: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if k in ("id", "type") else _value(v)) for k, v in normalized.items()}


def _is_geometry(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in GEO_TYPES and "coordinates" in value


def _wrapped(key_values: dict[str, Any]) -> dict[str, Any]:
    """A keyValues entity as a client creates it: every attribute wrapped in its NGSI-LD type."""
    out = {"id": key_values["id"], "type": key_values["type"]}
    for name, value in key_values.items():
        if name in ("id", "type", "@context"):
            continue
        if _is_geometry(value):
            out[name] = {"type": "GeoProperty", "value": value}
        elif name.startswith("ref") and isinstance(value, str):
            out[name] = {"type": "Relationship", "object": value}
        else:
            out[name] = {"type": "Property", "value": value}
    return out


def test_every_model_of_issue_3_ships_a_normalized_and_a_key_values_example() -> None:
    assert {p.stem for p in NORMALIZED} == ISSUE_3_MODELS
    assert {p.stem for p in KEY_VALUES} == ISSUE_3_MODELS


def _without_context(geojson: dict[str, Any], context_url: str) -> dict[str, Any]:
    """A GeoJSON answer without its @context, which (when the body carries one) is the request's."""
    body = dict(geojson)
    assert body.pop("@context", context_url) == context_url
    return body


def _read_back(ngsi: Ngsi, expected: dict[str, Any], context_url: str) -> None:
    """Every representation of the created entity agrees with the normalized ``expected``."""
    headers = {"Link": link(context_url)}
    entity_path = f"/entities/{expected['id']}"
    key_values = _key_values(expected)

    plain = ngsi.get(entity_path, headers=headers)
    assert plain.headers["content-type"] == "application/json"
    assert context_url in plain.headers["link"]
    assert plain.json() == expected
    ld = ngsi.get(entity_path, headers={**headers, "Accept": LD_JSON})
    assert ld.headers["content-type"] == LD_JSON
    assert ld.json() == {**expected, "@context": context_url}

    assert ngsi.get(entity_path + "?options=keyValues", headers=headers).json() == key_values
    assert ngsi.get(entity_path + "?format=simplified", headers=headers).json() == key_values
    concise = ngsi.get(entity_path + "?options=concise", headers=headers).json()
    assert set(concise) == set(expected)
    for name, attribute in expected.items():
        if name in ("id", "type"):
            continue
        shown = concise[name]
        wrapped = isinstance(shown, dict) and ("value" in shown or "object" in shown)
        assert (_value(shown) if wrapped else shown) == _value(attribute), name

    location = expected.get("location")
    feature = ngsi.get(entity_path, headers={**headers, "Accept": GEO_JSON})
    assert feature.headers["content-type"] == GEO_JSON
    assert _without_context(feature.json(), context_url) == {
        "id": expected["id"], "type": "Feature", "geometry": _value(location) if location else None,
        "properties": {k: v for k, v in expected.items() if k != "id"}}
    simple_feature = ngsi.get(entity_path + "?options=keyValues", headers={**headers, "Accept": GEO_JSON}).json()
    assert simple_feature["properties"] == {k: v for k, v in key_values.items() if k != "id"}

    query = f"/entities?type={expected['type']}"
    assert ngsi.get(query, headers=headers).json() == [expected]
    assert ngsi.get(query, headers={**headers, "Accept": LD_JSON}).json() == [{**expected, "@context": context_url}]
    assert ngsi.get(query + "&options=keyValues", headers=headers).json() == [key_values]
    collection = _without_context(ngsi.get(query, headers={**headers, "Accept": GEO_JSON}).json(), context_url)
    assert collection["type"] == "FeatureCollection"
    assert [f["id"] for f in collection["features"]] == [expected["id"]]


@pytest.mark.parametrize("media_type", ["application/ld+json", "application/json"])
@pytest.mark.parametrize("path", NORMALIZED, ids=[p.stem for p in NORMALIZED])
def test_normalized_example_is_created_and_read_back_in_every_format(ngsi: Ngsi, path: Path,
                                                                     media_type: str) -> None:
    example, context_url = _load(ngsi, path)
    expected = {k: v for k, v in example.items() if k != "@context"}
    if media_type == LD_JSON:
        created = ngsi.post("/entities", content=json.dumps(example), headers={"Content-Type": LD_JSON})
    else:  # the @context travels in a Link header; the example's other contexts are the core one
        assert all(u == context_url or "ngsi-ld-core-context" in u for u in example["@context"])
        created = ngsi.post("/entities", json=expected, headers={"Link": link(context_url)})
    assert created.status_code == 201, created.text
    _read_back(ngsi, expected, context_url)


@pytest.mark.parametrize("path", KEY_VALUES, ids=[p.stem for p in KEY_VALUES])
def test_key_values_example_is_created_and_read_back(ngsi: Ngsi, path: Path) -> None:
    example = json.loads(path.read_text("utf-8"))
    _remote, domain = _domain(example)
    context_url = _register(ngsi, domain)
    headers = {"Link": link(context_url)}
    key_values = {k: v for k, v in example.items() if k != "@context"}
    created = ngsi.post("/entities", json=_wrapped(key_values), headers=headers)
    assert created.status_code == 201, created.text
    entity_path = f"/entities/{example['id']}"
    assert ngsi.get(entity_path + "?options=keyValues", headers=headers).json() == key_values
    assert ngsi.get(entity_path + "?format=simplified", headers={**headers, "Accept": LD_JSON}).json() == {
        **key_values, "@context": context_url}
    normalized = ngsi.get(entity_path, headers=headers).json()
    assert normalized == _wrapped(key_values)
    feature = _without_context(
        ngsi.get(entity_path + "?options=keyValues", headers={**headers, "Accept": GEO_JSON}).json(), context_url)
    assert feature["geometry"] == key_values.get("location")
    assert feature["properties"] == {k: v for k, v in key_values.items() if k != "id"}
    found = ngsi.get(f"/entities?type={example['type']}&options=keyValues", headers=headers).json()
    assert found == [key_values]


def test_an_upstream_context_that_json_ld_1_1_refuses_is_answered_400_and_nothing_is_created(ngsi: Ngsi) -> None:
    upstream = json.loads((SDM / "context-IssueTracking.jsonld").read_text("utf-8"))
    assert "open311:metadata" in upstream["@context"]
    context_url = ngsi.register_context(upstream)
    example = json.loads((SDM / "service_requests.jsonld").read_text("utf-8"))
    body = {k: v for k, v in example.items() if k != "@context"}
    refused = ngsi.post("/entities", json=body, headers={"Link": link(context_url)})
    assert refused.status_code == 400
    assert refused.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
    assert "JSON-LD" in refused.json()["detail"]
    assert ngsi.get(f"/entities/{example['id']}").status_code == 404
