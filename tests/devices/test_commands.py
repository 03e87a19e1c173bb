"""Downlink commands against the real Mosquitto: a simulated device (a paho client on ``/<key>/<id>/cmd``
answering on ``/cmdexe``), requests through the API and through NGSI-LD, retries and expiry."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from paho.mqtt import client as mqtt

from tests.devices.mqtt_fixtures import (
    provision,
    require_broker,
    start_worker,  # noqa: F401 - fixture
    wait_until,
    worker_settings,
)

NGSI = "/ngsi-ld/v1/entities/"


class SimulatedDevice:
    """Subscribes to a device's command topic; ``answer(payload) -> bytes | None`` is published on cmdexe."""

    def __init__(self, key: str, device_id: str, answer: Callable[[bytes], bytes | None]) -> None:
        host, port = require_broker()
        self.received: list[bytes] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:10]}")

        def on_message(c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            self.received.append(msg.payload)
            reply = answer(msg.payload)
            if reply is not None:
                c.publish(f"/{key}/{device_id}/cmdexe", reply, qos=1)

        self.client.on_message = on_message
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(f"/{key}/{device_id}/cmd", qos=1)
        assert self.subscribed.wait(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def device() -> Iterator[Callable[..., SimulatedDevice]]:
    made: list[SimulatedDevice] = []

    def _device(key: str, device_id: str, answer: Callable[[bytes], bytes | None]) -> SimulatedDevice:
        made.append(SimulatedDevice(key, device_id, answer))
        return made[-1]

    yield _device
    for d in made:
        d.close()


@pytest.fixture
def headers(token) -> dict[str, str]:
    return {"Authorization": "Bearer " + token("operator", scopes=["devices:read", "devices:write", "context:read",
                                                                   "context:write"])}


def command(client, headers: dict[str, str], device_id: str, command_id: int) -> dict:
    response = client.get(f"/api/v1/devices/{device_id}/commands/{command_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def attrs(client, headers: dict[str, str], entity_id: str) -> dict:
    response = client.get(NGSI + entity_id, params={"options": "keyValues"}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_json_command_round_trip_through_the_api(app, client, settings, start_worker, device,  # noqa: F811
                                                 headers: dict[str, str]) -> None:
    start_worker(worker_settings(settings, devices_command_timeout_seconds=5.0))
    key = provision(app.state.session_factory, [{"device_id": "lamp-1", "entity_name": "urn:ngsi-ld:Lamp:1"}],
                    commands=["dim", "on"])
    lamp = device(key, "lamp-1", lambda p: json.dumps({"dim": f"dimmed to {json.loads(p)['dim']}"}).encode())
    response = client.post("/api/v1/devices/lamp-1/commands", json={"command": "dim", "value": 50}, headers=headers)
    assert response.status_code == 202, response.text
    sent = response.json()
    assert sent["status"] == "PENDING"
    assert attrs(client, headers, "urn:ngsi-ld:Lamp:1")["dim_status"] == "PENDING"
    wait_until(lambda: command(client, headers, "lamp-1", sent["id"])["status"] == "OK", what="the answer")
    done = command(client, headers, "lamp-1", sent["id"])
    assert (done["info"], done["attempts"]) == ("dimmed to 50", 1)
    assert json.loads(lamp.received[0]) == {"dim": 50}
    entity = attrs(client, headers, "urn:ngsi-ld:Lamp:1")
    assert (entity["dim_status"], entity["dim_info"]) == ("OK", "dimmed to 50")
    listed = client.get("/api/v1/devices/lamp-1/commands", headers=headers).json()["commands"]
    assert [c["id"] for c in listed] == [sent["id"]]


def test_ultralight_command_written_through_ngsi_ld_and_answered_with_an_error(
        app, client, settings, start_worker, device, headers: dict[str, str]) -> None:  # noqa: F811
    start_worker(worker_settings(settings, devices_command_timeout_seconds=5.0))
    key = provision(app.state.session_factory, [{"device_id": "lamp-2", "entity_name": "urn:ngsi-ld:Lamp:2"}],
                    commands=["reboot"], protocol="IoTA-UL")
    lamp = device(key, "lamp-2", lambda p: b"lamp-2@reboot|ERROR no power")
    response = client.post(NGSI + "urn:ngsi-ld:Lamp:2/attrs", headers=headers,
                           json={"reboot": {"type": "Property", "value": "now"}})
    assert response.status_code in (201, 204), response.text
    wait_until(lambda: attrs(client, headers, "urn:ngsi-ld:Lamp:2").get("reboot_status") == "ERROR",
               what="the ERROR answer on the entity")
    assert lamp.received == [b"lamp-2@reboot|now"]
    assert attrs(client, headers, "urn:ngsi-ld:Lamp:2")["reboot_info"] == "ERROR no power"


def test_an_unanswered_command_is_sent_again_then_expires(app, client, settings, start_worker, device,  # noqa: F811
                                                         headers: dict[str, str]) -> None:
    start_worker(worker_settings(settings, devices_command_timeout_seconds=0.4, devices_command_attempts=2))
    key = provision(app.state.session_factory, [{"device_id": "lamp-3", "entity_name": "urn:ngsi-ld:Lamp:3"}],
                    commands=["on"])
    silent = device(key, "lamp-3", lambda p: None)
    sent = client.post("/api/v1/devices/lamp-3/commands", json={"command": "on", "value": True},
                       headers=headers).json()
    wait_until(lambda: command(client, headers, "lamp-3", sent["id"])["status"] == "EXPIRED", what="the expiry")
    expired = command(client, headers, "lamp-3", sent["id"])
    assert expired["attempts"] == 2 and "no answer" in expired["info"]
    wait_until(lambda: len(silent.received) == 2, what="two attempts published")
    assert silent.received == [b'{"on":true}', b'{"on":true}']
    assert attrs(client, headers, "urn:ngsi-ld:Lamp:3")["on_status"] == "EXPIRED"


def test_undeclared_commands_and_stray_answers_are_refused(app, client, settings, start_worker,  # noqa: F811
                                                          headers: dict[str, str]) -> None:
    running = start_worker(worker_settings(settings))
    key = provision(app.state.session_factory, [{"device_id": "lamp-4"}], commands=["on"])
    response = client.post("/api/v1/devices/lamp-4/commands", json={"command": "explode"}, headers=headers)
    assert response.status_code == 400 and response.json()["code"] == "unknown-command"
    assert client.post("/api/v1/devices/nope/commands", json={"command": "on"},
                       headers=headers).status_code == 404
    host, port = require_broker()
    stray = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"stray-{uuid.uuid4().hex[:8]}")
    stray.connect(host, port)
    stray.loop_start()
    stray.publish(f"/{key}/lamp-4/cmdexe", b'{"on": "OK"}', qos=1).wait_for_publish(5)
    stray.publish(f"/{key}/lamp-4/cmdexe", b"not json and not ul", qos=1).wait_for_publish(5)
    stray.loop_stop()
    stray.disconnect()
    wait_until(lambda: len(running.reasons(key)) == 2, what="both answers refused")
    assert sorted(r.partition(":")[0] for r in running.reasons(key)) == ["malformed-payload", "unknown-command"]
