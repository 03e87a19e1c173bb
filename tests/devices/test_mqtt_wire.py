"""The purpose-written MQTT connection (saola.devices.mqtt_wire) and the worker's acknowledgement on it:
packets split anywhere by the socket, QoS 0/1, protocol errors, PUBACKs in bulk, the broker redelivering
what was not acknowledged (real Mosquitto, asyncio and uvloop), PUBACK only once the batch is stored, and
two batches stored at once without loss, double storage or an older value winning."""

from __future__ import annotations

import asyncio
import json
import struct
import threading
import time
import uuid
from typing import Any

import pytest

from saola.devices import mqtt_wire
from saola.devices.ingest import Ingestor
from tests.devices.mqtt_fixtures import (
    Publisher,
    measures_of,
    provision,
    publisher,  # noqa: F401 - fixture
    require_broker,
    start_worker,  # noqa: F401 - fixture
    wait_until,
    worker_settings,
)


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True


def _connection() -> tuple[mqtt_wire.MqttConnection, list[mqtt_wire.Received], FakeTransport]:
    got: list[mqtt_wire.Received] = []
    conn = mqtt_wire.MqttConnection(lambda _c, received: got.extend(received), keepalive=0)
    transport = FakeTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    return conn, got, transport


def _publish_with_properties(topic: str, payload: bytes, packet_id: int) -> bytes:
    props = b"\x01\x01" + b"\x03" + struct.pack("!H", 16) + b"application/json"  # format indicator, content type
    body = struct.pack("!H", len(topic)) + topic.encode() + struct.pack("!H", packet_id)
    return mqtt_wire.packet(0x32, body + mqtt_wire.varint(len(props)) + props + payload)


def test_publishes_split_anywhere_by_the_socket_arrive_once_in_order() -> None:
    async def run() -> None:
        sent = [("/k/d1/attrs", json.dumps({"t": n, "pad": "x" * (n * 37 % 300)}).encode(), n + 1) for n in range(40)]
        stream = b"".join(_publish_with_properties(t, p, pid) if pid % 3 == 0
                          else mqtt_wire.publish_packet(t, p, qos=1, packet_id=pid) for t, p, pid in sent)
        stream += mqtt_wire.publish_packet("/k/d2/attrs", b"t|1", qos=0)  # QoS 0: packet id 0
        for cut in (1, 2, 3, 7, 64, 1000, len(stream)):
            conn, got, transport = _connection()
            for start in range(0, len(stream), cut):
                conn.data_received(stream[start:start + cut])
            assert got == [*sent, ("/k/d2/attrs", b"t|1", 0)], cut
            assert not transport.aborted and not conn.buffer

    asyncio.run(run())


def test_a_qos_2_publish_or_a_broken_packet_drops_the_connection_unacknowledged() -> None:
    async def run() -> None:
        for bad in (mqtt_wire.publish_packet("/k/d/attrs", b"{}", qos=2, packet_id=5),
                    mqtt_wire.packet(0x32, b"\x00\x09/k/d"),  # the topic runs past the packet
                    bytes((0x32, 0xFF, 0xFF, 0xFF, 0xFF, 0x01))):  # a remaining length of 5 bytes
            conn, got, transport = _connection()
            conn.data_received(bad)
            assert transport.aborted and got == [] and transport.written == []

    asyncio.run(run())


def test_pubacks_of_a_batch_go_in_one_write_and_only_on_an_open_connection() -> None:
    assert mqtt_wire.puback_packets([1, 0x1234, 65535]) == bytes.fromhex("40020001" "40021234" "4002ffff")

    async def run() -> None:
        conn, _got, transport = _connection()
        conn.puback([7, 0, 8])  # 0: a QoS 0 message, nothing to acknowledge
        assert transport.written == [bytes.fromhex("40020007" "40020008")]
        transport.aborted = True
        conn.puback([9])
        assert len(transport.written) == 1

    asyncio.run(run())


