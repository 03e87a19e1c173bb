"""Saola as several processes on one shared event bus: a separate ``saola ingest`` stores a device's measure
sent over MQTT, and the web application's NGSI-LD subscription notifies a real HTTP receiver of it.

On PostgreSQL (both processes share the database), real Mosquitto, and the real Redis or NATS — all
required in CI. With the memory bus the web app would never hear of the ingest process's changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from paho.mqtt import client as mqtt

from saola.context.notifier import NotifierConfig
from saola.core.settings import Settings, load_settings
from tests.context.test_subscriptions_delivery import Receiver
from tests.core.event_bus_contract import NATS_URL, REDIS_URL
from tests.core.helpers import require_server
from tests.devices.mqtt_fixtures import MQTT_URL, provision, require_broker

SAOLA = str(Path(sys.executable).with_name("saola"))
ENTITY = "urn:ngsi-ld:AirQualityObserved:e2e-{}"
BUS_URLS = {"redis": (REDIS_URL, 6379, "SAOLA_TEST_REDIS_URL"), "nats": (NATS_URL, 4222, "SAOLA_TEST_NATS_URL")}


@pytest.fixture
def database_url(pg_url: str) -> str:
    """Two processes share the database: PostgreSQL only (required in CI)."""
    return pg_url


@pytest.fixture(params=sorted(BUS_URLS))
def bus(request: pytest.FixtureRequest) -> dict[str, str]:
    url, port, variable = BUS_URLS[request.param]
    require_server(url, port, variable)
    require_broker()
    return {"event_bus": request.param, "event_bus_url": url, "event_bus_namespace": f"t{uuid.uuid4().hex[:10]}"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, bus: dict[str, str]) -> Settings:
    return load_settings(database_url=database_url, data_dir=tmp_path, env="test", log_json=True,
                         secret_key="test-secret-key-0123456789abcdef0123456789", mqtt_url=MQTT_URL,
                         mqtt_ingest="off", **bus)


@pytest.fixture
def ingest_process(settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``saola ingest`` in its own process, on the same database, broker and event bus as the app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAOLA_")}
    env.update(SAOLA_DATABASE_URL=settings.effective_database_url, SAOLA_DATA_DIR=str(tmp_path), SAOLA_ENV="test",
               SAOLA_CONFIG_FILE=str(tmp_path / "saola.toml"), SAOLA_LOG_LEVEL="INFO",
               SAOLA_MQTT_URL=MQTT_URL, SAOLA_MQTT_SHARED_GROUP=f"g{uuid.uuid4().hex[:10]}", SAOLA_MQTT_BATCH_MS="20",
               SAOLA_MQTT_SESSION_EXPIRY_SECONDS="0", SAOLA_EVENT_BUS=settings.event_bus,
               SAOLA_EVENT_BUS_URL=settings.event_bus_url, SAOLA_EVENT_BUS_NAMESPACE=settings.event_bus_namespace)
    (tmp_path / "saola.toml").touch()
    log = (tmp_path / "ingest.log").open("wb")
    process = subprocess.Popen([SAOLA, "ingest", "--client-id", f"e2e-{uuid.uuid4().hex[:8]}", "--report-every", "0"],
                               env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    log.close()


def ingest_log(tmp_path: Path) -> str:
    return (tmp_path / "ingest.log").read_text(errors="replace")[-4000:]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_a_measure_stored_by_a_separate_ingest_process_is_notified_by_the_web_app(
        app: Any, token: Any, settings: Settings, ingest_process: subprocess.Popen[bytes], receiver: Receiver,
        tmp_path: Path) -> None:
    device = uuid.uuid4().hex[:8]
    entity_id = ENTITY.format(device)
    apikey = provision(app.state.session_factory, [{"device_id": device, "entity_name": entity_id,
                                                    "entity_type": "AirQualityObserved"}])
    app.state.notifier_config = NotifierConfig(backoff_base=0.2, backoff_cap=0.4, timeout=2.0, poll=0.05)
    headers = {"Authorization": f"Bearer {token('admin', scopes=['context:read', 'context:write'])}"}
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"e2e-pub-{device}")
    host, port = require_broker()
    publisher.connect(host, port)
    publisher.loop_start()
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            body = {"type": "Subscription", "entities": [{"id": entity_id, "type": "AirQualityObserved"}],
                    "watchedAttributes": ["temperature"],
                    "notification": {"format": "keyValues", "attributes": ["temperature"],
                                     "endpoint": {"uri": receiver.url + "/notify", "accept": "application/json"}}}
            created = client.post("/ngsi-ld/v1/subscriptions", json=body, headers=headers)
            assert created.status_code == 201, created.text
            sent: list[float] = []
            deadline = time.monotonic() + 45
            while not receiver.bodies("/notify"):
                # until the ingest process is subscribed to the broker and the bus (messages sent before are lost)
                assert ingest_process.poll() is None, f"saola ingest exited:\n{ingest_log(tmp_path)}"
                assert time.monotonic() < deadline, f"no notification; saola ingest said:\n{ingest_log(tmp_path)}"
                sent.append(20.0 + len(sent))
                publisher.publish(f"/{apikey}/{device}/attrs", json.dumps({"t": sent[-1]}), qos=1).wait_for_publish(5)
                for _ in range(10):
                    if receiver.bodies("/notify"):
                        break
                    time.sleep(0.05)
            notification = receiver.bodies("/notify")[0]
            assert notification["type"] == "Notification"
            assert notification["subscriptionId"] == created.headers["location"].rsplit("/", 1)[1]
            [data] = notification["data"]
            assert data["id"] == entity_id and data["temperature"] in sent
            entity = client.get(f"/ngsi-ld/v1/entities/{entity_id}", headers=headers).json()
            assert entity["temperature"]["value"] in sent  # stored by the other process, in the shared database
            assert app.state.event_bus.status()["received"] >= 1  # it came over the shared bus
    finally:
        publisher.loop_stop()
        publisher.disconnect()
