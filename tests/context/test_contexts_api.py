"""User @contexts: by Link header, in an application/ld+json body, registered or fetched over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.context.conftest import TEST_SUITE_CONTEXT, Ngsi, link

SUITE = "https://ngsi-ld-test-suite/context#"


@pytest.fixture
def context_server() -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 serving the conformance suite's @context."""
    body = json.dumps(TEST_SUITE_CONTEXT).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/ngsi-ld-test-suite.jsonld":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ngsi-ld-test-suite.jsonld"
    server.shutdown()
    server.server_close()


def _building() -> dict[str, object]:
    return {"id": "urn:ngsi-ld:Building:ctx", "type": "Building", "name": {"type": "Property", "value": "B"},
            "airQualityLevel": {"type": "VocabProperty", "vocab": "good"}}


def test_link_header_context_expands_and_compacts_terms(ngsi: Ngsi, suite_link: str) -> None:
    ngsi.create(_building(), headers={"Link": suite_link})
    with_context = ngsi.get("/entities/urn:ngsi-ld:Building:ctx", headers={"Link": suite_link})
    assert with_context.json() == _building()
    assert with_context.headers["link"] == suite_link
    core_only = ngsi.get("/entities/urn:ngsi-ld:Building:ctx").json()
    assert core_only["type"] == SUITE + "Building"
    assert core_only[SUITE + "name"] == {"type": "Property", "value": "B"}
    assert ngsi.get("/entities", params={"type": SUITE + "Building"}).json()[0]["id"] == "urn:ngsi-ld:Building:ctx"
    assert ngsi.get("/entities?type=Building", headers={"Link": suite_link}).json()[0]["type"] == "Building"
    assert ngsi.get("/entities?type=Building").json() == []  # another IRI without the context


def test_ld_json_body_context_and_its_conflict_with_a_link(ngsi: Ngsi, suite_link: str) -> None:
    url = suite_link[1:suite_link.index(">")]
    body = {**_building(), "@context": [url, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]}
    headers = {"Content-Type": "application/ld+json"}
    assert ngsi.post("/entities", content=json.dumps(body), headers=headers).status_code == 201
    entity = ngsi.get("/entities/urn:ngsi-ld:Building:ctx", headers={"Link": suite_link,
                                                                     "Accept": "application/ld+json"}).json()
    assert entity["type"] == "Building" and entity["@context"] == url
    both = ngsi.post("/entities", content=json.dumps({**body, "id": "urn:ngsi-ld:Building:2"}),
                     headers={**headers, "Link": suite_link})
    assert both.status_code == 400
    no_context = ngsi.post("/entities", content=json.dumps(_building()), headers=headers)
    assert no_context.status_code == 400
    context_in_plain_json = ngsi.post("/entities", json={**body, "id": "urn:ngsi-ld:Building:3"})
    assert context_in_plain_json.status_code == 400
    assert context_in_plain_json.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


def test_context_fetched_over_http_and_unavailable_context(ngsi: Ngsi, context_server: str) -> None:
    ngsi.create(_building(), headers={"Link": link(context_server)})
    assert ngsi.get("/entities/urn:ngsi-ld:Building:ctx").json()["type"] == SUITE + "Building"
    gone = ngsi.get("/entities?type=Building", headers={"Link": link("http://127.0.0.1:9/missing.jsonld")})
    assert gone.status_code == 504
    assert gone.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable"


def test_jsonld_contexts_register_list_serve_delete(ngsi: Ngsi) -> None:
    url = ngsi.register_context(TEST_SUITE_CONTEXT)
    path = url.removeprefix("http://127.0.0.1/ngsi-ld/v1")
    assert url in ngsi.get("/jsonldContexts").json()
    assert ngsi.get(path).json() == TEST_SUITE_CONTEXT
    details = ngsi.get("/jsonldContexts?details=true").json()
    assert details[0]["kind"] == "Hosted" and details[0]["URL"] == url
    assert ngsi.post("/jsonldContexts", json={"foo": 1}).status_code == 400
    assert ngsi.delete(path).status_code == 204
    assert ngsi.get(path).status_code == 404
    assert ngsi.delete(path).status_code == 404
