"""What the Redis and NATS event buses share: local delivery, the outgoing queue, readers per pattern.

:class:`BrokerEventBus` implements the :class:`saola.core.events.EventBus` protocol for a bus shared by
several processes through a broker. A backend (:mod:`saola.core.event_bus_redis`,
:mod:`saola.core.event_bus_nats`) supplies the client: connecting, sending a batch, and one reader per
distinct ``(pattern, group)`` that this process subscribes to.

* ``publish`` delivers the event at once to this process's plain subscribers, encodes it
  (:mod:`saola.core.event_codec`; a payload it cannot carry faithfully is logged, counted and kept in this
  process, never failing the publisher) and queues it for the broker; a sender task ships the queue in batches, retrying
  while the broker is away (the queue is bounded: past ``max_pending`` the oldest are dropped and
  counted). Publishing never blocks on the broker and never raises for it.
* The broker sends a plain subscription's events back to every process, this one included: messages
  whose origin is this bus instance are skipped, so a process sees its own events exactly once.
* A grouped subscription's events come only through the broker (also this process's own), so that
  across all processes each event reaches exactly one member of the group.
* A slow consumer has its own bounded queue: plain subscriptions drop (and count) what does not fit,
  as the memory bus does; grouped ones stop reading from the broker for that group only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import uuid4

from saola.core import event_codec
from saola.core.events import Event, take_batch, topic_matches

log = logging.getLogger("saola.core.event_bus")

Key = tuple[str, str | None]  # (pattern, group)
Ack = Callable[[], None]
BATCH = 512
BACKOFF = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


def check_pattern(pattern: str) -> None:
    """Refuse patterns the brokers cannot express: empty words or wildcards other than a final ``.*``."""
    body = pattern[:-2] if pattern.endswith(".*") else pattern
    if pattern != "*" and (not body or any(not word or any(c in word for c in "*> \t\r\n") for word in
                                           body.split("."))):
        raise ValueError(f"invalid event topic or pattern: {pattern!r} (dotted words, optionally ending in '.*')")


class BrokerSubscription:
    """One subscriber's bounded queue; iterating it acknowledges each event once the next is asked for."""

    def __init__(self, bus: BrokerEventBus, key: Key, max_queue: int) -> None:
        self._bus = bus
        self.key = key
        self.pattern, self.group = key
        self.queue: asyncio.Queue[tuple[Event, Ack | None] | None] = asyncio.Queue(max_queue)
        self.dropped = 0
        self.closed = False

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait((event, None))
        except asyncio.QueueFull:
            self.dropped += 1

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            if self.closed and self.queue.empty():
                return
            item = await self.queue.get()
            if item is None:
                return
            event, ack = item
            yield event
            if ack is not None:  # the consumer came back for the next one: this one is done
                ack()

    async def batches(self, limit: int) -> AsyncIterator[list[Event]]:
        """The events in lists of up to ``limit`` (what is queued, without waiting for more); each list is
        acknowledged once the next is asked for."""
        while True:
            items = await take_batch(self.queue, limit, self.closed)
            if not items:
                return
            yield [event for event, _ack in items]
            for _event, ack in items:
                if ack is not None:
                    ack()

    async def close(self) -> None:
        self.closed = True
        self._bus._remove(self)
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


