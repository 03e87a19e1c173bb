"""Fixtures of the NGSI-LD API tests: a client holding a context:read/write token, the test-suite @context."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

DATA = Path(__file__).resolve().parents[1] / "data"
BASE = "/ngsi-ld/v1"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
TEST_SUITE_CONTEXT = json.loads((DATA / "ngsi-ld-test-suite.jsonld").read_text("utf-8"))


def link(url: str) -> str:
    return f'<{url}>; rel="{CONTEXT_REL}"; type="application/ld+json"'


@dataclass
class Ngsi:
    """An HTTP client of the NGSI-LD API with a bearer token and optional default headers."""

    client: TestClient
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.request(method, BASE + path, headers={**self.headers, **(headers or {})}, **kw)

    def get(self, path: str, **kw: Any):
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any):
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any):
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any):
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any):
        return self.request("DELETE", path, **kw)

    def create(self, entity: dict[str, Any], **kw: Any) -> None:
        response = self.post("/entities", json=entity, **kw)
        assert response.status_code == 201, response.text

    def register_context(self, document: dict[str, Any]) -> str:
        """Register an @context with the broker; its URL."""
        response = self.post("/jsonldContexts", json=document)
        assert response.status_code == 201, response.text
        return "http://127.0.0.1" + response.headers["location"]


@pytest.fixture
def writer_token(token) -> str:
    return token("admin", scopes=["context:read", "context:write"])


@pytest.fixture
def ngsi(client: TestClient, writer_token: str) -> Ngsi:
    return Ngsi(client, {"Authorization": f"Bearer {writer_token}"})


@pytest.fixture
def suite_link(ngsi: Ngsi) -> str:
    """A Link header naming the conformance suite's @context, served by the broker itself."""
    return link(ngsi.register_context(TEST_SUITE_CONTEXT))


def building(entity_id: str = "urn:ngsi-ld:Building:b1", **extra: Any) -> dict[str, Any]:
    return {
        "id": entity_id,
        "type": "Building",
        "name": {"type": "Property", "value": "Tháp Bình Dương", "observedAt": "2026-11-24T09:59:00.000Z",
                 "source": {"type": "Property", "value": "survey"}},
        "height": {"type": "Property", "value": 120.5, "unitCode": "MTR"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [106.65, 10.98]}},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Agency:SXD"},
        **extra,
    }
