"""The simulator's publishing loop: the demo devices' telemetry through the real ingestion path.

:class:`Simulator` keeps a schedule (heaps of due times) with one entry per device: each type
reports every :data:`saola.sim.telemetry.REPORT_SECONDS` (divided by the time acceleration, at
least every second), entities touched by an injected event (:mod:`saola.sim.scenario`) at once and
then every :data:`HOT_SECONDS`, ahead of the regular reports. A token bucket caps the messages per
second (``rate``); when more is due than the rate allows, regular reports lag (oldest first) instead
of bursting, and the event's devices still go first. Readings come from the
pure models of :mod:`saola.sim.telemetry` at the *model time*: the start time plus the elapsed
real time multiplied by the acceleration (the daily cycles run faster; the events and the
measures' ``observedAt``, set by the server on receipt, stay in real time so that rule durations
mean what they say).

Senders: :class:`MqttSender` publishes IoT Agent JSON on ``/<api key>/<device id>/attrs`` (QoS 1,
client gmqtt, as the ingest worker); :class:`HttpSender` posts the tick's messages to
``/iot/json/bulk?k=<api key>`` (a URL, or the application itself in-process when the simulator runs
inside ``saola serve`` with no broker). :func:`choose_sender` takes MQTT when the broker answers and
says so when it falls back to HTTP.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from saola.sim import telemetry
from saola.sim.city import City, CityEntity
from saola.sim.scenario import Scenario

log = logging.getLogger("saola.sim")
HOT_SECONDS: dict[str, float] = {"Streetlight": 60.0}  # others: DEFAULT_HOT_SECONDS
DEFAULT_HOT_SECONDS = 5.0
TICK = 0.1  # seconds between two rounds of the loop


class Sender(Protocol):
    description: str
    tick: float  # seconds between two rounds of the loop

    async def send(self, batch: list[tuple[str, dict[str, Any]]]) -> int:
        """Send ``(device id, payload)`` messages; how many were accepted for delivery."""
        ...

    async def close(self) -> None: ...


class MqttSender:
    """IoT Agent JSON over MQTT: ``/<api key>/<device id>/attrs``, QoS 1."""

    tick = TICK

    def __init__(self, host: str, port: int, api_key: str, *, username: str | None = None,
                 password: str | None = None, tls: Any = None) -> None:
        from gmqtt import Client

        self.host, self.port, self.api_key, self.tls = host, port, api_key, tls
        self.client = Client(f"saola-sim-{uuid.uuid4().hex[:10]}")
        if username:
            self.client.set_auth_credentials(username, password)
        self.description = f"MQTT {host}:{port}"

    async def connect(self) -> None:
        await self.client.connect(self.host, self.port, ssl=self.tls or False, keepalive=30)

    async def send(self, batch: list[tuple[str, dict[str, Any]]]) -> int:
        for device_id, payload in batch:
            self.client.publish(f"/{self.api_key}/{device_id}/attrs", json.dumps(payload).encode(), qos=1)
        return len(batch)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.client.disconnect(), 5)
        except Exception as exc:  # already gone: nothing to release
            log.debug("MQTT disconnect of the simulator failed", extra={"error": str(exc)[:200]})


class HttpSender:
    """IoT Agent JSON over HTTP, one ``/iot/json/bulk`` request per round (a round a second: one request, not ten)."""

    tick = 1.0

    def __init__(self, api_key: str, *, base_url: str = "http://127.0.0.1:8000", app: Any = None) -> None:
        transport = httpx.ASGITransport(app=app) if app is not None else None
        self.client = httpx.AsyncClient(base_url="http://saola" if app is not None else base_url,
                                        transport=transport, timeout=30)
        self.api_key = api_key
        self.description = "HTTP (in-process)" if app is not None else f"HTTP {base_url}"

    async def send(self, batch: list[tuple[str, dict[str, Any]]]) -> int:
        body = [{"i": device_id, "d": payload} for device_id, payload in batch]
        response = await self.client.post("/iot/json/bulk", params={"k": self.api_key}, json=body)
        if response.status_code != 200:
            log.warning("the simulator's HTTP batch was refused",
                        extra={"status": response.status_code, "body": response.text[:300]})
            return 0
        return len(batch) - int(response.json().get("rejected", 0))

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class Stats:
    sent: int = 0
    rounds: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    lag_seconds: float = 0.0  # how late the latest report was

    def as_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "rounds": self.rounds, "by_type": dict(self.by_type),
                "lag_seconds": round(self.lag_seconds, 2)}


@dataclass
class Simulator:
    """Sends the telemetry of ``city``'s devices through ``sender`` at most ``rate`` messages a second."""

    city: City
    sender: Sender
    rate: float = 20.0
    acceleration: float = 1.0
    seed: int = 0
    scenario: Scenario | None = None
    model_start: datetime | None = None  # the model time at start (default: now)
    hot_seconds: float = DEFAULT_HOT_SECONDS  # report interval of entities an event touches (lamps: 60 s)
    clock: Callable[[], float] = time.monotonic
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self.devices: list[CityEntity] = [e for e in self.city.entities if e.has_device]
        self.subjects = {e.id: e.subject() for e in self.devices}
        self.index = {e.id: i for i, e in enumerate(self.devices)}
        self.ids = frozenset(self.index)
        self.heap: list[tuple[float, int, int]] = []  # (due, seq, device index): the regular reports
        self.hot_heap: list[tuple[float, int, int]] = []  # the same for devices an event touches: served first
        self.due: dict[int, float] = {}
        self.seq = 0
        self.hot: set[str] = set()
        self.started = 0.0
        rng = random.Random(f"{self.seed}:schedule")
        for i, e in enumerate(self.devices):  # spread the first reports; lamps over their interval
            first = self.interval(e) if e.type == "Streetlight" else min(self.interval(e), 15.0)
            self._schedule(i, rng.uniform(0, first))

    def interval(self, e: CityEntity) -> float:
        return max(1.0, telemetry.REPORT_SECONDS[e.type] / max(self.acceleration, 1e-6))

    def _schedule(self, i: int, at: float) -> None:
        self.due[i] = at
        self.seq += 1
        heapq.heappush(self.hot_heap if self.devices[i].id in self.hot else self.heap, (at, self.seq, i))

    def _next_due(self, elapsed: float) -> tuple[float, int] | None:
        """The next device due by ``elapsed`` (those an event touches first); ``(due, index)`` or None."""
        for heap in (self.hot_heap, self.heap):
            while heap and heap[0][0] <= elapsed:
                due, _seq, i = heapq.heappop(heap)
                if self.due.get(i) == due:
                    return due, i
        return None  # (entries whose device was rescheduled meanwhile are dropped on the way)

    def model_time(self, elapsed: float) -> datetime:
        start = self.model_start or datetime.now(UTC)
        return start + timedelta(seconds=elapsed * self.acceleration)

    def _refresh_hot(self, elapsed: float) -> None:
        if self.scenario is None:
            return
        hot = self.scenario.affected(elapsed) & self.ids
        changed, self.hot = hot ^ self.hot, hot
        for entity_id in changed:  # an event started or ended for them: report now
            self._schedule(self.index[entity_id], elapsed)

    def round(self, elapsed: float, budget: int) -> list[tuple[str, dict[str, Any]]]:
        """The messages due at ``elapsed`` seconds, at most ``budget``; reschedules the devices sent."""
        self._refresh_hot(elapsed)
        conditions = self.scenario.conditions(elapsed) if self.scenario else telemetry.NORMAL
        silent = self.scenario.silent(elapsed) if self.scenario else set()
        at = self.model_time(elapsed)
        batch: list[tuple[str, dict[str, Any]]] = []
        while len(batch) < budget:
            found = self._next_due(elapsed)
            if found is None:
                break
            due, i = found
            e = self.devices[i]
            step = self.interval(e)
            if e.id in self.hot:
                step = min(step, HOT_SECONDS.get(e.type, self.hot_seconds))
            self._schedule(i, max(elapsed, due) + step)
            if e.id in silent:
                continue
            self.stats.lag_seconds = elapsed - due
            batch.append((e.device_id, telemetry.payload(self.seed, self.subjects[e.id], at, conditions)))
            self.stats.by_type[e.type] = self.stats.by_type.get(e.type, 0) + 1
        return batch

    async def run(self, *, duration: float | None = None, stop: asyncio.Event | None = None) -> Stats:
        """Send until ``stop`` is set or ``duration`` seconds have passed."""
        self.started = self.clock()
        if self.model_start is None:
            self.model_start = datetime.now(UTC)
        tokens = 0.0
        last = self.started
        while True:
            now = self.clock()
            elapsed = now - self.started
            if (duration is not None and elapsed >= duration) or (stop is not None and stop.is_set()):
                return self.stats
            tokens = min(self.rate, tokens + (now - last) * self.rate)  # at most one second's burst
            last = now
            batch = self.round(elapsed, int(tokens))
            if batch:
                tokens -= len(batch)
                try:
                    self.stats.sent += await self.sender.send(batch)
                except Exception as exc:  # the broker or server went away: keep the loop, say so
                    log.warning("the simulator could not send", extra={"error": str(exc)[:200]})
                self.stats.rounds += 1
            await asyncio.sleep(getattr(self.sender, "tick", TICK))


async def choose_sender(*, transport: str, api_key: str, broker: Any, http_url: str = "http://127.0.0.1:8000",
                        app: Any = None, say: Callable[[str], None] = log.info) -> Sender:
    """MQTT when ``transport`` is ``mqtt``, or ``auto`` and the broker answers; else HTTP (to ``http_url``, or
    in-process to ``app``). ``broker`` is a :class:`saola.devices.mqtt_worker.BrokerConfig`."""
    where = f"{broker.host}:{broker.port}"
    if transport in ("mqtt", "auto") and (transport == "mqtt" or await asyncio.to_thread(broker.reachable)):
        sender = MqttSender(broker.host, broker.port, api_key, username=broker.username, password=broker.password,
                            tls=broker.tls)
        await sender.connect()
        say(f"simulator: publishing over MQTT to {where}")
        return sender
    http = HttpSender(api_key, base_url=http_url, app=app)
    if transport == "auto":
        say(f"simulator: no MQTT broker at {where}; sending over {http.description} instead")
    else:
        say(f"simulator: sending over {http.description}")
    return http
