"""The event bus: ``publish`` and ``subscribe`` on dotted topics.

Callers depend on the :class:`EventBus` protocol only; :func:`make_event_bus` builds the backend
chosen by ``SAOLA_EVENT_BUS``: ``memory`` (this module, one process), ``redis``
(:mod:`saola.core.event_bus_redis`) or ``nats`` (:mod:`saola.core.event_bus_nats`), the last two shared
by every Saola process on the same broker. Topics are dotted names (``entity.changed``,
``alert.raised``); a subscription pattern may end in ``.*`` or be ``*`` to receive everything under it.

Two kinds of subscription:

* plain (``group=None``): *every* subscriber in *every* process receives each event (live pages,
  caches). A process receives its own events exactly once, directly, never back through the broker.
* grouped (``group="ngsi-notifier"``): the subscribers with the same group and pattern, in all
  processes, *share* the events — each goes to exactly one of them (work that must happen once, such
  as writing a notification to the outbox, however many web processes run). Within one process the
  memory bus hands them round-robin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from saola.core.db import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """One published fact: what happened (``topic``), its data and when."""

    topic: str
    payload: dict[str, Any]
    at: datetime = field(default_factory=utcnow)


class Subscription(Protocol):
    """An open subscription: iterate it for events, close it when done."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...


class EventBus(Protocol):
    """Publish events and subscribe to topic patterns."""

    async def publish(self, topic: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, pattern: str, *, max_queue: int = 1000, group: str | None = None) -> Subscription: ...

    async def close(self) -> None: ...


def topic_matches(pattern: str, topic: str) -> bool:
    """``alert.*`` matches ``alert.raised`` and ``alert.x.y``; ``*`` matches everything."""
    if pattern in ("*", topic):
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return False


async def take_batch(queue: asyncio.Queue[Any], limit: int, closed: bool) -> list[Any]:
    """Wait for one item of ``queue``, then take what else is there, up to ``limit``; [] at its end."""
    if closed and queue.empty():
        return []
    first = await queue.get()
    items = []
    item = first
    while item is not None:
        items.append(item)
        if len(items) >= limit or queue.empty():
            break
        item = queue.get_nowait()
    if item is None:  # the end marker: put back for the next call
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(None)
    return items


class _MemorySubscription:
    def __init__(self, bus: MemoryEventBus, pattern: str, max_queue: int, group: str | None = None) -> None:
        self._bus = bus
        self.pattern = pattern
        self.group = group
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(max_queue)
        self.dropped = 0
        self.closed = False

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A slow consumer loses events rather than blocking every publisher; counted.
            self.dropped += 1

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            if self.closed and self.queue.empty():  # closed while full: no room was left for the end marker
                return
            item = await self.queue.get()
            if item is None:
                return
            yield item

    async def batches(self, limit: int) -> AsyncIterator[list[Event]]:
        """The events in lists of up to ``limit``: what is queued, without waiting for more."""
        while True:
            items = await take_batch(self.queue, limit, self.closed)
            if not items:
                return
            yield items

    async def close(self) -> None:
        """Stop delivery; iteration ends once the events already queued are consumed."""
        self.closed = True
        self._bus._remove(self)
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


class MemoryEventBus:
    """In-process bus on asyncio queues; one per application instance."""

    def __init__(self) -> None:
        self._subs: list[_MemorySubscription] = []
        self._turn: dict[tuple[str, str], int] = {}  # (group, pattern) -> events handed so far (round-robin)
        self.published = 0

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.publish_nowait(topic, payload)

    def publish_nowait(self, topic: str, payload: dict[str, Any]) -> None:
        event = Event(topic, payload)
        self.published += 1
        groups: dict[tuple[str, str], list[_MemorySubscription]] = {}
        for sub in list(self._subs):
            if topic_matches(sub.pattern, topic):
                if sub.group is None:
                    sub.offer(event)
                else:
                    groups.setdefault((sub.group, sub.pattern), []).append(sub)
        for key, members in groups.items():
            turn = self._turn.get(key, 0)
            self._turn[key] = turn + 1
            members[turn % len(members)].offer(event)

    def subscribe(self, pattern: str, *, max_queue: int = 1000, group: str | None = None) -> _MemorySubscription:
        sub = _MemorySubscription(self, pattern, max_queue, group)
        self._subs.append(sub)
        return sub

    def _remove(self, sub: _MemorySubscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    async def close(self) -> None:
        for sub in list(self._subs):
            await sub.close()


class EventBusUnavailable(RuntimeError):
    """The configured broker cannot be reached when the bus is built (fail fast at start)."""


def make_event_bus(settings: Any, url: str | None = None) -> EventBus:
    """The bus of ``settings.event_bus`` (``memory``, ``redis``, ``nats``) at ``settings.event_bus_url``.

    ``settings`` may also be the backend's name alone (then ``url`` or the backend's default URL).
    A broker backend checks that its server answers before returning, and raises
    :class:`EventBusUnavailable` with the URL and the reason when it does not.
    """
    kind = settings if isinstance(settings, str) else settings.event_bus
    if not isinstance(settings, str):
        url = url or settings.event_bus_url
        namespace, maxlen = settings.event_bus_namespace, settings.event_bus_stream_maxlen
    else:
        namespace, maxlen = "saola", 100_000
    if kind == "memory":
        return MemoryEventBus()
    if kind == "redis":
        from saola.core.event_bus_redis import RedisEventBus

        bus: EventBus = RedisEventBus(url or "redis://127.0.0.1:6379/0", namespace=namespace, stream_maxlen=maxlen)
    elif kind == "nats":
        from saola.core.event_bus_nats import NatsEventBus

        bus = NatsEventBus(url or "nats://127.0.0.1:4222", namespace=namespace)
    else:
        raise ValueError(f"unknown event bus backend: {kind}")
    bus.check_reachable()  # type: ignore[attr-defined]
    return bus
