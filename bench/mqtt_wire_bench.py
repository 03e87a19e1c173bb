"""The ingest worker's MQTT receive path: gmqtt (as the worker used it until 2026-11-25) vs saola.devices.mqtt_wire.

A publisher process sends ``--messages`` 3-measure JSON messages with QoS 1 through the local Mosquitto as
fast as the broker takes them; a subscriber process (MQTT v5, Receive Maximum 65535, QoS 1 subscription)
receives them the way the worker does: each message queued, every 50 ms all queued messages "stored" (no
database here) and acknowledged. Reported per receive path: messages/s end to end and the subscriber's
CPU time per message (steadier than the rate on a shared machine).

* gmqtt: manual acknowledgement — the message callback is a coroutine awaiting a future that the batch
  loop resolves; gmqtt then sends each PUBACK.
* wire: :mod:`saola.devices.mqtt_wire` — the PUBLISH packets of a socket read handed over as one list,
  the PUBACKs of a batch written in one go.

    .venv/bin/python bench/mqtt_wire_bench.py --messages 100000 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import time
import uuid
from typing import Any

HOST = os.environ.get("SAOLA_BENCH_MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("SAOLA_BENCH_MQTT_PORT", "1883"))


def publish(topic: str, count: int, ready: Any, result: Any) -> None:
    async def run() -> None:
        from saola.devices import mqtt_wire

        conn = await mqtt_wire.connect(HOST, PORT, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}",
                                       on_publish=lambda _c, _r: None, clean_start=True)
        window = max(1, conn.server_receive_maximum - 1)
        ready.wait(30)
        began, sent = time.perf_counter(), 0
        while sent < count:
            n = min(count - sent, window - (sent - conn.published_acked), 500)
            if n <= 0:
                await asyncio.sleep(0.0005)
                continue
            conn.publish_many([(topic, json.dumps({"t": 20 + i % 15, "h": 40 + i % 30, "p": 1000 + i % 20,
                                                   "TimeInstant": "2026-11-25T00:00:00.000Z"}).encode())
                               for i in range(sent, sent + n)])
            sent += n
            await asyncio.sleep(0)
        while conn.published_acked < count and time.perf_counter() - began < 120:
            await asyncio.sleep(0.01)
        result.put(("published", time.perf_counter() - began))
        await conn.disconnect()

    asyncio.run(run())


def subscribe_gmqtt(topic: str, count: int, ready: Any, result: Any) -> None:
    async def run() -> None:
        from gmqtt import Client

        pending: list[asyncio.Future[int]] = []
        got = [0]
        first: list[float] = []
        done = asyncio.Event()

        async def on_message(_client: Any, _topic: str, _payload: bytes, _qos: int, _props: Any) -> int:
            if not first:
                first.append(time.perf_counter())
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            pending.append(future)
            return await future

        async def batches() -> None:
            while not done.is_set():
                await asyncio.sleep(0.05)
                batch, pending[:] = list(pending), []
                for future in batch:
                    future.set_result(0)
                got[0] += len(batch)
                if got[0] >= count:
                    done.set()

        client = Client(f"bench-sub-{uuid.uuid4().hex[:8]}", clean_session=True, optimistic_acknowledgement=False,
                        receive_maximum=65535)
        client.on_message = on_message
        await client.connect(HOST, PORT)
        client.subscribe(topic, qos=1)
        await asyncio.sleep(0.5)
        loop = asyncio.create_task(batches())
        cpu = time.process_time()
        ready.set()
        await asyncio.wait_for(done.wait(), 300)
        result.put(("received", time.perf_counter() - first[0], time.process_time() - cpu))
        loop.cancel()
        await client.disconnect()

    asyncio.run(run())


def subscribe_wire(topic: str, count: int, ready: Any, result: Any) -> None:
    async def run() -> None:
        from saola.devices import mqtt_wire

        pending: list[tuple[mqtt_wire.MqttConnection, int]] = []
        got = [0]
        first: list[float] = []

        def on_publish(conn: mqtt_wire.MqttConnection, received: list[mqtt_wire.Received]) -> None:
            if not first:
                first.append(time.perf_counter())
            pending.extend((conn, pid) for _t, _p, pid in received)

        conn = await mqtt_wire.connect(HOST, PORT, client_id=f"bench-sub-{uuid.uuid4().hex[:8]}",
                                       on_publish=on_publish, clean_start=True, receive_maximum=65535)
        await conn.subscribe([topic], qos=1)
        cpu = time.process_time()
        ready.set()
        deadline = time.perf_counter() + 300
        while got[0] < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
            batch, pending[:] = list(pending), []
            conn.puback([pid for _c, pid in batch])
            got[0] += len(batch)
        result.put(("received", time.perf_counter() - first[0], time.process_time() - cpu))
        await conn.disconnect()

    asyncio.run(run())


def measure(path: str, count: int) -> tuple[float, float]:
    """(messages/s end to end, subscriber CPU µs a message)."""
    ctx = mp.get_context("spawn")
    ready, result = ctx.Event(), ctx.Queue()
    topic = f"/bench{uuid.uuid4().hex[:8]}/dev/attrs"
    target = subscribe_gmqtt if path == "gmqtt" else subscribe_wire
    sub = ctx.Process(target=target, args=(topic, count, ready, result))
    pub = ctx.Process(target=publish, args=(topic, count, ready, result))
    sub.start()
    pub.start()
    outcomes = {}
    for _ in range(2):
        item = result.get(timeout=400)
        outcomes[item[0]] = item[1:]
    pub.join(30)
    sub.join(30)
    seconds, cpu = outcomes["received"]
    return count / seconds, cpu * 1e6 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{args.messages:,} messages, QoS 1, acknowledged in batches every 50 ms; load {os.getloadavg()[0]:.1f}")
    print(f"{'path':<6} {'msg/s':>9} {'subscriber CPU µs/msg':>22}")
    for _ in range(args.rounds):
        for path in ("gmqtt", "wire"):
            rate, cpu = measure(path, args.messages)
            print(f"{path:<6} {rate:>9,.0f} {cpu:>22.1f}", flush=True)


if __name__ == "__main__":
    main()
