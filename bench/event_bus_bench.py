"""Events/s and publish→receive latency through each event bus backend, against the raw client of the same library.

For each of ``memory`` (one process, reference), ``redis`` (Pub/Sub; and Streams for a consumer group) and
``nats``: a publisher in this process and a subscriber in another process (as ``saola ingest`` and
``saola serve`` would be), an ``ngsi.entity.updated``-shaped payload of about 1 KB carrying its send time.

* *burst*: ``--count`` events published as fast as the publisher can; events/s = events received / (last
  receive − first send), with the latency of each event under that load (p50/p99);
* *paced*: ``--rate`` events/s for ``--seconds``: the latency when the bus is not saturated.

The baseline in the same run is the raw client of the same library doing the same: redis-py asyncio
``PUBLISH`` in pipelines of 512 to a ``PSUBSCRIBE``r, nats-py ``publish`` to a subscriber, the same
JSON bytes decoded on receipt. Bounded: every phase stops after ``--timeout`` seconds.

    .venv/bin/python bench/event_bus_bench.py            # prints and appends to bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import percentile

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("SAOLA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("SAOLA_BENCH_NATS_URL", "nats://127.0.0.1:4222")
ENTITY: dict[str, Any] = {"https://smartdatamodels.org/dataModel.Environment/pm25": [
    {"@type": ["https://uri.etsi.org/ngsi-ld/Property"], "https://uri.etsi.org/ngsi-ld/hasValue": [{"@value": 57.25}],
     "https://uri.etsi.org/ngsi-ld/observedAt": [{"@value": "2026-11-24T09:59:00.000Z"}]}]}
ENTITY |= {f"https://smartdatamodels.org/dataModel.Environment/attr{n}": [{"@value": n * 1.5}] for n in range(8)}


def payload(n: int) -> dict[str, Any]:
    return {"tenant": "", "id": f"urn:ngsi-ld:AirQualityObserved:bench-{n % 1000}",
            "types": ["https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"],
            "changed": ["https://smartdatamodels.org/dataModel.Environment/pm25"], "entity": ENTITY, "previous": None,
            "n": n, "sent_ns": time.time_ns()}


def make_bus(kind: str, namespace: str) -> Any:
    from saola.core.events import make_event_bus

    class Conf:
        event_bus, event_bus_url, event_bus_namespace, event_bus_stream_maxlen = kind, None, namespace, 200_000

    Conf.event_bus_url = {"redis": REDIS_URL, "nats": NATS_URL}.get(kind, "")
    return make_event_bus(Conf())


# --- the subscriber, in its own process ---------------------------------------------------------


def receiver_main(kind: str, mode: str, namespace: str, count: int, timeout: float, conn: Any) -> None:
    asyncio.run(_receive(kind, mode, namespace, count, timeout, conn))


async def _receive(kind: str, mode: str, namespace: str, count: int, timeout: float, conn: Any) -> None:
    latencies: list[int] = []
    stamps: list[int] = []
    done = asyncio.Event()

    def record(sent_ns: int) -> None:
        now = time.time_ns()
        latencies.append(now - sent_ns)
        if not stamps:
            stamps.append(now)
        if len(latencies) >= count:
            stamps.append(now)
            done.set()

    closers: list[Any] = []
    if mode in ("bus", "group"):
        bus = make_bus(kind, namespace)
        sub = bus.subscribe("ngsi.entity.*", max_queue=count + 10, group="bench" if mode == "group" else None)
        await bus.ready()

        async def consume() -> None:
            async for event in sub:
                record(event.payload["sent_ns"])
                if done.is_set():
                    return

        task = asyncio.create_task(consume())
        closers.append(bus.close)
    elif kind == "redis":
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(REDIS_URL)
        pubsub = client.pubsub()
        await pubsub.psubscribe(f"{namespace}:ngsi.entity.*")
        while (await pubsub.get_message(timeout=5))["type"] != "psubscribe":
            pass

        async def consume() -> None:
            while not done.is_set():
                message = await pubsub.get_message(timeout=None)
                if message and message["type"] == "pmessage":
                    record(json.loads(message["data"])["p"]["sent_ns"])

        task = asyncio.create_task(consume())
        closers += [pubsub.aclose, client.aclose]
    else:
        import nats

        nc = await nats.connect(NATS_URL)

        async def handle(msg: Any) -> None:
            record(json.loads(msg.data)["p"]["sent_ns"])

        await nc.subscribe(f"{namespace}.ngsi.entity.>", cb=handle, pending_msgs_limit=count + 10)
        await nc.flush()
        task = asyncio.create_task(done.wait())
        closers.append(nc.close)
    conn.send("ready")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(done.wait()), timeout)
    task.cancel()
    for close in closers:
        with contextlib.suppress(Exception):  # best effort at the end of a bench
            await close()
    conn.send({"latencies": latencies, "first": stamps[0] if stamps else 0,
               "last": stamps[-1] if len(stamps) > 1 else time.time_ns()})


# --- the publisher --------------------------------------------------------------------------------


async def publish(kind: str, mode: str, namespace: str, count: int, rate: float | None) -> tuple[int, Any]:
    """Publish ``count`` events (at ``rate``/s or flat out); the first send time and a closer."""
    interval = 1.0 / rate if rate else 0.0
    start = time.perf_counter()
    first = time.time_ns()
    if mode in ("bus", "group"):
        bus = make_bus(kind, namespace)
        for n in range(count):
            await bus.publish("ngsi.entity.updated", payload(n))
            if interval:
                await _pace(start, n, interval)
            elif n % 512 == 511:
                await asyncio.sleep(0)  # let the sender ship a batch, as a real publisher's awaits would
        await bus.flush(120)
        return first, bus.close
    body = {"v": 1, "o": "raw", "t": "ngsi.entity.updated", "at": datetime.now(UTC).isoformat()}
    if kind == "redis":
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(REDIS_URL)
        pipe = client.pipeline(transaction=False)
        for n in range(count):
            pipe.publish(f"{namespace}:ngsi.entity.updated", json.dumps(body | {"p": payload(n)}).encode())
            if interval or n % 512 == 511 or n == count - 1:
                await pipe.execute()
            if interval:
                await _pace(start, n, interval)
        return first, client.aclose
    import nats

    nc = await nats.connect(NATS_URL)
    for n in range(count):
        await nc.publish(f"{namespace}.ngsi.entity.updated", json.dumps(body | {"p": payload(n)}).encode())
        if interval:
            await _pace(start, n, interval)
    await nc.flush()
    return first, nc.close


async def _pace(start: float, n: int, interval: float) -> None:
    delay = start + (n + 1) * interval - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def memory_run(count: int, rate: float | None) -> dict[str, Any]:
    from saola.core.events import MemoryEventBus

    bus = MemoryEventBus()
    sub = bus.subscribe("ngsi.entity.*", max_queue=count + 10)
    latencies: list[int] = []

    async def consume() -> None:
        async for event in sub:
            latencies.append(time.time_ns() - event.payload["sent_ns"])
            if len(latencies) >= count:
                return

    task = asyncio.create_task(consume())
    first = time.time_ns()
    start, interval = time.perf_counter(), (1.0 / rate if rate else 0.0)
    for n in range(count):
        await bus.publish("ngsi.entity.updated", payload(n))
        if interval:
            await _pace(start, n, interval)
        elif n % 512 == 511:
            await asyncio.sleep(0)
    await task
    return summary(latencies, first, time.time_ns(), count)


def summary(latencies: list[int], first: int, last: int, count: int) -> dict[str, Any]:
    ms = sorted(value / 1e6 for value in latencies)
    seconds = max(last - first, 1) / 1e9
    return {"received": len(ms), "sent": count, "events_s": len(ms) / seconds,
            "p50_ms": percentile(ms, 0.50) if ms else float("nan"),
            "p99_ms": percentile(ms, 0.99) if ms else float("nan")}


def run_remote(kind: str, mode: str, count: int, rate: float | None, timeout: float) -> dict[str, Any]:
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=receiver_main, args=(kind, mode, namespace, count, timeout, child), daemon=True)
    process.start()
    if not parent.poll(60) or parent.recv() != "ready":
        raise RuntimeError(f"the {kind}/{mode} subscriber did not start")
    first = asyncio.run(_publish_and_close(kind, mode, namespace, count, rate))
    if not parent.poll(timeout + 30):
        process.kill()
        raise RuntimeError(f"the {kind}/{mode} subscriber did not report")
    result = parent.recv()
    process.join(10)
    _cleanup(kind, namespace)
    return summary(result["latencies"], first, result["last"], count)


async def _publish_and_close(kind: str, mode: str, namespace: str, count: int, rate: float | None) -> int:
    first, close = await publish(kind, mode, namespace, count, rate)
    await close()
    return first


def _cleanup(kind: str, namespace: str) -> None:
    if kind != "redis":
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{namespace}:*"))
    if keys:
        client.delete(*keys)
    client.close()


CASES = [("memory", "bus", "memory bus (one process)"), ("redis", "raw", "redis-py raw PUBLISH→PSUBSCRIBE"),
         ("redis", "bus", "Saola Redis bus, plain (Pub/Sub)"), ("redis", "group", "Saola Redis bus, group (Streams)"),
         ("nats", "raw", "nats-py raw publish→subscribe"), ("nats", "bus", "Saola NATS bus, plain"),
         ("nats", "group", "Saola NATS bus, group (queue group)")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000, help="events in the burst phase")
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s in the paced phase")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the paced phase")
    parser.add_argument("--timeout", type=float, default=60.0, help="longest wait for one phase's events")
    parser.add_argument("--backends", default="memory,redis,nats", help="comma-separated subset to run")
    parser.add_argument("--no-append", action="store_true", help="print only, do not append to bench/RESULTS.md")
    args = parser.parse_args()
    paced = int(args.rate * args.seconds)
    rows = []
    baseline: dict[str, float] = {}
    for kind, mode, label in CASES:
        if kind not in args.backends.split(","):
            continue
        if kind == "memory":
            burst, steady = asyncio.run(memory_run(args.count, None)), asyncio.run(memory_run(paced, args.rate))
        else:
            burst = run_remote(kind, mode, args.count, None, args.timeout)
            steady = run_remote(kind, mode, paced, args.rate, args.timeout)
        if mode == "raw":
            baseline[kind] = burst["events_s"]
        ratio = f"{burst['events_s'] / baseline[kind]:.2f}×" if kind in baseline and mode != "raw" else "—"
        rows.append(f"| {label} | {burst['received']}/{burst['sent']} | {burst['events_s']:,.0f} | {ratio} | "
                    f"{burst['p50_ms']:.1f} / {burst['p99_ms']:.1f} | {steady['received']}/{steady['sent']} | "
                    f"{steady['p50_ms']:.2f} / {steady['p99_ms']:.2f} |")
        print(rows[-1], flush=True)
    machine = f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, " \
              f"load average {os.getloadavg()[0]:.1f} at the end)"
    text = (f"\n## Event bus backends — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
            f"`.venv/bin/python bench/event_bus_bench.py --count {args.count} --rate {args.rate:g} "
            f"--seconds {args.seconds:g}` on {machine}; Redis at {REDIS_URL}, NATS at {NATS_URL}, all on loopback; "
            f"publisher and subscriber in two processes (memory: one). Payload: an `ngsi.entity.updated` of "
            f"{len(json.dumps(payload(0)))} bytes. Ratio: events/s against the raw client of the same library "
            f"in this run.\n\n"
            f"| path | burst received | burst events/s | vs raw | burst latency p50 / p99 ms | "
            f"paced {args.rate:g}/s received | paced latency p50 / p99 ms |\n|---|---|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n")
    print(text)
    if not args.no_append:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results:
            results.write(text)


if __name__ == "__main__":
    main()
