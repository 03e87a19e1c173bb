"""Notifications: a real HTTP receiver on 127.0.0.1, the outbox, retries, MQTT."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from saola.app import create_app
from saola.context.notifier import NotifierConfig
from tests.context.conftest import Ngsi, building
from tests.core.helpers import require_server

FAST = NotifierConfig(backoff_base=0.2, backoff_cap=0.4, timeout=2.0, poll=0.05)
MQTT_URL = os.environ.get("SAOLA_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        return [b for p, _, b in list(self.received) if path is None or p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture(autouse=True)
def fast_notifier(app) -> None:
    app.state.notifier_config = FAST


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subscribe(ngsi: Ngsi, uri: str, **extra: Any) -> str:
    notification = {"endpoint": {"uri": uri, "accept": "application/json"}, **extra.pop("notification", {})}
    body = {"type": "Subscription", "entities": [{"type": "Building"}], "notification": notification, **extra}
    response = ngsi.post("/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def test_create_update_delete_are_notified_in_order(ngsi: Ngsi, receiver: Receiver) -> None:
    sub_id = subscribe(ngsi, receiver.url + "/n", notificationTrigger=["entityCreated", "entityUpdated",
                                                                           "entityDeleted"],
                       notification={"attributes": ["height"], "format": "keyValues",
                                     "endpoint": {"uri": receiver.url + "/n", "accept": "application/json",
                                                  "receiverInfo": [{"key": "X-Token", "value": "abc"}]}})
    ngsi.create(building())
    for height in (121, 122, 123):
        assert ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs",
                          json={"height": {"type": "Property", "value": height}}).status_code == 204
    assert ngsi.delete("/entities/urn:ngsi-ld:Building:b1").status_code == 204
    bodies = wait_for(lambda: len(receiver.bodies()) >= 5 and receiver.bodies())
    assert [b["data"][0].get("height") for b in bodies] == [120.5, 121, 122, 123, None]
    first = bodies[0]
    assert first["type"] == "Notification" and first["subscriptionId"] == sub_id
    assert first["id"].startswith("urn:ngsi-ld:Notification:") and first["notifiedAt"].endswith("Z")
    assert first["data"] == [{"id": "urn:ngsi-ld:Building:b1", "type": "Building", "height": 120.5}]
    assert "deletedAt" in bodies[-1]["data"][0]
    _, headers, _ = receiver.received[0]
    assert headers["Content-Type"] == "application/json" and headers["X-Token"] == "abc"
    assert "json-ld#context" in headers["Link"]
    status = wait_for(lambda: (s := ngsi.get(f"/subscriptions/{sub_id}").json()["notification"])["timesSent"] == 5
                      and s)
    assert "timesFailed" not in status and "lastSuccess" in status and status["status"] == "ok"


def test_default_triggers_watched_attributes_and_ld_json(ngsi: Ngsi, receiver: Receiver, suite_link: str) -> None:
    url = suite_link[1:suite_link.index(">")]
    body = {"type": "Subscription", "watchedAttributes": ["name"], "@context": url,
            "notification": {"format": "concise", "endpoint": {"uri": receiver.url + "/ld",
                                                                 "accept": "application/ld+json"}}}
    assert ngsi.post("/subscriptions", json=body, headers={"Content-Type": "application/ld+json"}).status_code == 201
    ngsi.create(building(), headers={"Link": suite_link})
    ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs", json={"height": {"type": "Property", "value": 1}},
               headers={"Link": suite_link})
    ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs", json={"name": {"type": "Property", "value": "x"}},
               headers={"Link": suite_link})
    bodies = wait_for(lambda: len(receiver.bodies()) >= 2 and receiver.bodies())
    time.sleep(0.3)
    assert len(receiver.bodies()) == 2  # the height change is not watched
    # JSON-LD notifications carry the @context in each entity of data (no Link header)
    assert bodies[0]["data"][0]["@context"] == url and bodies[0]["data"][0]["type"] == "Building"
    assert "@context" not in bodies[0] and "Link" not in receiver.received[0][1]
    assert bodies[1]["data"][0]["name"] == "x"
    assert receiver.received[0][1]["Content-Type"] == "application/ld+json"


def test_q_and_geo_q_filter(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url + "/q", q="height>100")
    subscribe(ngsi, receiver.url + "/geo", geoQ={"georel": "near;maxDistance==2000", "geometry": "Point",
                                                 "coordinates": [106.65, 10.98]})
    ngsi.create(building("urn:ngsi-ld:Building:tall"))
    ngsi.create(building("urn:ngsi-ld:Building:low", height={"type": "Property", "value": 3},
                         location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [105, 21]}}))
    wait_for(lambda: receiver.bodies("/q") and receiver.bodies("/geo"))
    time.sleep(0.3)
    assert [b["data"][0]["id"] for b in receiver.bodies("/q")] == ["urn:ngsi-ld:Building:tall"]
    assert [b["data"][0]["id"] for b in receiver.bodies("/geo")] == ["urn:ngsi-ld:Building:tall"]


def test_throttling(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url + "/t", throttling=30)
    ngsi.create(building())
    for height in (1, 2):
        ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs", json={"height": {"type": "Property", "value": height}})
    wait_for(receiver.bodies)
    time.sleep(0.4)
    assert len(receiver.bodies()) == 1


def test_paused_and_expired_subscriptions_do_not_notify(ngsi: Ngsi, receiver: Receiver) -> None:
    paused = subscribe(ngsi, receiver.url + "/paused", isActive=False)
    expiring = subscribe(ngsi, receiver.url + "/expired", expiresAt="2099-01-01T00:00:00Z")
    subscribe(ngsi, receiver.url + "/live")
    from saola.context.subscription_models import NgsiSubscription

    session = ngsi.client.app.state.session_factory()
    row = session.query(NgsiSubscription).filter_by(sub_id=expiring).one()
    row.definition = {**row.definition, "expanded": {**row.definition["expanded"],
                                                     "expiresAt": "2001-01-01T00:00:00Z"}}
    session.commit()
    session.close()
    assert ngsi.get(f"/subscriptions/{expiring}").json()["status"] == "expired"
    ngsi.create(building())
    wait_for(lambda: receiver.bodies("/live"))
    time.sleep(0.3)
    assert receiver.bodies("/paused") == [] and receiver.bodies("/expired") == []
    assert ngsi.patch(f"/subscriptions/{paused}", json={"isActive": True}).status_code == 204
    ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs", json={"height": {"type": "Property", "value": 5}})
    wait_for(lambda: receiver.bodies("/paused"))


def test_unreachable_endpoint_retries_without_delaying_others(ngsi: Ngsi, receiver: Receiver) -> None:
    dead = subscribe(ngsi, f"http://127.0.0.1:{closed_port()}/dead")
    subscribe(ngsi, receiver.url + "/ok")
    ngsi.create(building())
    for height in (1, 2, 3):
        ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs", json={"height": {"type": "Property", "value": height}})
    wait_for(lambda: len(receiver.bodies("/ok")) == 4, timeout=5)
    status = wait_for(lambda: (s := ngsi.get(f"/subscriptions/{dead}").json()["notification"])["timesFailed"] >= 3
                      and s)
    assert status["status"] == "failed" and "lastFailure" in status and "lastSuccess" not in status
    # the failed notification is still queued and goes out once the endpoint works
    assert ngsi.patch(f"/subscriptions/{dead}", json={"notification": {"endpoint": {
        "uri": receiver.url + "/revived", "accept": "application/json"}}}).status_code == 204
    bodies = wait_for(lambda: len(receiver.bodies("/revived")) == 4 and receiver.bodies("/revived"))
    assert [b["data"][0]["height"]["value"] for b in bodies] == [120.5, 1, 2, 3]


def test_outbox_survives_a_restart(settings, writer_token: str, receiver: Receiver) -> None:
    first = create_app(settings)
    first.state.notifier_config = NotifierConfig(poll=0.05, deliver=False)
    headers = {"Authorization": f"Bearer {writer_token}"}
    with TestClient(first, base_url="http://127.0.0.1") as client:
        ngsi = Ngsi(client, headers)
        subscribe(ngsi, receiver.url + "/later")
        ngsi.create(building())
        time.sleep(0.5)
    assert receiver.bodies() == []
    second = create_app(settings)
    second.state.notifier_config = FAST
    with TestClient(second, base_url="http://127.0.0.1"):
        bodies = wait_for(lambda: receiver.bodies("/later"))
    assert bodies[0]["data"][0]["id"] == "urn:ngsi-ld:Building:b1"


def test_periodic_subscription(ngsi: Ngsi, receiver: Receiver) -> None:
    ngsi.create(building())
    subscribe(ngsi, receiver.url + "/periodic", timeInterval=1)
    bodies = wait_for(lambda: len(receiver.bodies("/periodic")) >= 2 and receiver.bodies("/periodic"), timeout=5)
    assert bodies[0]["data"][0]["id"] == "urn:ngsi-ld:Building:b1"


def test_mqtt_notifications(ngsi: Ngsi) -> None:
    from paho.mqtt import client as mqtt

    parts = urlsplit(MQTT_URL)
    host, port = require_server(MQTT_URL, 1883, "SAOLA_TEST_MQTT_URL")
    topic = f"saola/test/{time.time_ns()}"
    got: list[dict[str, Any]] = []
    receiver = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    if parts.username:
        receiver.username_pw_set(parts.username, parts.password)
    receiver.on_message = lambda _c, _u, message: got.append(json.loads(message.payload))
    receiver.connect(host, port)
    receiver.subscribe(topic, qos=1)
    receiver.loop_start()
    try:
        time.sleep(0.2)
        netloc = parts.netloc or f"{host}:{port}"
        subscribe(ngsi, f"mqtt://{netloc}/{topic}", notification={"endpoint": {
            "uri": f"mqtt://{netloc}/{topic}", "accept": "application/json",
            "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}]}})
        ngsi.create(building())
        messages = wait_for(lambda: got)
    finally:
        receiver.loop_stop()
        receiver.disconnect()
    assert messages[0]["metadata"]["Content-Type"] == "application/json"
    assert messages[0]["body"]["type"] == "Notification"
    assert messages[0]["body"]["data"][0]["id"] == "urn:ngsi-ld:Building:b1"
