"""The MQTT transport against the real Mosquitto and database: IoT Agent JSON and UltraLight topics, arrays
with timestamps, single-attribute topics, unknown devices, wrong API keys, malformed payloads, duplicates."""

from __future__ import annotations

import json

import pytest

from saola.devices import mqtt_topics
from tests.devices.mqtt_fixtures import (
    Publisher,
    measures_of,
    provision,
    publisher,  # noqa: F401 - fixture
    start_worker,  # noqa: F401 - fixture
    wait_until,
    worker_settings,
)

NGSI = "/ngsi-ld/v1/entities/"


def entity(client, headers: dict[str, str], entity_id: str) -> dict:
    response = client.get(NGSI + entity_id, params={"options": "keyValues"}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def running(app, settings, start_worker):  # noqa: F811
    return start_worker(worker_settings(settings))


def test_topics_are_parsed_as_the_iot_agents_define_them() -> None:
    assert mqtt_topics.parse("/k1/d1/attrs") == mqtt_topics.Topic("attrs", "k1", "d1", None)
    assert mqtt_topics.parse("/k1/d1/attrs/t") == mqtt_topics.Topic("attrs", "k1", "d1", None, "t")
    assert mqtt_topics.parse("/json/k1/d1/attrs") == mqtt_topics.Topic("attrs", "k1", "d1", "json")
    assert mqtt_topics.parse("/ul/k1/d1/attrs/h") == mqtt_topics.Topic("attrs", "k1", "d1", "ul", "h")
    assert mqtt_topics.parse("/ul/k1/d1/cmdexe") == mqtt_topics.Topic("cmdexe", "k1", "d1", "ul")
    assert mqtt_topics.parse("/k1/d1/cmd") is None
    assert mqtt_topics.parse("k1/d1/attrs") is None
    assert mqtt_topics.sniff(b' {"t": 1}') == "json" and mqtt_topics.sniff(b"t|1") == "ul"
    assert mqtt_topics.subscriptions("g")[0] == "$share/g//+/+/attrs"


def test_json_and_ultralight_measures_update_the_entity(app, client, running, publisher: Publisher,  # noqa: F811
                                                        iot_headers: dict[str, str]) -> None:
    key = provision(app.state.session_factory, [{"device_id": "aq-1", "entity_name": "urn:ngsi-ld:AQ:aq-1"},
                                                {"device_id": "aq-2", "entity_name": "urn:ngsi-ld:AQ:aq-2"},
                                                {"device_id": "aq-3", "entity_name": "urn:ngsi-ld:AQ:aq-3"}])
    publisher.send(f"/{key}/aq-1/attrs", json.dumps({"t": 25.3, "h": 61, "p": 1013.2}))
    publisher.send(f"/ul/{key}/aq-2/attrs", "t|18.5|h|70")
    publisher.send(f"/{key}/aq-3/attrs", "t|30.5")  # unprefixed UltraLight, recognised from the payload
    publisher.send(f"/{key}/aq-3/attrs/h", "44")  # one attribute's bare value
    wait_until(lambda: measures_of(app.state.session_factory, key) == 7, what="7 measures")
    first = entity(client, iot_headers, "urn:ngsi-ld:AQ:aq-1")
    assert (first["temperature"], first["relativeHumidity"], first["atmosphericPressure"]) == (25.3, 61, 1013.2)
    assert entity(client, iot_headers, "urn:ngsi-ld:AQ:aq-2")["temperature"] == 18.5
    third = entity(client, iot_headers, "urn:ngsi-ld:AQ:aq-3")
    assert (third["temperature"], third["relativeHumidity"]) == (30.5, 44)
    assert running.reasons(key) == []
    status = running.worker.status()
    assert status["accepted"] >= 4 and status["connected"] is True and status["lag_seconds"]["p99"] is not None


def test_arrays_of_timestamped_measures_keep_their_times(app, client, running, publisher: Publisher,  # noqa: F811
                                                         iot_headers: dict[str, str]) -> None:
    key = provision(app.state.session_factory, [{"device_id": "aq-9", "entity_name": "urn:ngsi-ld:AQ:aq-9"}])
    readings = [{"t": 20 + i, "TimeInstant": f"2026-11-24T10:0{i}:00Z"} for i in range(5)]
    publisher.send(f"/json/{key}/aq-9/attrs", json.dumps(readings))
    publisher.send(f"/ul/{key}/aq-9/attrs", "2026-11-24T11:00:00Z|t|40#2026-11-24T11:01:00Z|t|41")
    wait_until(lambda: measures_of(app.state.session_factory, key) == 7, what="7 measures")
    response = client.get("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AQ:aq-9",
                          params={"attrs": "temperature", "options": "temporalValues"}, headers=iot_headers)
    assert response.status_code == 200, response.text
    values = response.json()["temperature"]["values"]
    assert [v[0] for v in values] == [20, 21, 22, 23, 24, 40, 41]
    assert values[0][1].startswith("2026-11-24T10:00:00")


def test_unknown_device_wrong_key_and_malformed_payloads_are_rejected_without_blocking(
        app, running, publisher: Publisher) -> None:  # noqa: F811
    key = provision(app.state.session_factory, [{"device_id": "ok-1"}])
    wrong = f"nokey{key}"
    publisher.send(f"/{key}/ghost/attrs", json.dumps({"t": 1}))
    publisher.send(f"/{wrong}/ok-1/attrs", json.dumps({"t": 1}))
    publisher.send(f"/json/{key}/ok-1/attrs", "{not json")
    publisher.send(f"/json/{key}/ok-1/attrs", json.dumps({"t": "NaN-ish", "h": [1, 2]}))
    publisher.send(f"/{key}/ok-1/attrs", json.dumps({"t": 21.0, "TimeInstant": "2026-11-24T10:00:00Z"}))
    wait_until(lambda: measures_of(app.state.session_factory, key) >= 1, what="the good message stored")
    wait_until(lambda: len(running.reasons(key)) >= 2 and running.reasons(wrong), what="the rejections")
    codes = sorted(r.partition(":")[0] for r in running.reasons(key))
    assert codes[0] == "malformed-payload" and "unknown-device" in codes
    assert running.reasons(wrong)[0].startswith("wrong-api-key")
    assert running.worker.stats.reasons["malformed-payload"] >= 1


def test_the_same_message_twice_is_stored_once(app, running, publisher: Publisher) -> None:  # noqa: F811
    key = provision(app.state.session_factory, [{"device_id": "dup-1"}])
    body = json.dumps({"t": 22.5, "h": 50, "TimeInstant": "2026-11-24T09:00:00Z"})
    before = running.worker.stats.duplicates
    publisher.send(f"/{key}/dup-1/attrs", body)
    wait_until(lambda: measures_of(app.state.session_factory, key) == 2, what="2 measures")
    publisher.send(f"/{key}/dup-1/attrs", body)
    wait_until(lambda: running.worker.stats.duplicates >= before + 2, what="the duplicates counted")
    assert measures_of(app.state.session_factory, key) == 2


def test_the_app_runs_the_worker_in_process_when_asked(settings, publisher: Publisher, token) -> None:  # noqa: F811
    from fastapi.testclient import TestClient

    from saola.app import create_app

    app = create_app(worker_settings(settings, mqtt_ingest="on"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        wait_until(lambda: app.state.mqtt_worker.stats.connected, what="the in-app worker connected")
        key = provision(app.state.session_factory, [{"device_id": "in-app-1"}])
        time_instant = "2026-11-24T12:00:00Z"
        publisher.send(f"/{key}/in-app-1/attrs", json.dumps({"t": 19.5, "TimeInstant": time_instant}))
        wait_until(lambda: measures_of(app.state.session_factory, key) == 1, what="the measure stored by the app")
        secret = token("operator", scopes=["devices:read"])
        status = client.get("/api/v1/ingest/status", headers={"Authorization": f"Bearer {secret}"}).json()
        assert status["running"] is True and status["accepted"] >= 1 and status["connected"] is True
        assert client.get("/api/v1/ingest/status").status_code == 401


def test_auto_mode_without_a_broker_says_so_and_serves(settings, capsys: pytest.CaptureFixture[str], token) -> None:
    from fastapi.testclient import TestClient

    from saola.app import create_app
    from tests.conftest import free_port

    app = create_app(settings.model_copy(update={"env": "development", "mqtt_ingest": "auto",
                                                 "mqtt_url": f"mqtt://127.0.0.1:{free_port()}"}))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        secret = token("operator", scopes=["devices:read"])
        assert c.get("/api/v1/ingest/status", headers={"Authorization": f"Bearer {secret}"}).json() == {
            "running": False}
    err = capsys.readouterr().err
    assert "no MQTT broker at 127.0.0.1:" in err and "MQTT ingestion is OFF" in err
