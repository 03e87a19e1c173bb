"""The NATS event bus (``SAOLA_EVENT_BUS=nats``): core NATS subjects, queue groups for groups.

A topic ``ngsi.entity.updated`` is the subject ``<namespace>.ngsi.entity.updated``; a pattern
``ngsi.entity.*`` subscribes to ``<namespace>.ngsi.entity.>`` (NATS's ``>`` takes one or more words,
as Saola's ``.*`` does) and ``*`` to ``<namespace>.>``. A plain subscription is a NATS subscription in
every process; a grouped one is a NATS *queue group* named after the group, so the server hands each
message to one member. Core NATS is at-most-once: events published while nobody of a group is
connected are not kept (JetStream would keep them; Saola does not use it yet — choose Redis for
durable groups).

nats-py reconnects by itself (without limit here) and subscribes again after a server restart or a
dropped connection; while it is away, publishes wait in its buffer and then in the bus's bounded
outgoing queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

from saola.core.event_bus_broker import BrokerEventBus, Key
from saola.core.events import EventBusUnavailable

log = logging.getLogger("saola.core.event_bus")


class NatsEventBus(BrokerEventBus):
    backend = "nats"

    def __init__(self, url: str = "nats://127.0.0.1:4222", *, namespace: str = "saola",
                 max_pending: int = 100_000, reconnect_wait: float = 0.5) -> None:
        super().__init__(url, namespace=namespace, max_pending=max_pending)
        self.reconnect_wait = reconnect_wait
        self.nc: Any = None

    def subject(self, topic: str) -> str:
        return f"{self.namespace}.{topic}"

    def subject_pattern(self, pattern: str) -> str:
        if pattern == "*":
            return f"{self.namespace}.>"
        if pattern.endswith(".*"):
            return f"{self.namespace}.{pattern[:-2]}.>"
        return self.subject(pattern)

    # --- connection ------------------------------------------------------------------------

    def servers(self) -> list[str]:
        return [part.strip() for part in self.url.split(",") if part.strip()]

    def check_reachable(self) -> None:
        errors = []
        for server in self.servers():
            parts = urlsplit(server if "://" in server else f"nats://{server}")
            try:
                with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=3) as conn:
                    conn.settimeout(3)
                    if conn.recv(5).startswith(b"INFO"):
                        return
                    errors.append(f"{parts.hostname}:{parts.port or 4222} is not a NATS server")
            except OSError as exc:
                errors.append(str(exc))
        raise EventBusUnavailable(f"SAOLA_EVENT_BUS=nats: no NATS server answers at {self.redacted_url()} "
                                  f"(SAOLA_EVENT_BUS_URL): {'; '.join(errors)}")

    async def _connect(self) -> None:
        import nats

        async def disconnected() -> None:
            if self.nc is not None and not self.nc.is_draining and not self.nc.is_closed:
                log.warning("event bus: NATS connection lost, reconnecting", extra={"backend": "nats"})

        async def reconnected() -> None:
            self.reconnects += 1
            log.info("event bus: NATS connection back", extra={"backend": "nats"})

        async def error(exc: Exception) -> None:
            log.debug("event bus: NATS client error", extra={"backend": "nats", "error": str(exc)})

        self.nc = await nats.connect(servers=self.servers(), name=f"saola {self.origin}", allow_reconnect=True,
                                     max_reconnect_attempts=-1, reconnect_time_wait=self.reconnect_wait,  # type: ignore[arg-type]
                                     connect_timeout=5, ping_interval=20, disconnected_cb=disconnected,
                                     reconnected_cb=reconnected, error_cb=error)

    async def _disconnect(self) -> None:
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
            self.nc = None

    # --- publishing and reading ------------------------------------------------------------

    async def _send_batch(self, batch: list[tuple[str, bytes]], acks: list[tuple[Key, Any]]) -> None:
        for topic, data in batch:  # while reconnecting, nats-py keeps them in its buffer (raises once it is full)
            await self.nc.publish(self.subject(topic), data)

    async def _read(self, key: Key, active: asyncio.Event) -> None:
        pattern, group = key

        async def handle(msg: Any) -> None:
            await self._deliver(key, msg.data)

        subscription = await self.nc.subscribe(self.subject_pattern(pattern), queue=group or "", cb=handle,
                                               pending_msgs_limit=65_536)
        try:
            await self.nc.flush(timeout=5)  # the server has the subscription once it answers the PING
            active.set()
            await asyncio.Event().wait()  # until cancelled; the client resubscribes after reconnecting
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
