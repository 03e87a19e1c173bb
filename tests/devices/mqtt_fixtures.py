"""What the MQTT tests share: the real broker (required in CI), an ingest worker on its own event loop in a
thread, a paho publisher, a simulated device, unique API keys and a TCP proxy to cut the database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from paho.mqtt import client as mqtt
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from saola.core.db import unit_of_work
from saola.core.settings import Settings
from saola.devices import service
from saola.devices.models import Device
from saola.devices.mqtt_worker import MqttWorker
from saola.devices.schemas import DeviceIn, ServiceIn
from tests.core.helpers import require_server

MQTT_URL = os.environ.get("SAOLA_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
MAPPINGS = [{"object_id": "t", "name": "temperature", "type": "Number", "unit": "CEL"},
            {"object_id": "h", "name": "relativeHumidity", "type": "Number", "unit": "P1"},
            {"object_id": "p", "name": "atmosphericPressure", "type": "Number"}]


def require_broker() -> tuple[str, int]:
    return require_server(MQTT_URL, 1883, "SAOLA_TEST_MQTT_URL")


def worker_settings(settings: Settings, **changes: Any) -> Settings:
    """The test settings with the test broker, and a shared group and client id of their own: other tests use
    the broker at the same time, and a second connection with the same client id would take over the first."""
    return settings.model_copy(update={"mqtt_url": MQTT_URL, "mqtt_shared_group": f"t{uuid.uuid4().hex[:10]}",
                                       "mqtt_client_id": f"test-app-{uuid.uuid4().hex[:10]}",
                                       "mqtt_batch_ms": 20, "mqtt_session_expiry_seconds": 0, **changes})


class WorkerThread:
    """An :class:`MqttWorker` running on its own event loop in a background thread."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], *, client_id: str | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="mqtt-worker-test")
        self.thread.start()
        self.rejected: list[tuple[Any, str]] = []
        self.worker = self.call(self._make, settings, factory, client_id or f"test-{uuid.uuid4().hex[:12]}")
        self.worker.on_rejected = lambda item, reason: self.rejected.append((item, reason))
        self.call(self.worker.start)
        if not self.worker.stats.connected:
            raise AssertionError("the ingest worker did not connect to the broker")
        time.sleep(0.3)  # SUBACKs

    @staticmethod
    async def _make(settings: Settings, factory: sessionmaker[Session], client_id: str) -> MqttWorker:
        return MqttWorker(settings=settings, session_factory=factory, client_id=client_id)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(fn(*args), self.loop)
        return future.result(30)

    def reasons(self, api_key: str) -> list[str]:
        return [reason for item, reason in self.rejected if getattr(item, "api_key", None) == api_key]

    def stop(self) -> None:
        self.call(self.worker.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def start_worker(app) -> Iterator[Callable[..., WorkerThread]]:
    require_broker()
    started: list[WorkerThread] = []

    def _start(settings: Settings, factory: sessionmaker[Session] | None = None, **kw: Any) -> WorkerThread:
        thread = WorkerThread(settings, factory or app.state.session_factory, **kw)
        started.append(thread)
        return thread

    yield _start
    for thread in started:
        thread.stop()


class Publisher:
    """A paho client publishing with QoS 1 (each publish waits for its PUBACK)."""

    def __init__(self) -> None:
        host, port = require_broker()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:10]}")
        self.client.max_inflight_messages_set(200)
        self.client.connect(host, port)
        self.client.loop_start()

    def send(self, topic: str, payload: str | bytes, *, wait: bool = True) -> mqtt.MQTTMessageInfo:
        info = self.client.publish(topic, payload, qos=1)
        if wait:
            info.wait_for_publish(10)
        return info

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    pub = Publisher()
    yield pub
    pub.close()


def provision(factory: sessionmaker[Session], devices: list[dict[str, Any]], *, commands: list[str] = (),
              protocol: str = "IoTA-JSON", tenant: str = "") -> str:
    """A service group with a fresh API key and ``devices``; the API key."""
    apikey = f"k{uuid.uuid4().hex[:12]}"
    with unit_of_work(factory) as session:
        service.create_groups(session, tenant=tenant, service_path="/", services=[ServiceIn(
            apikey=apikey, entity_type="AirQualityObserved", attributes=MAPPINGS, protocol=protocol,
            commands=[{"name": c} for c in commands])])
        service.create_devices(session, tenant=tenant, service_path="/",
                               devices=[DeviceIn.model_validate({"apikey": apikey, **d}) for d in devices])
    return apikey


def measures_of(factory: sessionmaker[Session], apikey: str) -> int:
    with unit_of_work(factory) as session:
        return int(session.scalar(select(func.coalesce(func.sum(Device.measure_count), 0))
                                  .where(Device.api_key == apikey)) or 0)


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class DbProxy:
    """A TCP proxy in front of the test PostgreSQL server that a test can cut and restore."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.open = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="db-proxy").start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def cut(self) -> None:
        """Refuse new connections and break the open ones: the database is 'down'."""
        self.open = False
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.server.close()
