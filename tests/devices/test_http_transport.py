"""The HTTP transport: /iot/json, /iot/d and the gateway bulk endpoint, answered as the IoT Agents do."""

from __future__ import annotations

import pytest

from saola.core.db import make_engine, make_session_factory
from saola.devices.errors import StoreUnavailable
from saola.devices.ingest import Ingestor
from tests.conftest import free_port
from tests.devices.conftest import msg

ENTITY = "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:aq-001"


def test_json_and_ultralight_measures_are_stored(client, iot_headers, provision) -> None:
    provision([{"device_id": "aq-001"}])
    ok = client.post("/iot/json?k=aq-key&i=aq-001&t=2026-11-24T10:00:00Z", json={"t": 25.3, "h": 60})
    assert ok.status_code == 200, ok.text
    ul = client.post("/iot/d?k=aq-key&i=aq-001", content=b"TimeInstant|2026-11-24T10:05:00Z|t|26.1",
                     headers={"Content-Type": "text/plain"})
    assert ul.status_code == 200, ul.text
    entity = client.get(ENTITY, headers=iot_headers).json()
    assert entity["temperature"]["value"] == 26.1
    assert entity["relativeHumidity"]["observedAt"] == "2026-11-24T10:00:00.000Z"
    again = client.post("/iot/json?k=aq-key&i=aq-001&t=2026-11-24T10:00:00Z", json={"t": 25.3, "h": 60})
    assert again.status_code == 200  # a duplicate is acknowledged, stored once


def test_errors_are_answered_with_their_status_and_code(client, iot_headers, provision) -> None:
    provision([{"device_id": "aq-001"}, {"device_id": "aq-002", "token": "device-secret-0123456789"}])
    cases = [
        ("/iot/json?k=nope&i=aq-001", b'{"t": 1}', {}, 403, "wrong-api-key"),
        ("/iot/json?k=aq-key&i=ghost", b'{"t": 1}', {}, 404, "unknown-device"),
        ("/iot/json?k=aq-key&i=aq-001", b"{oops", {}, 400, "malformed-payload"),
        ("/iot/d?k=aq-key&i=aq-001", b"t|warm", {}, 400, "malformed-payload"),
        ("/iot/json?k=aq-key&i=aq-001&t=later", b'{"t": 1}', {}, 400, "malformed-payload"),
        ("/iot/json?k=aq-key&i=aq-002", b'{"t": 1}', {}, 403, "wrong-device-token"),
        ("/iot/json?k=aq-key&i=aq-002", b'{"t": 1}', {"X-Device-Token": "wrong-secret-0123456789"}, 403,
         "wrong-device-token"),
    ]
    for url, body, headers, status, code in cases:
        response = client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
        assert (response.status_code, response.json()["code"]) == (status, code), (url, response.text)
    assert client.post("/iot/json?i=aq-001", json={"t": 1}).status_code == 422
    assert client.get(ENTITY, headers=iot_headers).json().get("temperature") is None
    good = client.post("/iot/json?k=aq-key&i=aq-002", json={"t": 3},
                       headers={"X-Device-Token": "device-secret-0123456789"})
    assert good.status_code == 200


def test_bulk_endpoint_answers_per_device(client, iot_headers, provision) -> None:
    provision([{"device_id": "aq-001"}, {"device_id": "aq-002"}])
    body = [{"i": "aq-001", "d": {"t": 20}}, {"i": "aq-002", "ul": "t|21|h|50", "t": "2026-11-24T10:00:00Z"},
            {"i": "ghost", "d": {"t": 1}}, {"i": "aq-001", "d": "nope"}, {"d": {"t": 1}},
            {"i": "aq-002", "d": [{"t": 22, "TimeInstant": "2026-11-24T10:01:00Z"}]}]
    response = client.post("/iot/json/bulk?k=aq-key", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [r["status"] for r in answer["results"]] == [200, 200, 404, 400, 400, 200]
    assert (answer["stored"], answer["rejected"]) == (4, 3)
    entity = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:aq-002", headers=iot_headers).json()
    assert entity["temperature"]["value"] == 22
    for bad in (b"{", b"[]", b'{"i": 1}'):
        refused = client.post("/iot/json/bulk?k=aq-key", content=bad, headers={"Content-Type": "application/json"})
        assert refused.status_code == 400 and refused.json()["code"] == "malformed-payload"


def test_stored_measures_publish_entity_change_events(app, client, provision) -> None:
    provision([{"device_id": "aq-001"}])
    subscription = app.state.event_bus.subscribe("ngsi.entity.*")
    assert client.post("/iot/json?k=aq-key&i=aq-001", json={"t": 25.3}).status_code == 200
    event = subscription.queue.get_nowait()
    assert event.topic == "ngsi.entity.updated"
    assert event.payload["id"] == "urn:ngsi-ld:AirQualityObserved:aq-001"
    assert event.payload["changed"] == ["https://uri.etsi.org/ngsi-ld/default-context/temperature"]


def test_database_unavailable_is_503_and_the_ingestor_raises_store_unavailable(app, client, provision) -> None:
    provision([{"device_id": "aq-001"}])
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    down = Ingestor(make_session_factory(engine), app.state.settings)
    with pytest.raises(StoreUnavailable):
        down.store([msg("aq-001", '{"t": 1}')])
    app.state.ingestor = down
    response = client.post("/iot/json?k=aq-key&i=aq-001", json={"t": 1})
    assert response.status_code == 503 and response.json()["code"] == "ingest-unavailable"
    engine.dispose()
