"""The MQTT transport: the ingest worker that subscribes to the IoT Agent topics and stores what arrives.

One :class:`MqttWorker` holds one MQTT v5 connection (:mod:`saola.devices.mqtt_wire`) with a persistent session
(``clean_start`` off, ``mqtt_session_expiry_seconds``) and QoS 1 shared subscriptions
``$share/<mqtt_shared_group>/...`` to the topics of :mod:`saola.devices.mqtt_topics`, so several
workers (``saola ingest`` processes, or the app) split the devices' messages.

Delivery guarantees:

* **at-least-once, acknowledged after storing**: the PUBACK of a message is sent only when its batch
  was stored (or the message was rejected); :meth:`Ingestor.store` de-duplicates what the broker sends
  again. A PUBACK goes on the connection that received the message; after a reconnection the broker
  sends the unacknowledged ones again (stored once).
* **batches**: messages are grouped up to ``mqtt_batch_size`` or ``mqtt_batch_ms`` and stored in one
  transaction in a thread; the next one fills meanwhile.
* **database outage**: on :class:`StoreUnavailable` the batch is kept and retried with capped backoff
  (0.2 s … 5 s). Messages keep arriving into memory until ``mqtt_max_inflight`` are unacknowledged
  (the MQTT v5 Receive Maximum we announce): then the broker holds the rest back (backpressure), in
  the session it keeps for us. Nothing is acknowledged before it is stored. How much the broker then
  holds is its own limit: Mosquitto drops messages for a client beyond ``max_queued_messages`` (1000 by
  default), so a zero-loss deployment raises it (``0`` = unlimited, with ``max_queued_bytes``).
* **malformed or unauthorised messages** are rejected by the ingest core with a reason, counted,
  logged and acknowledged, so they are never redelivered forever; an unexpected error on a batch
  splits it to isolate the message that causes it.

Device answers on ``/cmdexe`` go through the same batches (:func:`saola.devices.commands.record_answers`);
the worker also publishes due downlink commands (:func:`saola.devices.commands.send_due`).

Receiving: :mod:`saola.devices.mqtt_wire`, a purpose-written MQTT v5 connection that hands over the
PUBLISH packets of each socket read as one list and writes the PUBACKs of a stored batch in one write
(why, with the measurements, in its docstring); gmqtt, used before, spent ~50 µs of the event loop per
message. Messages are parsed (topic, payload) in the store thread, in bulk, not in the event loop.

Pipelining: up to ``store_concurrency`` batches are stored at once (2 on PostgreSQL, each in its own
transaction and thread), so one batch's parsing and history ``COPY`` run while the previous one holds
its entity rows; the entity rows are locked in id order and a late measure never overwrites a newer
value (``observedAt``), so the two transactions cannot lose each other's writes or deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session, sessionmaker

from saola.core.db import utcnow
from saola.core.events import EventBus
from saola.core.settings import Settings
from saola.devices import commands, mqtt_topics, mqtt_wire
from saola.devices.errors import StoreUnavailable
from saola.devices.ingest import Ingestor, Message, Outcome

log = logging.getLogger("saola.devices.mqtt")
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
BACKOFF_START, BACKOFF_CAP = 0.2, 5.0
SPLIT_AFTER = 2  # unexpected failures of a batch before it is split in halves


@dataclass(frozen=True, slots=True)
class Answer:
    """A device's ``/cmdexe`` answer."""

    api_key: str
    device_id: str
    payload: bytes
    format: str | None


class Pending:
    """A message received and not yet acknowledged: what to store, and where its PUBACK goes."""

    __slots__ = ("arrived", "conn", "item", "packet_id")

    def __init__(self, item: Message | Answer, conn: mqtt_wire.MqttConnection | None, packet_id: int,
                 arrived: float) -> None:
        self.item = item
        self.conn = conn
        self.packet_id = packet_id
        self.arrived = arrived  # monotonic


@dataclass
class Stats:
    """Counters of one worker (``GET /api/v1/ingest/status``)."""

    received: int = 0
    stored: int = 0  # measures newly stored
    duplicates: int = 0
    rejected: int = 0
    accepted: int = 0  # messages accepted
    answers: int = 0
    batches: int = 0
    store_retries: int = 0
    commands_sent: int = 0
    connected: bool = False
    paused_since: datetime | None = None  # the database is unavailable since then
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=2000))  # seconds, received → acknowledged
    reasons: dict[str, int] = field(default_factory=dict)

    def as_json(self, buffered: int) -> dict[str, Any]:
        ordered = sorted(self.lags)

        def pct(q: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4) if ordered else None

        return {"received": self.received, "accepted": self.accepted, "stored": self.stored,
                "duplicates": self.duplicates, "rejected": self.rejected, "rejected_by_reason": dict(self.reasons),
                "command_answers": self.answers, "commands_sent": self.commands_sent, "batches": self.batches,
                "store_retries": self.store_retries, "buffered": buffered, "connected": self.connected,
                "paused_since": self.paused_since.isoformat() if self.paused_since else None,
                "lag_seconds": {"p50": pct(0.5), "p99": pct(0.99), "max": ordered[-1] if ordered else None}}


