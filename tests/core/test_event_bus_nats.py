"""The NATS event bus against the real NATS server (127.0.0.1:4222, required in CI): the shared contract
and reconnecting after the connection is cut (through a TCP proxy the test breaks, since the shared
server cannot be restarted)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from saola.core.event_bus_nats import NatsEventBus
from saola.core.events import EventBusUnavailable, make_event_bus
from tests.core.event_bus_contract import (
    NATS_URL,
    BusContract,
    MakeBus,
    publish_until_received,
    queued,
    run,
    settle,
    take,
)
from tests.core.helpers import require_server
from tests.devices.mqtt_fixtures import DbProxy as TcpProxy


@pytest.fixture
def namespace() -> str:
    require_server(NATS_URL, 4222, "SAOLA_TEST_NATS_URL")
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_bus(namespace: str) -> MakeBus:
    def _make(url: str = NATS_URL, **kw: object) -> NatsEventBus:
        return NatsEventBus(url, namespace=namespace, **kw)  # type: ignore[arg-type]

    return _make


@pytest.fixture
def unreachable() -> NatsEventBus:
    return NatsEventBus("nats://127.0.0.1:1")


@pytest.fixture
def proxy(namespace: str) -> Iterator[TcpProxy]:
    host, port = require_server(NATS_URL, 4222, "SAOLA_TEST_NATS_URL")
    running = TcpProxy((host, port))
    yield running
    running.close()


class TestNatsBus(BusContract):
    pass


def test_the_bus_resubscribes_and_sends_again_after_its_connection_is_cut(make_bus: MakeBus,
                                                                         proxy: TcpProxy) -> None:
    async def scenario() -> None:
        a = make_bus()
        b = make_bus(f"nats://127.0.0.1:{proxy.port}", reconnect_wait=0.1)  # b's only way to the server
        plain, grouped = b.subscribe("device.*"), b.subscribe("ngsi.entity.*", group="rules")
        await a.ready()
        await b.ready()
        await a.publish("device.offline", {"n": 0})
        assert (await take(plain, 1))[0].payload == {"n": 0}
        proxy.cut()  # the server 'goes away' for b ...
        proxy.restore()  # ... and comes back: b reconnects and subscribes again
        async with asyncio.timeout(30):  # (the whole suite on 2 cores can make this slow: wait for the event)
            while b.reconnects < 1:
                await asyncio.sleep(0.05)
        await publish_until_received(a, plain, "device.online", timeout=30)
        await publish_until_received(a, grouped, "ngsi.entity.updated", timeout=30)
        await b.publish("device.offline", {"n": 1})  # and b publishes again
        await a.publish("device.offline", {"n": 2})
        await settle(a, b)
        assert [e.payload for e in queued(plain) if "n" in e.payload] == [{"n": 1}, {"n": 2}]
        assert b.reconnects >= 1
        await a.close()
        await b.close()

    run(scenario(), timeout=90)


def test_settings_choose_the_nats_bus_and_refuse_an_unreachable_server(namespace: str) -> None:
    from saola.core.settings import load_settings

    bus = make_event_bus(load_settings(event_bus="nats", event_bus_url=NATS_URL, event_bus_namespace=namespace))
    assert isinstance(bus, NatsEventBus) and bus.namespace == namespace
    with pytest.raises(EventBusUnavailable, match=r"nats://127\.0\.0\.1:1"):
        make_event_bus(load_settings(event_bus="nats", event_bus_url="nats://127.0.0.1:1"))
