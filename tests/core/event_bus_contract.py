"""What every shared event bus must do, written once and run against real Redis and real NATS.

``tests/core/test_event_bus_redis.py`` and ``test_event_bus_nats.py`` subclass :class:`BusContract` and
provide the ``make_bus`` fixture (a new bus instance of the backend, as another process would build it,
all on one fresh namespace). The servers are required in CI (``CI=true``) and skipped with the reason
otherwise, as the Mosquitto and PostgreSQL tests do.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import pytest

from saola.core.event_bus_broker import BrokerEventBus, BrokerSubscription
from saola.core.events import Event

REDIS_URL = os.environ.get("SAOLA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("SAOLA_TEST_NATS_URL", "nats://127.0.0.1:4222")
T = TypeVar("T")
MakeBus = Callable[..., BrokerEventBus]


def run(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def take(sub: BrokerSubscription, count: int, timeout: float = 30.0) -> list[Event]:
    """The next ``count`` events of ``sub`` (failing after ``timeout`` seconds)."""
    events: list[Event] = []
    iterator = sub.__aiter__()
    async with asyncio.timeout(timeout):
        while len(events) < count:
            events.append(await iterator.__anext__())
    return events


def queued(sub: BrokerSubscription) -> list[Event]:
    out = []
    while not sub.queue.empty():
        item = sub.queue.get_nowait()
        if item is not None:
            out.append(item[0])
    return out


async def settle(*buses: BrokerEventBus) -> None:
    for bus in buses:
        await bus.ready()
        await bus.flush()
    await asyncio.sleep(0.3)  # anything still on the wire arrives


RICH_PAYLOAD: dict[str, Any] = {
    "tenant": "", "id": "urn:ngsi-ld:AirQualityObserved:tdm-01", "types": ["https://smartdatamodels.org/x"],
    "changed": ["https://smartdatamodels.org/pm25"], "previous": None,
    "entity": {"https://smartdatamodels.org/pm25": [{"@type": ["Property"], "value": 57.25,
                                                      "observedAt": "2026-11-24T09:59:00.000Z"}],
               "name": "Trạm quan trắc Thủ Dầu Một", "flags": [True, False, None], "big": 2**62, "neg": -0.5},
    "aware": datetime(2026, 11, 24, 16, 59, 1, 123456, tzinfo=timezone(timedelta(hours=7))),
    "utc": datetime(2026, 11, 24, 9, 59, tzinfo=UTC),
    "naive": datetime(2026, 11, 24, 9, 59, 30),
    "day": date(2026, 11, 24),
    "uid": UUID("12345678-1234-5678-1234-567812345678"),
    "amount": Decimal("1234567.890"),
    "pair": (1, "a"),
    "tags": {"x", "y"},
    "blob": b"\x00\xff",
    "nested": {"list": [{"when": datetime(2026, 1, 1, tzinfo=UTC)}], "empty": {}},
}


class BusContract:
    """Behaviour shared by the Redis and NATS buses; subclasses provide ``make_bus``."""

    def test_plain_subscribers_in_another_process_receive_what_their_patterns_match(self, make_bus: MakeBus) -> None:
        async def scenario() -> None:
            a, b = make_bus(), make_bus()
            subs = {p: b.subscribe(p) for p in ("ngsi.entity.*", "device.*", "*", "device.offline")}
            await b.ready()
            topics = ["ngsi.entity.created", "device.offline", "ngsi.entity.updated", "device.online", "alert.raised"]
            for n, topic in enumerate(topics):
                await a.publish(topic, {"n": n})
            await settle(a, b)
            got = {p: [(e.topic, e.payload["n"]) for e in queued(s)] for p, s in subs.items()}
            assert got == {
                "ngsi.entity.*": [("ngsi.entity.created", 0), ("ngsi.entity.updated", 2)],
                "device.*": [("device.offline", 1), ("device.online", 3)],
                "*": [(t, n) for n, t in enumerate(topics)],
                "device.offline": [("device.offline", 1)],
            }
            await a.close()
            await b.close()

        run(scenario())

    def test_a_process_receives_its_own_events_once_not_again_through_the_broker(self, make_bus: MakeBus) -> None:
        async def scenario() -> None:
            a, b = make_bus(), make_bus()
            mine, mine_too, theirs = a.subscribe("ngsi.entity.*"), a.subscribe("*"), b.subscribe("ngsi.entity.*")
            await a.ready()
            await b.ready()
            for n in range(50):
                await a.publish("ngsi.entity.updated", {"n": n})
            assert [e.payload["n"] for e in await take(theirs, 50)] == list(range(50))  # the broker delivered
            await settle(a, b)
            assert [e.payload["n"] for e in queued(mine)] == list(range(50))
            assert [e.payload["n"] for e in queued(mine_too)] == list(range(50))
            assert queued(theirs) == []
            assert a.received == 0 and b.received == 50
            await a.close()
            await b.close()

        run(scenario())

    def test_batches_hand_over_what_is_queued_in_order_and_end_when_closed(self, make_bus: MakeBus) -> None:
        async def scenario() -> None:
            a, b = make_bus(), make_bus()
            sub = b.subscribe("ngsi.entity.*")
            await b.ready()
            for n in range(25):
                await a.publish("ngsi.entity.updated", {"n": n})
            await settle(a, b)
            batches = sub.batches(10)
            got = [[e.payload["n"] for e in await batches.__anext__()] for _ in range(3)]
            assert got == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
            await sub.close()
            assert [batch async for batch in batches] == []
            await a.close()
            await b.close()

        run(scenario())

    def test_payloads_cross_the_broker_unchanged(self, make_bus: MakeBus) -> None:
        async def scenario() -> None:
            a, b = make_bus(), make_bus()
            local, remote = a.subscribe("ngsi.entity.*"), b.subscribe("ngsi.entity.*")
            await b.ready()
            await a.publish("ngsi.entity.updated", RICH_PAYLOAD)
            [sent] = await take(local, 1)
            [got] = await take(remote, 1)
            assert got.payload == RICH_PAYLOAD | {"pair": [1, "a"]}  # JSON has no tuple: a list, as documented
            assert got.at == sent.at and got.topic == "ngsi.entity.updated" and type(got.payload["tags"]) is set
            assert got.payload["aware"].utcoffset() == timedelta(hours=7) and got.payload["naive"].tzinfo is None
            odd = {"thing": object()}
            await a.publish("ngsi.entity.updated", odd)  # never fails the publisher (a request already committed)
            await settle(a, b)
            assert [e.payload for e in queued(local)] == [odd] and queued(remote) == []  # kept in its process
            assert a.status()["unencodable"] == 1
            await a.close()
            await b.close()

        run(scenario())

    def test_a_slow_consumer_loses_its_own_overflow_without_delaying_others(self, make_bus: MakeBus) -> None:
        async def scenario() -> None:
            a, b = make_bus(), make_bus()
            slow, fast = b.subscribe("ngsi.entity.*", max_queue=5), b.subscribe("ngsi.entity.*")
            other = b.subscribe("device.*")
            await b.ready()
            for n in range(200):
                await a.publish("ngsi.entity.updated", {"n": n})
                await a.publish("device.online", {"n": n})
            assert [e.payload["n"] for e in await take(fast, 200)] == list(range(200))
            assert [e.payload["n"] for e in await take(other, 200)] == list(range(200))
            assert [e.payload["n"] for e in queued(slow)] == [0, 1, 2, 3, 4]
            assert slow.dropped == 195 and b.status()["dropped_slow_consumer"] == 195
            await a.close()
            await b.close()

        run(scenario())

    def test_grouped_subscribers_across_processes_share_each_event_exactly_once(self, make_bus: MakeBus) -> None:
        async def scenario() -> None:
            a, b = make_bus(), make_bus()
            members = [a.subscribe("ngsi.entity.*", group="matcher"), b.subscribe("ngsi.entity.*", group="matcher"),
                       b.subscribe("ngsi.entity.*", group="matcher")]
            everyone = a.subscribe("ngsi.entity.*")
            await a.ready()
            await b.ready()
            for n in range(120):
                await (a if n % 2 else b).publish("ngsi.entity.updated", {"n": n})
            await settle(a, b)
            for _ in range(50):  # the broker may still be handing out the last ones
                shared = sorted(e.payload["n"] for m in members for e in list(_peek(m)))
                if len(shared) >= 120:
                    break
                await asyncio.sleep(0.1)
            assert shared == list(range(120))  # each once, none twice, none lost
            assert sorted(e.payload["n"] for e in queued(everyone)) == list(range(120))  # plain: all of them
            await a.close()
            await b.close()

        run(scenario())

    def test_an_unreachable_server_stops_the_start_with_a_clear_message(self, unreachable: BrokerEventBus) -> None:
        from saola.core.events import EventBusUnavailable

        with pytest.raises(EventBusUnavailable, match=r"127\.0\.0\.1:1.*SAOLA_EVENT_BUS_URL"):
            unreachable.check_reachable()


def _peek(sub: BrokerSubscription) -> list[Event]:
    return [item[0] for item in list(sub.queue._queue) if item is not None]  # type: ignore[attr-defined]


async def publish_until_received(publisher: BrokerEventBus, sub: BrokerSubscription, topic: str,
                                 timeout: float = 15.0) -> Event:
    """Publish probes until ``sub`` gets one (a reconnecting bus misses those sent before it is back)."""
    async with asyncio.timeout(timeout):
        n = 0
        while True:
            n += 1
            await publisher.publish(topic, {"probe": n})
            try:
                item = await asyncio.wait_for(sub.queue.get(), 0.3)  # (not the iterator: a timeout would end it)
            except TimeoutError:
                continue
            assert item is not None
            return item[0]
