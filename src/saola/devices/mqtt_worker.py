"""The MQTT transport: the ingest worker that subscribes to the IoT Agent topics and stores what arrives.

One :class:`MqttWorker` holds one MQTT v5 connection (client gmqtt) with a persistent session
(``clean_start`` off, ``mqtt_session_expiry_seconds``) and QoS 1 shared subscriptions
``$share/<mqtt_shared_group>/...`` to the topics of :mod:`saola.devices.mqtt_topics`, so several
workers (``saola ingest`` processes, or the app) split the devices' messages.

Delivery guarantees:

* **at-least-once, acknowledged after storing**: gmqtt runs without optimistic acknowledgement, so
  the PUBACK of a message is sent only when its batch was stored (or the message was rejected);
  :meth:`Ingestor.store` de-duplicates what the broker sends again.
* **batches**: messages are grouped up to ``mqtt_batch_size`` or ``mqtt_batch_ms`` and stored in one
  transaction in a thread (one batch at a time; the next one fills meanwhile).
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

Client chosen by measurement (``bench/mqtt_clients.py``, local Mosquitto 2, QoS 1, manual
acknowledgement, 30,000 3-measure messages, shared 2-core machine, 2026-11-24): receiving with a
gmqtt publisher, paho-mqtt 2.2 11,374–14,404 msg/s (the subscriber is the limit) vs gmqtt 0.8
20,979–25,634 msg/s (the publisher is the limit); publishing, paho 3,093–4,512 msg/s vs gmqtt
9,991–23,410 msg/s. gmqtt is about twice as fast on the receiving side, which bounds ingestion.
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

from gmqtt import Client
from sqlalchemy.orm import Session, sessionmaker

from saola.core.db import utcnow
from saola.core.events import EventBus
from saola.core.settings import Settings
from saola.devices import commands, mqtt_topics
from saola.devices.errors import StoreUnavailable
from saola.devices.ingest import Ingestor, Message, Outcome

log = logging.getLogger("saola.devices.mqtt")
logging.getLogger("gmqtt").setLevel(logging.WARNING)  # it logs every (re)subscription and connection at INFO
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


@dataclass
class Pending:
    """A message received and not yet acknowledged, with the future its PUBACK waits on."""

    item: Message | Answer
    done: asyncio.Future[int]
    arrived: float  # monotonic


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
                 send_commands: bool = True) -> None:
        self.settings = settings
        self.factory = session_factory
        self.bus = event_bus
        self.ingestor = ingestor or Ingestor(session_factory, settings)
        self.broker = BrokerConfig.of(settings)
        self.client_id = client_id or settings.mqtt_client_id or default_client_id(role)
        self.send_commands = send_commands
        self.stats = Stats()
        self.queue: list[Pending] = []
        self.has_work = asyncio.Event()
        self.command_wake = asyncio.Event()
        self.client: Client | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.in_store = 0
        self.on_rejected: Callable[[Message | Answer, str], None] | None = None  # tests and tools may watch

    # --- connection -----------------------------------------------------------------------------

    def _new_client(self) -> Client:
        client = Client(self.client_id, clean_session=False, optimistic_acknowledgement=False,
                        session_expiry_interval=self.settings.mqtt_session_expiry_seconds,
                        receive_maximum=self.settings.mqtt_max_inflight)
        if self.broker.username:
            client.set_auth_credentials(self.broker.username, self.broker.password)
        client.on_message = self._on_message
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        return client

    def _on_connect(self, client: Client, _flags: int, _rc: int, _properties: Any) -> None:
        self.stats.connected = True
        for topic in mqtt_topics.subscriptions(self.settings.mqtt_shared_group):
            client.subscribe(topic, qos=1)
        log.info("MQTT ingest connected", extra={"broker": f"{self.broker.host}:{self.broker.port}",
                                                 "client_id": self.client_id,
                                                 "group": self.settings.mqtt_shared_group or None})

    def _on_disconnect(self, _client: Client, _packet: Any, _exc: Any = None) -> None:
        if self.stats.connected:
            log.warning("MQTT ingest disconnected; reconnecting", extra={"client_id": self.client_id})
        self.stats.connected = False

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
        delay = BACKOFF_START
        while self.client is None:
            client = self._new_client()
            try:
                await client.connect(self.broker.host, self.broker.port, ssl=self.broker.tls or False, keepalive=30)
            except Exception as exc:
                log.warning("MQTT broker not reachable; retrying", extra={
                    "broker": f"{self.broker.host}:{self.broker.port}", "error": str(exc)[:200], "retry_in": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self.client = client

    async def stop(self) -> None:
        """Stop storing and disconnect. Messages not yet stored are not acknowledged: the broker keeps
        them in this worker's session (or gives them to another member of the group)."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.disconnect()
            self.client = None
        for pending in self.queue:
            pending.done.cancel()
        self.queue = []
        self.stats.connected = False

    # --- receiving ------------------------------------------------------------------------------

    def _item(self, topic: str, payload: bytes) -> Message | Answer | None:
        parsed = mqtt_topics.parse(topic)
        if parsed is None:
            return None
        if parsed.kind == "cmdexe":
            return Answer(parsed.api_key, parsed.device_id, payload, parsed.format)
        return Message(api_key=parsed.api_key, device_id=parsed.device_id, payload=payload,
                       format=parsed.format or mqtt_topics.sniff(payload), transport="mqtt", received_at=utcnow(),
                       attribute=parsed.attribute)

    async def _on_message(self, _client: Client, topic: str, payload: bytes, _qos: int, _properties: Any) -> int:
        """Returns the PUBACK reason code, once the message is stored or rejected (never before)."""
        self.stats.received += 1
        item = self._item(topic, payload)
        if item is None:
            self._rejected(None, f"bad-topic: {topic[:200]} is not an IoT Agent topic")
            return 0
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.queue.append(Pending(item, done, time.monotonic()))
        if len(self.queue) >= self.settings.mqtt_batch_size or len(self.queue) == 1:
            self.has_work.set()
        return await done

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
        while True:
            await self.has_work.wait()
            self.has_work.clear()
            if not self.queue:
                continue
            if len(self.queue) < self.settings.mqtt_batch_size:  # let the batch fill, bounded in time
                await asyncio.sleep(self.settings.mqtt_batch_ms / 1000)
            batch, self.queue = self.queue[:self.settings.mqtt_batch_size], self.queue[self.settings.mqtt_batch_size:]
            await self._store_with_retry(batch)
            if self.queue:
                self.has_work.set()

    async def _store_with_retry(self, batch: list[Pending]) -> None:
        delay, failures = BACKOFF_START, 0
        progress: dict[str, Any] = {}  # what an earlier attempt committed already (the command answers)
        while True:
            try:
                self.in_store = len(batch)
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
            finally:
                self.in_store = 0
            break
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
        messages = [i for i in items if isinstance(i, Message)]
        answers = [i for i in items if isinstance(i, Answer)]
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
        now = time.monotonic()
        for pending in batch:
            self.stats.lags.append(now - pending.arrived)
            if not pending.done.done():
                pending.done.set_result(0)

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
