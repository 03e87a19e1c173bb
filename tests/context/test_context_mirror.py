"""User @contexts come from the offline mirror when configured, and fetching can be turned off."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from saola.app import create_app

SUITE_CONTEXT = Path(__file__).resolve().parents[1] / "data" / "ngsi-ld-test-suite.jsonld"
REMOTE = "https://example.invalid/contexts/suite.jsonld"
BUILDING = {"id": "urn:ngsi-ld:Building:m1", "type": "Building", "name": {"type": "Property", "value": "A"}}


def _client(settings, **overrides) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"ngsi_ld_anonymous": "write", **overrides})))


def _link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'}


def test_a_mirrored_context_is_used_instead_of_its_url(settings, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "suite.jsonld").write_text(SUITE_CONTEXT.read_text("utf-8"), "utf-8")
    (mirror / "contexts.json").write_text(json.dumps({REMOTE: "suite.jsonld"}), "utf-8")
    with _client(settings, ngsi_ld_context_mirror=mirror, ngsi_ld_fetch_contexts=False) as client:
        created = client.post("/ngsi-ld/v1/entities", json=BUILDING, headers=_link(REMOTE))
        assert created.status_code == 201, created.text
        plain = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Building:m1")
        assert plain.json()["type"] == "https://ngsi-ld-test-suite/context#Building"
        compact = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Building:m1", headers=_link(REMOTE))
        assert compact.json()["type"] == "Building"


def test_an_unknown_context_is_504_when_fetching_is_turned_off(settings) -> None:
    with _client(settings, ngsi_ld_fetch_contexts=False) as client:
        answer = client.post("/ngsi-ld/v1/entities", json=BUILDING, headers=_link(REMOTE))
        assert answer.status_code == 504
        assert answer.json()["type"].endswith("LdContextNotAvailable")
        assert client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Building:m1").status_code == 404
