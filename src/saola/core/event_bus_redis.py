"""The Redis event bus (``SAOLA_EVENT_BUS=redis``): Pub/Sub for plain subscriptions, Streams for groups.

Why both: a plain subscription (live pages, the console's feeds) wants every event as soon as it
happens and nothing from before it started, which is Redis Pub/Sub (``PUBLISH`` to
``<namespace>:<topic>``, ``PSUBSCRIBE <namespace>:ngsi.entity.*``); it is at-most-once, like the
memory bus — events published while a subscriber is disconnected are not replayed. A grouped
subscription (work done once per event across processes: notifications, rules) needs each event to
reach exactly one member and to wait while every member is down, which is a Redis Stream with a
consumer group per ``(group, pattern)``: stream ``<namespace>:group:<group>:<pattern>``, trimmed to about
``stream_maxlen`` entries. Groups register in the set ``<namespace>:groups``; publishers read it
(every :data:`GROUPS_REFRESH` seconds) and ``XADD`` an event to each group stream whose pattern
matches, in the same pipelined round trip as the ``PUBLISH``. An entry is acknowledged (``XACK``)
when its consumer asks for the next event, so an event being handled by a process that dies is
handed again to another member once idle for ``claim_idle`` seconds (``XAUTOCLAIM``):
at-least-once for groups.

After a lost connection (server restart, ``CLIENT KILL``) every reader reconnects with backoff and
subscribes again, recreating a consumer group the server forgot; unsent events wait in the bus's
bounded outgoing queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from saola.core.event_bus_broker import BrokerEventBus, Key, backoff
from saola.core.events import EventBusUnavailable, topic_matches

log = logging.getLogger("saola.core.event_bus")
GROUPS_REFRESH = 2.0  # seconds between two reads of the group registry by a publisher
READ_COUNT = 256
BLOCK_MS = 1000
STALE_CONSUMER_MS = 3_600_000  # a group member silent for an hour with nothing pending is removed


def glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisEventBus(BrokerEventBus):
    backend = "redis"

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, namespace: str = "saola",
                 stream_maxlen: int = 100_000, claim_idle: float = 60.0, max_pending: int = 100_000) -> None:
        super().__init__(url, namespace=namespace, max_pending=max_pending)
        self.stream_maxlen, self.claim_idle = stream_maxlen, claim_idle
        self.client: Any = None
        self.groups_key = f"{namespace}:groups"
        self._groups: list[Key] = []
        self._groups_at = -GROUPS_REFRESH
        self.groups_refresh = GROUPS_REFRESH

    def subscribe(self, pattern: str, *, max_queue: int = 1000, group: str | None = None) -> Any:
        sub = super().subscribe(pattern, max_queue=max_queue, group=group)
        if group is not None:
            self._groups_at = -self.groups_refresh  # publish to the new group's stream from now on
        return sub

    # --- names -----------------------------------------------------------------------------

    def channel(self, topic: str) -> str:
        return f"{self.namespace}:{topic}"

    def channel_pattern(self, pattern: str) -> str:
        if pattern == "*":
            return glob_escape(f"{self.namespace}:") + "*"
        if pattern.endswith(".*"):
            return glob_escape(f"{self.namespace}:{pattern[:-1]}") + "*"
        return glob_escape(self.channel(pattern))

    def stream(self, key: Key) -> str:
        pattern, group = key
        return f"{self.namespace}:group:{group}:{pattern}"

    # --- connection ------------------------------------------------------------------------

    def check_reachable(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        except (redis.RedisError, OSError) as exc:
            raise EventBusUnavailable(f"SAOLA_EVENT_BUS=redis: the Redis server at {self.redacted_url()} "
                                      f"(SAOLA_EVENT_BUS_URL) does not answer: {exc}") from exc
        finally:
            client.close()

    async def _connect(self) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=5, socket_keepalive=True,
                                         health_check_interval=15, client_name=f"saola-bus:{self.namespace}")
        await client.ping()
        self.client = client

    async def _disconnect(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    # --- publishing ------------------------------------------------------------------------

    async def _refresh_groups(self) -> None:
        if time.monotonic() - self._groups_at < self.groups_refresh:
            return
        members = await self.client.smembers(self.groups_key)
        groups: list[Key] = []
        for member in members:
            with contextlib.suppress(ValueError, TypeError):
                pattern, group = json.loads(member)
                groups.append((str(pattern), str(group)))
        self._groups = sorted(set(groups) | {k for k in self._subs if k[1] is not None}, key=str)
        self._groups_at = time.monotonic()

    async def _send_batch(self, batch: list[tuple[str, bytes]], acks: list[tuple[Key, Any]]) -> None:
        await self._refresh_groups()
        pipe = self.client.pipeline(transaction=False)
        for topic, data in batch:
            pipe.publish(self.channel(topic), data)
            for key in self._groups:
                if topic_matches(key[0], topic):
                    pipe.xadd(self.stream(key), {"d": data}, maxlen=self.stream_maxlen, approximate=True)
        for key, entry_id in acks:
            pipe.xack(self.stream(key), key[1], entry_id)
        await pipe.execute()

    # --- reading ---------------------------------------------------------------------------

    async def _read(self, key: Key, active: asyncio.Event) -> None:
        if key[1] is None:
            await self._read_pubsub(key, active)
        else:
            await self._read_group(key, active)

    async def _read_pubsub(self, key: Key, active: asyncio.Event) -> None:
        pattern = self.channel_pattern(key[0])
        failures = 0
        while not self.closing():
            pubsub = self.client.pubsub()
            try:
                await pubsub.psubscribe(pattern)
                while not self.closing():
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        active.set()
                        if failures:
                            self.reconnects += 1
                            log.info("event bus: subscribed again", extra={"backend": "redis", "pattern": key[0]})
                        failures = 0
                    elif message["type"] == "pmessage":
                        await self._deliver(key, message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                active.clear()
                if self.closing():
                    return
                if failures == 0:
                    log.warning("event bus: subscription lost, reconnecting",
                                extra={"backend": "redis", "pattern": key[0], "error": str(exc)})
                await asyncio.sleep(backoff(failures))
                failures += 1
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _join_group(self, key: Key) -> None:
        import redis

        await self.client.sadd(self.groups_key, json.dumps(list(key)))
        try:
            await self.client.xgroup_create(self.stream(key), key[1], id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        # forget members of earlier processes that left nothing pending (each process is a new consumer)
        for consumer in await self.client.xinfo_consumers(self.stream(key), key[1]):
            if not consumer.get("pending") and consumer.get("idle", 0) > STALE_CONSUMER_MS:
                await self.client.xgroup_delconsumer(self.stream(key), key[1], consumer["name"])

    async def _read_group(self, key: Key, active: asyncio.Event) -> None:
        import redis

        stream, group = self.stream(key), key[1]
        failures, claimed_at = 0, time.monotonic()
        while not self.closing():
            try:
                await self._join_group(key)
                active.set()
                if failures:
                    self.reconnects += 1
                failures = 0
                while not self.closing():
                    if time.monotonic() - claimed_at >= self.claim_idle / 2:
                        claimed_at = time.monotonic()
                        claim = await self.client.xautoclaim(stream, group, self.origin,
                                                             int(self.claim_idle * 1000), "0-0", count=READ_COUNT)
                        for entry_id, fields in claim[1]:
                            if fields:
                                await self._deliver(key, fields[b"d"], self._queue_ack(key, entry_id))
                    answer = await self.client.xreadgroup(group, self.origin, {stream: ">"}, count=READ_COUNT,
                                                          block=BLOCK_MS)
                    for _stream, entries in answer or []:
                        for entry_id, fields in entries:
                            await self._deliver(key, fields[b"d"], self._queue_ack(key, entry_id))
            except asyncio.CancelledError:
                raise
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):  # the server forgot the group (restarted empty): join again
                    log.exception("event bus: reading group failed", extra={"backend": "redis", "stream": stream})
                    await asyncio.sleep(backoff(failures))
                    failures += 1
            except Exception as exc:
                active.clear()
                if self.closing():
                    return
                if failures == 0:
                    log.warning("event bus: group reader lost the connection, reconnecting",
                                extra={"backend": "redis", "stream": stream, "error": str(exc)})
                await asyncio.sleep(backoff(failures))
                failures += 1
