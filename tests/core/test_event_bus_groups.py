"""Grouped subscriptions on the in-process bus, and the wire codec the shared buses use."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

import pytest

from saola.core import event_codec
from saola.core.events import Event, MemoryEventBus


def test_memory_group_members_share_events_round_robin_while_plain_subscribers_get_all() -> None:
    async def scenario() -> None:
        bus = MemoryEventBus()
        first = bus.subscribe("ngsi.entity.*", group="notifier")
        second = bus.subscribe("ngsi.entity.*", group="notifier")
        other_group, plain = bus.subscribe("ngsi.entity.*", group="rules"), bus.subscribe("ngsi.entity.*")
        for n in range(10):
            await bus.publish("ngsi.entity.updated", {"n": n})
        await bus.publish("device.offline", {"n": 99})

        def ns(sub: object) -> list[int]:
            queue = sub.queue  # type: ignore[attr-defined]
            return [queue.get_nowait().payload["n"] for _ in range(queue.qsize())]

        assert ns(first) == [0, 2, 4, 6, 8] and ns(second) == [1, 3, 5, 7, 9]
        assert ns(other_group) == list(range(10)) and ns(plain) == list(range(10))

    asyncio.run(scenario())


def test_the_codec_round_trips_an_event_and_names_its_origin() -> None:
    event = Event("ngsi.entity.updated", {"x": math.inf, "when": datetime(2026, 11, 24, tzinfo=UTC),
                                          "s": "Thủ Dầu Một"})
    origin, back = event_codec.decode(event_codec.encode(event, "host:1:abc"))
    assert origin == "host:1:abc" and back == event


@pytest.mark.parametrize("payload", [{"x": object()}, {"x": [complex(1, 2)]}, {"x": {"y": {(1, 2): 3}}}])
def test_the_codec_refuses_what_it_could_not_bring_back_unchanged(payload: dict) -> None:
    with pytest.raises(TypeError):
        event_codec.encode(Event("a.b", payload), "o")


@pytest.mark.parametrize("data", [b"{}", b'{"v": 2, "t": "a", "p": {}}', b"[1]", b'{"v": 1, "t": "a", "p": 3}'])
def test_the_codec_refuses_messages_that_are_not_saola_events(data: bytes) -> None:
    with pytest.raises(ValueError):
        event_codec.decode(data)
