"""The Redis event bus against the real Redis (127.0.0.1:6379, required in CI): the shared contract, durable
consumer groups, redelivery of what a dead member left, reconnecting after the server drops the client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis

from saola.core.event_bus_redis import RedisEventBus
from saola.core.events import EventBusUnavailable, make_event_bus
from tests.core.event_bus_contract import (
    REDIS_URL,
    BusContract,
    MakeBus,
    publish_until_received,
    queued,
    run,
    settle,
    take,
)
from tests.core.helpers import require_server


@pytest.fixture
def namespace() -> Iterator[str]:
    require_server(REDIS_URL, 6379, "SAOLA_TEST_REDIS_URL")
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def make_bus(namespace: str) -> MakeBus:
    def _make(**kw: object) -> RedisEventBus:
        bus = RedisEventBus(REDIS_URL, namespace=namespace, **kw)  # type: ignore[arg-type]
        bus.groups_refresh = 0.0  # publishers see a new group at once (2 s in production)
        return bus

    return _make


@pytest.fixture
def unreachable() -> RedisEventBus:
    return RedisEventBus("redis://127.0.0.1:1/0")


class TestRedisBus(BusContract):
    pass


def kill_clients(namespace: str) -> int:
    """CLIENT KILL every connection the buses of ``namespace`` hold, as a server restart would."""
    admin = redis.Redis.from_url(REDIS_URL)
    killed = 0
    for client in admin.client_list():
        if client.get("name") == f"saola-bus:{namespace}":
            killed += admin.client_kill_filter(_id=client["id"])
    admin.close()
    return killed


def test_the_bus_resubscribes_and_sends_again_after_redis_kills_its_connections(make_bus: MakeBus,
                                                                                namespace: str) -> None:
    async def scenario() -> None:
        a, b = make_bus(), make_bus()
        plain, grouped = b.subscribe("device.*"), b.subscribe("ngsi.entity.*", group="rules")
        await a.ready()
        await b.ready()
        await a.publish("device.offline", {"n": 0})
        assert (await take(plain, 1))[0].payload == {"n": 0}
        assert await asyncio.to_thread(kill_clients, namespace) >= 3  # publisher, pub/sub, group reader
        probe = await publish_until_received(a, plain, "device.online")
        assert "probe" in probe.payload
        await publish_until_received(a, grouped, "ngsi.entity.updated")
        await a.publish("device.offline", {"n": 1})
        await settle(a, b)
        assert [e.payload for e in queued(plain) if "n" in e.payload] == [{"n": 1}]
        assert b.reconnects >= 1
        await a.close()
        await b.close()

    run(scenario())


def test_a_group_gets_the_events_published_while_all_its_members_were_down(make_bus: MakeBus) -> None:
    async def scenario() -> None:
        publisher, first = make_bus(), make_bus()
        first.subscribe("ngsi.entity.*", group="notifier")
        await first.ready()
        await first.close()  # every member gone; the group stays
        for n in range(30):
            await publisher.publish("ngsi.entity.updated", {"n": n})
        await publisher.flush()
        later = make_bus()
        member = later.subscribe("ngsi.entity.*", group="notifier")
        assert [e.payload["n"] for e in await take(member, 30)] == list(range(30))
        await publisher.close()
        await later.close()

    run(scenario())


def test_an_event_a_dead_member_did_not_finish_goes_to_another_member(make_bus: MakeBus) -> None:
    async def scenario() -> None:
        publisher = make_bus()
        dying = make_bus(claim_idle=0.5)
        doomed = dying.subscribe("ngsi.entity.*", group="notifier")
        await dying.ready()
        await publisher.publish("ngsi.entity.updated", {"n": 1})
        await take(doomed, 1)  # taken, never finished (the consumer does not come back for the next)
        await dying.close()
        survivor_bus = make_bus(claim_idle=0.5)
        survivor = survivor_bus.subscribe("ngsi.entity.*", group="notifier")
        [again] = await take(survivor, 1, timeout=10)
        assert again.payload == {"n": 1}
        await publisher.publish("ngsi.entity.updated", {"n": 2})
        assert [e.payload for e in await take(survivor, 1)] == [{"n": 2}]  # {"n": 1} acknowledged: not again
        await asyncio.sleep(1.0)
        assert queued(survivor) == []
        await publisher.close()
        await survivor_bus.close()

    run(scenario())


def test_settings_choose_the_redis_bus_and_refuse_an_unreachable_server(namespace: str) -> None:
    from saola.core.settings import load_settings

    settings = load_settings(event_bus="redis", event_bus_url=REDIS_URL, event_bus_namespace=namespace)
    bus = make_event_bus(settings)
    assert isinstance(bus, RedisEventBus) and bus.namespace == namespace and bus.url == REDIS_URL
    with pytest.raises(EventBusUnavailable, match=r"redis://127\.0\.0\.1:1/0"):
        make_event_bus(load_settings(event_bus="redis", event_bus_url="redis://127.0.0.1:1/0"))
