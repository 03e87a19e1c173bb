"""Which MQTT client library the ingest worker uses, decided by measurement.

Raw publish→subscribe through the local Mosquitto with each candidate library on both sides: a
publisher process sends ``--messages`` 3-measure JSON messages with QoS 1 as fast as the broker takes
them, a subscriber (MQTT v5, Receive Maximum 65535, QoS 1 subscription, acknowledgement sent by the
application after the message was handed over, as the worker does) counts them. Reported per library:
the publisher's rate (all PUBACKs back) and the end-to-end rate (first publish to last message received).

    .venv/bin/python bench/mqtt_clients.py --messages 50000

aiomqtt is not measured: it is built on paho and known to be several times slower here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import threading
import time
import uuid
from collections.abc import Callable

HOST = os.environ.get("SAOLA_BENCH_MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("SAOLA_BENCH_MQTT_PORT", "1883"))
PAYLOAD = json.dumps({"t": 25.3, "h": 61, "p": 1013.2}).encode()


# --- paho-mqtt 2.x ----------------------------------------------------------------------------


def paho_publish(topic: str, count: int, ready: mp.Event, result: mp.Queue) -> None:  # type: ignore[type-arg]
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    acked = threading.Event()
    done = [0]

    def on_publish(_c: object, _u: object, _mid: int, _rc: object, _p: object) -> None:
        done[0] += 1
        if done[0] == count:
            acked.set()

    client.on_publish = on_publish
    client.connect(HOST, PORT)
    client.loop_start()
    ready.wait()
    start = time.perf_counter()
    for _ in range(count):
        client.publish(topic, PAYLOAD, qos=1)
    acked.wait(120)
    result.put(("publish", start, time.perf_counter()))
    client.loop_stop()
    client.disconnect()


def paho_subscribe(topic: str, count: int, on_ready: Callable[[], None]) -> float:
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv5, manual_ack=True)
    got = threading.Event()
    subscribed = threading.Event()
    seen = [0]

    def on_message(c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        seen[0] += 1
        c.ack(msg.mid, msg.qos)
        if seen[0] == count:
            got.set()

    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.set()
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = 65535
    client.connect(HOST, PORT, properties=props)
    client.loop_start()
    client.subscribe(topic, qos=1)
    subscribed.wait(10)
    on_ready()
    got.wait(180)
    end = time.perf_counter()
    client.loop_stop()
    client.disconnect()
    if seen[0] != count:
        raise RuntimeError(f"paho received {seen[0]} of {count}")
    return end


# --- gmqtt ------------------------------------------------------------------------------------


def gmqtt_publish(topic: str, count: int, ready: mp.Event, result: mp.Queue) -> None:  # type: ignore[type-arg]
    async def run() -> None:
        from gmqtt import Client

        client = Client(f"bench-pub-{uuid.uuid4().hex[:8]}")
        done, room = asyncio.Event(), asyncio.Event()
        acked = [0]

        def on_ack(*_a: object) -> None:
            acked[0] += 1
            room.set()
            if acked[0] == count:
                done.set()

        await client.connect(HOST, PORT)
        # gmqtt has no publish-acknowledged callback: count PUBACKs by wrapping its handler.
        original = client._package_handler._handle_puback_packet

        def counting(cmd: int, packet: bytes) -> None:
            original(cmd, packet)
            on_ack()

        client._package_handler._handle_puback_packet = counting
        await asyncio.to_thread(ready.wait)
        start = time.perf_counter()
        # gmqtt raises when all packet ids are in flight: keep within the broker's Receive Maximum.
        window = max(1, client._connection._protocol.id_generator._max - 1)
        for i in range(count):
            while i - acked[0] >= window:
                room.clear()
                await room.wait()
            client.publish(topic, PAYLOAD, qos=1)
        await asyncio.wait_for(done.wait(), 120)
        result.put(("publish", start, time.perf_counter()))
        await client.disconnect()

    asyncio.run(run())


def gmqtt_subscribe(topic: str, count: int, on_ready: Callable[[], None]) -> float:
    async def run() -> float:
        from gmqtt import Client

        client = Client(f"bench-sub-{uuid.uuid4().hex[:8]}", optimistic_acknowledgement=False,
                        receive_maximum=65535)
        got = asyncio.Event()
        seen = [0]

        def on_message(_c: object, _t: str, _payload: bytes, _qos: int, _p: object) -> int:
            seen[0] += 1
            if seen[0] == count:
                got.set()
            return 0

        client.on_message = on_message
        await client.connect(HOST, PORT)
        client.subscribe(topic, qos=1)
        await asyncio.sleep(0.3)
        on_ready()
        await asyncio.wait_for(got.wait(), 180)
        end = time.perf_counter()
        await client.disconnect()
        return end

    return asyncio.run(run())


CLIENTS = {"paho-mqtt": (paho_publish, paho_subscribe), "gmqtt": (gmqtt_publish, gmqtt_subscribe)}


def measure(name: str, count: int, publisher: str | None = None) -> dict[str, float]:
    """Publisher (``publisher`` or the same library) in a child process, subscriber here:
    {publish_rate, end_to_end_rate} in messages/s."""
    publish, subscribe = CLIENTS[publisher or name][0], CLIENTS[name][1]
    topic = f"bench/clients/{uuid.uuid4().hex[:8]}"
    ctx = mp.get_context("spawn")
    ready, result = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=publish, args=(topic, count, ready, result))
    proc.start()
    end = subscribe(topic, count, ready.set)
    _kind, start, pub_end = result.get(timeout=120)
    proc.join(30)
    return {"publish_rate": count / (pub_end - start), "end_to_end_rate": count / (end - start)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--clients", nargs="*", default=list(CLIENTS))
    parser.add_argument("--publisher", choices=list(CLIENTS), default=None,
                        help="one publisher library for every subscriber (isolates the receiving side)")
    args = parser.parse_args()
    for name in args.clients:
        try:
            rates = measure(name, args.messages, args.publisher)
        except ImportError as exc:
            print(f"{name:10s} not installed ({exc})")
            continue
        print(f"{name:10s} {args.messages} msgs QoS 1 (publisher {args.publisher or name}): publish "
              f"{rates['publish_rate']:,.0f} msg/s, publish→subscribe {rates['end_to_end_rate']:,.0f} msg/s")


if __name__ == "__main__":
    main()