class BrokerEventBus(ABC):
    """An event bus shared through a broker; see the module docstring for the guarantees."""

    backend = "broker"

    def __init__(self, url: str, *, namespace: str = "saola", max_pending: int = 100_000) -> None:
        check_pattern(namespace)
        self.url, self.namespace, self.max_pending = url, namespace, max_pending
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self._subs: dict[Key, list[BrokerSubscription]] = {}
        self._turn: dict[Key, int] = {}
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._acks: list[tuple[Key, Any]] = []
        self.published = self.sent = self.received = self.dropped_outgoing = self.reconnects = self.unencodable = 0
        self._reset()

    def _reset(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._boot: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._readers: dict[Key, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._closing = False

    # --- backend ---------------------------------------------------------------------------

    @abstractmethod
    def check_reachable(self) -> None:
        """Raise :class:`saola.core.events.EventBusUnavailable` unless the server answers (blocking, short)."""

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def _disconnect(self) -> None: ...

    @abstractmethod
    async def _send_batch(self, batch: list[tuple[str, bytes]], acks: list[tuple[Key, Any]]) -> None: ...

    @abstractmethod
    async def _read(self, key: Key, active: asyncio.Event) -> None:
        """Subscribe ``key`` at the broker, set ``active`` once it is in place, hand messages to
        :meth:`_deliver` until cancelled, resubscribing after a lost connection."""

    def redacted_url(self) -> str:
        head, at, tail = self.url.rpartition("@")
        return f"{head.split('://')[0]}://***@{tail}" if at else self.url

    # --- the protocol ----------------------------------------------------------------------

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.publish_nowait(topic, payload)

    def publish_nowait(self, topic: str, payload: dict[str, Any]) -> None:
        check_pattern(topic)
        if topic.endswith(".*") or topic == "*":
            raise ValueError(f"cannot publish to a pattern: {topic!r}")
        event = Event(topic, payload)
        self.published += 1
        for (pattern, group), subs in list(self._subs.items()):
            if group is None and topic_matches(pattern, topic):
                for sub in subs:
                    sub.offer(event)
        try:
            data = event_codec.encode(event, self.origin)
        except TypeError:  # a value the broker cannot carry faithfully: a bug of the publisher, never a failed request
            self.unencodable += 1
            log.exception("event bus: payload not encodable, event kept in this process", extra={"topic": topic})
            return
        if len(self._outbox) >= self.max_pending:
            self._outbox.popleft()
            self.dropped_outgoing += 1
            if self.dropped_outgoing in (1, 10, 100) or self.dropped_outgoing % 10_000 == 0:
                log.warning("event bus broker unreachable: dropping the oldest unsent events",
                            extra={"backend": self.backend, "dropped": self.dropped_outgoing})
        self._outbox.append((topic, data))
        self._start()
        assert self._wake is not None and self._idle is not None
        self._idle.clear()
        self._wake.set()

    def subscribe(self, pattern: str, *, max_queue: int = 1000, group: str | None = None) -> BrokerSubscription:
        check_pattern(pattern)
        if group is not None:
            check_pattern(group)
        key = (pattern, group)
        sub = BrokerSubscription(self, key, max_queue)
        self._subs.setdefault(key, []).append(sub)
        with contextlib.suppress(RuntimeError):  # no running loop yet: readers start with the first publish/ready
            self._start()
        return sub

    def _remove(self, sub: BrokerSubscription) -> None:
        subs = self._subs.get(sub.key, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._subs.pop(sub.key, None)
            reader = self._readers.pop(sub.key, None)
            if reader is not None:
                reader[0].cancel()

    async def ready(self, timeout: float = 10.0) -> None:
        """Wait until the broker holds every current subscription (then other processes' events arrive)."""
        self._start()
        assert self._boot is not None
        await asyncio.wait_for(asyncio.shield(self._boot), timeout)
        await asyncio.wait_for(asyncio.gather(*(active.wait() for _, active in self._readers.values())), timeout)

    async def flush(self, timeout: float = 10.0) -> None:
        """Wait until every event published so far has been handed to the broker."""
        if self._idle is not None and (self._outbox or self._acks):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            await self.flush(2.0)
        self._closing = True  # a client library may turn the cancellation below into its own error
        tasks = [task for task, _ in self._readers.values()] + [t for t in (self._sender, self._boot) if t]
        for subs in list(self._subs.values()):
            for sub in list(subs):
                await sub.close()
        if self._wake is not None:
            self._wake.set()
        for task in tasks:
            task.cancel()
        if tasks:  # a client library may swallow a cancellation once: the loops also stop on _closing
            await asyncio.wait(tasks, timeout=5)
        if self._boot is not None:
            with contextlib.suppress(Exception):
                await self._disconnect()
        self._reset()

    def status(self) -> dict[str, Any]:
        return {"backend": self.backend, "url": self.redacted_url(), "published": self.published, "sent": self.sent,
                "received": self.received, "unsent": len(self._outbox), "dropped_unsent": self.dropped_outgoing,
                "reconnects": self.reconnects,
                "unencodable": self.unencodable, "subscriptions": sum(len(s) for s in self._subs.values()),
                "dropped_slow_consumer": sum(sub.dropped for subs in self._subs.values() for sub in subs)}

    # --- machinery -------------------------------------------------------------------------

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None and not self._loop.is_closed() and self._loop.is_running():
                raise RuntimeError("an event bus is bound to one event loop")
            self._reset()
            self._loop = loop
            self._wake, self._idle = asyncio.Event(), asyncio.Event()
            self._idle.set()
            self._boot = loop.create_task(self._connect_until_up())
            self._sender = loop.create_task(self._send_forever())
        for key in self._subs:
            if key not in self._readers:
                active = asyncio.Event()
                self._readers[key] = (loop.create_task(self._read_after_boot(key, active)), active)
        if self._outbox:
            assert self._wake is not None
            self._wake.set()

    async def _connect_until_up(self) -> None:
        for attempt in range(1_000_000):
            try:
                await self._connect()
                return
            except Exception as exc:
                log.warning("event bus: cannot connect, retrying",
                            extra={"backend": self.backend, "url": self.redacted_url(), "error": str(exc)})
                await asyncio.sleep(backoff(attempt))

    def closing(self) -> bool:
        """True once :meth:`close` started: reader loops stop instead of reconnecting."""
        return self._closing

    async def _read_after_boot(self, key: Key, active: asyncio.Event) -> None:
        assert self._boot is not None
        await asyncio.shield(self._boot)
        await self._read(key, active)

    async def _send_forever(self) -> None:
        assert self._wake is not None and self._idle is not None and self._boot is not None
        await asyncio.shield(self._boot)
        failures = 0
        while not self._closing:
            if not self._outbox and not self._acks:
                self._idle.set()
                await self._wake.wait()
                if self._closing:
                    return
            self._wake.clear()
            batch = [self._outbox.popleft() for _ in range(min(BATCH, len(self._outbox)))]
            acks, self._acks = self._acks, []
            try:
                await self._send_batch(batch, acks)
            except asyncio.CancelledError:
                self._outbox.extendleft(reversed(batch))
                raise
            except Exception as exc:
                self._outbox.extendleft(reversed(batch))
                self._acks = acks + self._acks
                if self._closing:
                    return
                if failures == 0:
                    log.warning("event bus: sending to the broker failed, retrying",
                                extra={"backend": self.backend, "error": str(exc), "unsent": len(self._outbox)})
                await asyncio.sleep(backoff(failures))
                failures += 1
                continue
            if failures:
                log.info("event bus: sending to the broker again", extra={"backend": self.backend})
                self.reconnects += 1
            failures = 0
            self.sent += len(batch)

    def _queue_ack(self, key: Key, token: Any) -> Ack:
        def ack() -> None:
            self._acks.append((key, token))
            if self._wake is not None and self._idle is not None:
                self._idle.clear()
                self._wake.set()

        return ack

    async def _deliver(self, key: Key, data: bytes, ack: Ack | None = None) -> None:
        """Hand one broker message to this process's subscribers of ``key``."""
        try:
            origin, event = event_codec.decode(data)
        except (ValueError, TypeError) as exc:
            log.warning("event bus: undecodable message skipped", extra={"backend": self.backend, "error": str(exc)})
            if ack is not None:
                ack()
            return
        if key[1] is None:
            if origin == self.origin:
                return  # ours: already delivered locally when published
            self.received += 1
            for sub in list(self._subs.get(key, [])):
                sub.offer(event)
            return
        members = self._subs.get(key) or []
        if not members:
            return  # unsubscribed meanwhile: not acknowledged, another member gets it later
        self.received += 1
        turn = self._turn.get(key, 0)
        self._turn[key] = turn + 1
        await members[turn % len(members)].queue.put((event, ack))  # backpressure for this group only


def backoff(attempt: int) -> float:
    return BACKOFF[min(attempt, len(BACKOFF) - 1)]