async def _session_round(host: str, port: int, client_id: str, topic: str, *, ack: bool,
                         publish: list[bytes]) -> list[bytes]:
    """Connect with a persistent session, publish ``publish`` (paho-free: our own QoS 1 publishes), collect
    what arrives for 1 s, acknowledge it or not, disconnect; what arrived."""
    got: list[mqtt_wire.Received] = []
    conn = await mqtt_wire.connect(host, port, client_id=client_id, on_publish=lambda _c, r: got.extend(r),
                                   clean_start=False, session_expiry=60, receive_maximum=100)
    codes = await conn.subscribe([topic], qos=1)
    assert codes == b"\x01"
    if publish:
        sender = await mqtt_wire.connect(host, port, client_id=f"pub-{uuid.uuid4().hex[:8]}",
                                         on_publish=lambda _c, _r: None, clean_start=True)
        sender.publish_many([(topic, body) for body in publish])
        deadline = time.monotonic() + 5
        while sender.published_acked < len(publish) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await sender.disconnect()
    await asyncio.sleep(1.0)
    if ack:
        conn.puback([pid for _t, _p, pid in got])
        await asyncio.sleep(0.2)
    await conn.disconnect()
    return [payload for _t, payload, _pid in got]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_the_broker_sends_again_what_was_not_acknowledged(loop: str) -> None:
    host, port = require_broker()
    client_id, topic = f"wire-{uuid.uuid4().hex[:10]}", f"/wire{uuid.uuid4().hex[:8]}/d1/attrs"
    bodies = [f'{{"t": {n}}}'.encode() for n in range(5)]
    if loop == "uvloop":
        import uvloop

        run: Any = uvloop.run
    else:
        run = asyncio.run
    first = run(_session_round(host, port, client_id, topic, ack=False, publish=bodies))
    assert first == bodies
    again = run(_session_round(host, port, client_id, topic, ack=True, publish=[]))
    assert again == bodies  # not acknowledged: redelivered on the next connection of the session
    after = run(_session_round(host, port, client_id, topic, ack=True, publish=[]))
    assert after == []  # acknowledged: gone
    cleanup = mqtt_wire.connect(host, port, client_id=client_id, on_publish=lambda _c, _r: None, clean_start=True)

    async def end_session() -> None:
        conn = await cleanup
        await conn.disconnect()

    asyncio.run(end_session())


def test_the_puback_waits_for_the_batch_to_be_stored(app, settings, start_worker,  # noqa: F811
                                                     publisher: Publisher) -> None:  # noqa: F811
    """The worker writes the PUBACK of a message only once the store of its batch returned."""
    key = provision(app.state.session_factory, [{"device_id": "slow-1"}])
    release, entered = threading.Event(), threading.Event()

    class Slow(Ingestor):
        def store(self, messages):  # type: ignore[no-untyped-def]
            entered.set()
            release.wait(20)
            return super().store(messages)

    running = start_worker(worker_settings(settings))
    running.worker.ingestor = Slow(app.state.session_factory, app.state.settings)
    conn = running.worker.client
    assert conn is not None
    acks: list[tuple[list[int], int]] = []
    write = conn.puback
    conn.puback = lambda ids: (acks.append((list(ids), measures_of(app.state.session_factory, key))),  # type: ignore[method-assign]
                               write(ids))[-1]
    publisher.send(f"/{key}/slow-1/attrs", json.dumps({"t": 21.5, "TimeInstant": "2026-11-25T01:00:00Z"}))
    assert entered.wait(10)
    time.sleep(0.5)
    assert acks == [] and measures_of(app.state.session_factory, key) == 0
    release.set()
    wait_until(lambda: bool(acks), what="the PUBACK")
    [(ids, stored_then)] = acks
    assert len(ids) == 1 and ids[0] > 0 and stored_then == 1  # one PUBACK, written after the measure was stored


def test_two_batches_stored_at_once_lose_nothing_and_keep_the_newest_value(app, settings, start_worker,  # noqa: F811
                                                                          client, iot_headers,
                                                                          publisher: Publisher) -> None:  # noqa: F811
    devices = [f"c-{n}" for n in range(4)]
    key = provision(app.state.session_factory, [{"device_id": d} for d in devices])
    running = start_worker(worker_settings(settings, mqtt_batch_size=25, mqtt_batch_ms=5))
    running.worker.store_concurrency = 2
    total = 400
    infos = []
    for i in range(total):
        body = {"t": i, "h": 50, "p": 1000, "TimeInstant": f"2026-11-25T02:{i // 60:02d}:{i % 60:02d}Z"}
        infos.append(publisher.send(f"/{key}/{devices[i % 4]}/attrs", json.dumps(body), wait=False))
    for info in infos:
        info.wait_for_publish(30)
    wait_until(lambda: measures_of(app.state.session_factory, key) == total * 3, timeout=30,
               what="every measure stored")
    assert running.worker.stats.duplicates == 0 and running.worker.stats.batches > 2
    for n, device in enumerate(devices):
        got = client.get(f"/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:{device}",
                         params={"options": "keyValues"}, headers=iot_headers)
        assert got.status_code == 200, got.text
        assert got.json()["temperature"] == max(i for i in range(total) if i % 4 == n)
