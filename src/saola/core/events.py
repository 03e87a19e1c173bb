"""The event bus: ``publish`` and ``subscribe`` on dotted topics.

Callers depend on the :class:`EventBus` protocol only, so a Redis or NATS backend can
replace the in-process one without changing them. Topics are dotted names
(``entity.changed``, ``alert.raised``); a subscription pattern may end in ``.*`` or be
``*`` to receive everything under it.
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

    def subscribe(self, pattern: str, *, max_queue: int = 1000) -> Subscription: ...

    async def close(self) -> None: ...


def topic_matches(pattern: str, topic: str) -> bool:
    """``alert.*`` matches ``alert.raised`` and ``alert.x.y``; ``*`` matches everything."""
    if pattern in ("*", topic):
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return False


class _MemorySubscription:
    def __init__(self, bus: MemoryEventBus, pattern: str, max_queue: int) -> None:
        self._bus = bus
        self.pattern = pattern
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
        self.published = 0

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.publish_nowait(topic, payload)

    def publish_nowait(self, topic: str, payload: dict[str, Any]) -> None:
        event = Event(topic, payload)
        self.published += 1
        for sub in list(self._subs):
            if topic_matches(sub.pattern, topic):
                sub.offer(event)

    def subscribe(self, pattern: str, *, max_queue: int = 1000) -> _MemorySubscription:
        sub = _MemorySubscription(self, pattern, max_queue)
        self._subs.append(sub)
        return sub

    def _remove(self, sub: _MemorySubscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    async def close(self) -> None:
        for sub in list(self._subs):
            await sub.close()


def make_event_bus(kind: str) -> EventBus:
    if kind == "memory":
        return MemoryEventBus()
    raise ValueError(f"unknown event bus backend: {kind}")