@dataclass(frozen=True)
class BrokerConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: ssl.SSLContext | None

    @classmethod
    def of(cls, settings: Settings) -> BrokerConfig:
        parts = urlsplit(settings.mqtt_url or DEFAULT_BROKER)
        tls = None
        if parts.scheme == "mqtts":
            tls = ssl.create_default_context(cafile=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None)
            if settings.mqtt_tls_insecure:
                tls.check_hostname = False
                tls.verify_mode = ssl.CERT_NONE
        return cls(parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883),
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, tls)

    def reachable(self, timeout: float = 1.0) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout):
                return True
        except OSError:
            return False


SERVE_WORKERS_ENV = "SAOLA_SERVE_WORKERS"  # set by `saola serve` for its worker processes


def default_client_id(role: str) -> str:
    """``saola-<role>-<hostname>``; in ``saola serve --workers N`` each worker process adds its pid, since
    a second connection with the same client id would take the first one's place at the broker."""
    suffix = f"-{os.getpid()}" if int(os.environ.get(SERVE_WORKERS_ENV, "1") or 1) > 1 else ""
    return f"saola-{role}-{socket.gethostname()}{suffix}"[:128]


class MqttWorker:
    """Subscribes, batches, stores, acknowledges; publishes due commands. Runs on an asyncio loop."""

    def __init__(self, *, settings: Settings, session_factory: sessionmaker[Session], event_bus: EventBus | None = None,
                 client_id: str | None = None, role: str = "ingest", ingestor: Ingestor | None = None,
                 send_commands: bool = True, store_concurrency: int | None = None) -> None:
        self.settings = settings
        self.factory = session_factory
        self.bus = event_bus
        self.ingestor = ingestor or Ingestor(session_factory, settings)
        self.broker = BrokerConfig.of(settings)
        self.client_id = client_id or settings.mqtt_client_id or default_client_id(role)
        self.send_commands = send_commands
        if store_concurrency is None:  # SQLite has one writer: a second transaction would only wait for it
            bind = session_factory.kw.get("bind")
            store_concurrency = 2 if bind is not None and bind.dialect.name == "postgresql" else 1
        self.store_concurrency = max(1, store_concurrency)
        self.stats = Stats()
        self.queue: list[Pending] = []
        self.has_work = asyncio.Event()
        self.command_wake = asyncio.Event()
        self.client: mqtt_wire.MqttConnection | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.storing: set[asyncio.Task[None]] = set()
        self.in_store = 0
        self.topics: dict[str, mqtt_topics.Topic | None] = {}  # a device's topic repeats: parsed once
        self.on_rejected: Callable[[Message | Answer, str], None] | None = None  # tests and tools may watch

    # --- connection -----------------------------------------------------------------------------

    async def start(self, *, wait_connected: bool = True) -> None:
        """Connect (retrying in the background when the broker is not there yet) and start the loops."""
        self.tasks = [asyncio.create_task(self._store_loop(), name="mqtt-store")]
        if self.send_commands:
            self.tasks.append(asyncio.create_task(self._command_loop(), name="mqtt-commands"))
        connecting = asyncio.create_task(self._connect_loop(), name="mqtt-connect")
        self.tasks.append(connecting)
        if wait_connected:
            deadline = time.monotonic() + 10
            while not self.stats.connected and time.monotonic() < deadline and not connecting.done():
                await asyncio.sleep(0.02)

    async def _connect_loop(self) -> None:
        """Connect, subscribe, wait until the connection is lost, again; with capped backoff."""
        delay = BACKOFF_START
        where = f"{self.broker.host}:{self.broker.port}"
        while True:
            try:
                conn = await mqtt_wire.connect(
                    self.broker.host, self.broker.port, client_id=self.client_id, on_publish=self._on_publishes,
                    tls=self.broker.tls, username=self.broker.username, password=self.broker.password,
                    clean_start=False, session_expiry=self.settings.mqtt_session_expiry_seconds,
                    receive_maximum=self.settings.mqtt_max_inflight, keepalive=30)
                try:
                    codes = await conn.subscribe(mqtt_topics.subscriptions(self.settings.mqtt_shared_group), qos=1)
                except BaseException:
                    await conn.disconnect()
                    raise
                if any(code >= 0x80 for code in codes):
                    log.error("the MQTT broker refused some subscriptions",
                              extra={"broker": where, "reason_codes": [f"0x{c:02x}" for c in codes]})
            except (OSError, mqtt_wire.MqttError, TimeoutError) as exc:
                log.warning("MQTT broker not reachable; retrying", extra={
                    "broker": where, "error": str(exc)[:200] or type(exc).__name__, "retry_in": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = BACKOFF_START
            self.client = conn
            self.stats.connected = True
            log.info("MQTT ingest connected", extra={"broker": where, "client_id": self.client_id,
                                                     "group": self.settings.mqtt_shared_group or None})
            try:
                await conn.closed
            finally:
                self.client = None
                self.stats.connected = False
            log.warning("MQTT ingest disconnected; reconnecting", extra={"client_id": self.client_id})

    async def stop(self) -> None:
        """Stop storing and disconnect. Messages not yet stored are not acknowledged: the broker keeps
        them in this worker's session (or gives them to another member of the group)."""
        client, self.client = self.client, None
        tasks = [*self.tasks, *self.storing]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []
        self.storing = set()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()
        self.queue = []
        self.stats.connected = False

    # --- receiving ------------------------------------------------------------------------------

    def _topic(self, topic: str) -> mqtt_topics.Topic | None:
        try:
            return self.topics[topic]
        except KeyError:
            if len(self.topics) > 100_000:
                self.topics.clear()
            parsed = self.topics[topic] = mqtt_topics.parse(topic)
            return parsed

    def _on_publishes(self, conn: mqtt_wire.MqttConnection, received: list[mqtt_wire.Received]) -> None:
        """The PUBLISH packets of one socket read: queued for the store loop; their PUBACKs are sent once
        they are stored or rejected (never before). Payloads are parsed later, in the store thread."""
        self.stats.received += len(received)
        arrived, now = time.monotonic(), utcnow()
        queue, topic_of = self.queue, self._topic
        refused: list[int] = []
        for topic, payload, packet_id in received:
            parsed = topic_of(topic)
            if parsed is None:
                self._rejected(None, f"bad-topic: {topic[:200]} is not an IoT Agent topic")
                refused.append(packet_id)
                continue
            if parsed.kind == "cmdexe":
                item: Message | Answer = Answer(parsed.api_key, parsed.device_id, payload, parsed.format)
            else:
                item = Message(parsed.api_key, parsed.device_id, payload,
                               parsed.format or mqtt_topics.sniff(payload), "mqtt", now, parsed.attribute)
            queue.append(Pending(item, conn, packet_id, arrived))
        if refused:
            conn.puback(refused)
        if queue:
            self.has_work.set()

    def _rejected(self, item: Message | Answer | None, reason: str) -> None:
        self.stats.rejected += 1
        code = reason.partition(":")[0]
        self.stats.reasons[code] = self.stats.reasons.get(code, 0) + 1
        if item is None:
            log.warning("MQTT message rejected", extra={"reason": reason})
        elif isinstance(item, Answer):  # Message rejections are logged by the ingest core
            log.warning("command answer rejected", extra={"device_id": item.device_id[:255], "reason": reason})
        if item is not None and self.on_rejected is not None:
            self.on_rejected(item, reason)

    # --- storing --------------------------------------------------------------------------------

    async def _store_loop(self) -> None:
        size = self.settings.mqtt_batch_size
        while True:
            await self.has_work.wait()
            self.has_work.clear()
            if not self.queue:
                continue
            if len(self.queue) < size:  # let the batch fill, bounded in time
                await asyncio.sleep(self.settings.mqtt_batch_ms / 1000)
            while len(self.storing) >= self.store_concurrency:  # the batch keeps filling meanwhile
                await asyncio.wait(self.storing, return_when=asyncio.FIRST_COMPLETED)
            batch, self.queue = self.queue[:size], self.queue[size:]
            task = asyncio.create_task(self._store_with_retry(batch), name="mqtt-store-batch")
            self.storing.add(task)
            task.add_done_callback(self.storing.discard)
            if self.queue:
                self.has_work.set()

    async def _store_with_retry(self, batch: list[Pending]) -> None:
        delay, failures = BACKOFF_START, 0
        progress: dict[str, Any] = {}  # what an earlier attempt committed already (the command answers)
        self.in_store += len(batch)
        try:
            while True:
                try:
                    outcome, answers = await asyncio.to_thread(self._store, [p.item for p in batch], progress)
                except StoreUnavailable as exc:
                    self.stats.store_retries += 1
                    if self.stats.paused_since is None:
                        self.stats.paused_since = utcnow()
                        log.error("database unavailable: MQTT ingestion paused, messages kept unacknowledged",
                                  extra={"error": str(exc)[:300], "buffered": len(batch) + len(self.queue)})
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, BACKOFF_CAP)
                    continue
                except Exception:
                    failures += 1
                    self.stats.store_retries += 1
                    log.exception("storing an MQTT batch failed", extra={"messages": len(batch)})
                    if failures >= SPLIT_AFTER:
                        await self._split(batch)
                        return
                    await asyncio.sleep(delay)
                    continue
                break
        finally:
            self.in_store -= len(batch)
        if self.stats.paused_since is not None:
            log.info("database available again: MQTT ingestion resumed", extra={"since": str(self.stats.paused_since)})
            self.stats.paused_since = None
        await self._finish(batch, outcome, answers)

    async def _split(self, batch: list[Pending]) -> None:
        """A batch that keeps failing for an unexpected reason: store halves apart; a single message that
        still fails is rejected (acknowledged), so it cannot block the stream."""
        if len(batch) == 1:
            self._rejected(batch[0].item, "store-failed: the message cannot be stored (see the log)")
            self._ack(batch)
            return
        middle = len(batch) // 2
        await self._store_with_retry(batch[:middle])
        await self._store_with_retry(batch[middle:])

    def _store(self, items: list[Message | Answer], progress: dict[str, Any]) \
            -> tuple[Outcome, list[tuple[Answer, str | None]]]:
        """Command answers (their own transaction, applied once even if the measures are retried), then the
        measures (one transaction)."""
        messages = [i for i in items if type(i) is Message]
        answers = [i for i in items if type(i) is Answer] if len(messages) < len(items) else []
        if answers and "answers" not in progress:
            try:
                reasons, events = commands.record_answers(
                    self.factory, [(a.api_key, a.device_id, a.payload, a.format) for a in answers])
            except Exception as exc:
                if _is_unavailable(exc):
                    raise StoreUnavailable(str(exc)) from exc
                raise
            progress["answers"] = (list(zip(answers, reasons, strict=True)), events)
        answered, events = progress.get("answers", ([], []))
        outcome = self.ingestor.store(messages)
        outcome.events = [*events, *outcome.events]
        return outcome, answered

    async def _finish(self, batch: list[Pending], outcome: Outcome, answers: list[tuple[Answer, str | None]]) -> None:
        self.stats.batches += 1
        self.stats.stored += outcome.stored
        self.stats.duplicates += outcome.duplicates
        self.stats.accepted += outcome.accepted
        for message, reason in outcome.rejected:
            self._rejected(message, reason)
        for answer, reason in answers:
            self.stats.answers += 1
            if reason is not None:
                self._rejected(answer, reason)
        self._ack(batch)
        if self.bus is not None:
            for topic, payload in outcome.events:
                await self.bus.publish(topic, payload)

    def _ack(self, batch: list[Pending]) -> None:
        """The PUBACKs of a stored batch, one write per connection (a connection since lost gets none:
        the broker sends those messages again, and they are found as duplicates)."""
        now = time.monotonic()
        by_conn: dict[mqtt_wire.MqttConnection, list[int]] = {}
        lags = self.stats.lags
        for pending in batch[-lags.maxlen:] if lags.maxlen else batch:
            lags.append(now - pending.arrived)
        for pending in batch:
            if pending.conn is not None and pending.packet_id:
                ids = by_conn.get(pending.conn)
                if ids is None:
                    ids = by_conn[pending.conn] = []
                ids.append(pending.packet_id)
        for conn, ids in by_conn.items():
            conn.puback(ids)

    # --- commands -------------------------------------------------------------------------------

    async def _command_loop(self) -> None:
        poll = min(1.0, self.settings.devices_command_timeout_seconds / 4)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.command_wake.wait(), poll)
            self.command_wake.clear()
            if self.client is None or not self.stats.connected:
                continue
            try:
                await self.send_due_commands()
            except Exception:
                log.exception("sending device commands failed")

    async def send_due_commands(self) -> int:
        """Publish the commands that are due now; how many."""
        out, events = await asyncio.to_thread(commands.send_due, self.factory, self.settings)
        for command in out:
            assert self.client is not None
            self.client.publish(command.topic, command.payload, qos=1)
            self.stats.commands_sent += 1
        if self.bus is not None:
            for topic, payload in events:
                await self.bus.publish(topic, payload)
        return len(out)

    def status(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "broker": f"{self.broker.host}:{self.broker.port}",
                "group": self.settings.mqtt_shared_group or None, "pid": os.getpid(),
                **self.stats.as_json(len(self.queue) + self.in_store)}


def _is_unavailable(exc: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
