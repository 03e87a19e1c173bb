"""The ingest core shared by the HTTP and MQTT transports: a batch of device messages in, measures stored.

:meth:`Ingestor.store` takes a batch of :class:`Message` and, in ONE transaction: finds the devices
(one query), auto-provisions unknown ones when their group allows, checks credentials (group API
key plus device id, and the per-device token when one is set), parses each payload
(:mod:`saola.devices.formats`), maps it to measures (:mod:`saola.devices.measures`), writes them in
bulk (:mod:`saola.devices.entity_writer`), adds the new ones to the rollups
(:mod:`saola.devices.rollups`) and updates each device's health counters (these two once the
entities are locked, in the same PostgreSQL pipeline as the entity documents). A refused message is
listed in :attr:`Outcome.rejected` with a reason starting with a stable code (``unknown-device: ...``)
and logged; it never blocks the others. When the database cannot be written,
:class:`~saola.devices.errors.StoreUnavailable` is raised and nothing of the batch is stored.

The events to publish (``ngsi.entity.updated`` per changed entity, ``device.online``) are returned in
:attr:`Outcome.events`; the caller publishes them on the application's event bus after ``store()``
returns (:func:`publish`), since this class has no event loop of its own.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, bindparam, case, func, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from saola.core.db import queue_event, take_committed_events, utcnow, write_intent
from saola.core.events import EventBus
from saola.core.settings import Settings
from saola.devices import formats, pg_bulk, registry, rollups
from saola.devices.entity_writer import write_measures
from saola.devices.errors import MalformedPayload, StoreUnavailable
from saola.devices.measures import Mapping, Measure, mappings_of, to_measures
from saola.devices.models import Device, ServiceGroup

log = logging.getLogger("saola.devices.ingest")
DEVICES = Device.__table__


@dataclass(frozen=True, slots=True)
class Message:
    api_key: str
    device_id: str
    payload: bytes
    format: Literal["json", "ul"]  # IoT Agent JSON or UltraLight 2.0
    transport: Literal["mqtt", "http"]
    received_at: datetime  # UTC, when Saola received it (observedAt when the payload has no TimeInstant)
    attribute: str | None = None  # MQTT /attrs/<attr> topics: the payload is that one attribute's bare value
    token: str | None = None  # the per-device token, for devices that have one


@dataclass
class Outcome:
    stored: int  # measures newly stored
    duplicates: int  # measures already stored (same device, attribute, observedAt)
    rejected: list[tuple[Message, str]]  # messages refused, with the reason ("<code>: <detail>")
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # to publish after store()
    accepted: int = 0  # messages accepted (their measures stored or already stored)


def reason_code(reason: str) -> str:
    """The stable code at the start of a rejection reason (``unknown-device``, ``wrong-api-key``...)."""
    return reason.partition(":")[0]


async def publish(bus: EventBus, outcome: Outcome) -> None:
    for topic, payload in outcome.events:
        await bus.publish(topic, payload)


@dataclass
class _DeviceTally:
    messages: int = 0
    measures: int = 0
    rejected: int = 0
    seen: datetime | None = None
    battery: tuple[str, float] | None = None  # (observedAt, value)
    signal: tuple[str, float] | None = None


class Ingestor:
    """Stores batches of device messages; thread-safe (one session per call)."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.counters: Counter[str] = Counter()
        self._lock = threading.Lock()

    def store(self, messages: Sequence[Message]) -> Outcome:
        """Store a batch in ONE transaction. A malformed/unauthorised message is rejected (counted, logged
        with the reason) and never blocks the others. Raises StoreUnavailable when the database cannot
        be written: then NOTHING of the batch is considered stored and the caller retries later.

        (Only when the database refuses a value the batch is stored again in halves, see
        :meth:`_store_or_split`; should it become unavailable meanwhile, the halves already committed
        are found as duplicates when the caller sends the batch again.)"""
        if not messages:
            return Outcome(0, 0, [])
        outcome = self._store_or_split(list(messages))
        for message, reason in outcome.rejected:
            log.warning("device message rejected", extra={"device_id": message.device_id[:255], "reason": reason,
                                                          "transport": message.transport})
        with self._lock:
            self.counters.update(messages=len(messages), stored=outcome.stored, duplicates=outcome.duplicates,
                                 rejected=len(outcome.rejected))
        return outcome

    def _store_or_split(self, messages: list[Message]) -> Outcome:
        """One transaction for ``messages``. When the database refuses a value or a row (DataError,
        IntegrityError: something the checks before it did not foresee, or a device/entity created
        by another worker meanwhile), the batch is stored again in halves, so that only the message
        at fault is rejected and the others are stored."""
        outcome = Outcome(0, 0, [])
        try:
            outcome.events = self._transaction(messages, outcome)
            return outcome
        except (OperationalError, InterfaceError, PoolTimeout) as exc:
            cause = getattr(exc, "orig", None) or exc
            raise StoreUnavailable(f"The database cannot be written: {type(cause).__name__}: {cause}") from exc
        except (DataError, IntegrityError) as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable("The database connection was lost") from exc
            if len(messages) == 1:
                cause = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
                return Outcome(0, 0, [(messages[0], f"malformed-payload: the database refused a value ({cause})")])
            log.warning("batch refused by the database, stored again in halves",
                        extra={"messages": len(messages), "error": type(exc.orig or exc).__name__})
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable("The database connection was lost") from exc
            raise
        half = len(messages) // 2
        first, second = self._store_or_split(messages[:half]), self._store_or_split(messages[half:])
        return Outcome(first.stored + second.stored, first.duplicates + second.duplicates,
                       first.rejected + second.rejected, first.events + second.events,
                       first.accepted + second.accepted)

    def _transaction(self, messages: Sequence[Message], outcome: Outcome) -> list[tuple[str, dict[str, Any]]]:
        session = self.session_factory()
        try:
            with write_intent():
                session.connection()  # SQLite: BEGIN IMMEDIATE, so the batch queues for the write lock
            self._store(session, messages, outcome)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            events = take_committed_events(session)
            session.close()
        return events

    def _store(self, session: Session, messages: Sequence[Message], outcome: Outcome) -> None:
        now = utcnow()
        checked: dict[tuple[str, str], bool] = {}  # a device sends many messages of a batch: check it once
        for m in messages:
            key = (m.api_key, m.device_id)
            if key not in checked:
                checked[key] = formats.valid_device_id(m.device_id) and formats.valid_device_id(m.api_key)
        keys = [(m.api_key, m.device_id) for m in messages if checked[(m.api_key, m.device_id)]]
        devices = registry.devices_for(session, keys)
        groups = registry.groups_for(session, {key for key, _device in keys})
        valid = set(keys)
        unknown = [m for m in messages if (m.api_key, m.device_id) in valid and (m.api_key, m.device_id) not in devices]
        if unknown:
            devices.update(self._provision_unknown(session, unknown, groups))
        tallies: dict[int, _DeviceTally] = {}
        mapping_cache: dict[int, dict[str, Mapping]] = {}
        reasons: dict[str, str] = {}  # why an unknown device of this API key is refused
        measures: list[Measure] = []
        entity_types: dict[tuple[str, str], str] = {}
        for message in messages:
            device = devices.get((message.api_key, message.device_id))
            if device is None and not checked[(message.api_key, message.device_id)]:
                outcome.rejected.append((message, "unknown-device: the API key or device id holds characters "
                                                  "that are not allowed (spaces, control characters, / + #)"))
                continue
            if device is None:
                if message.api_key not in reasons:
                    reasons[message.api_key] = self._unknown_reason(session, message.api_key, groups)
                outcome.rejected.append((message, reasons[message.api_key]))
                continue
            tally = tallies.setdefault(device.id, _DeviceTally())
            if not registry.token_matches(device.token_hash, message.token):
                tally.rejected += 1
                outcome.rejected.append((message, "wrong-device-token: the device token is missing or wrong"))
                continue
            mappings = mapping_cache.get(device.id)
            if mappings is None:
                group = groups.get(message.api_key)
                mappings = mapping_cache[device.id] = mappings_of(device.attributes or [],
                                                                  group.attributes if group else [])
            try:
                readings = formats.parse(message.payload, message.format, message.attribute)
                found = to_measures(readings, device_pk=device.id, tenant=device.tenant, entity_id=device.entity_id,
                                    mappings=mappings, received_at=message.received_at)
            except MalformedPayload as exc:
                tally.rejected += 1
                outcome.rejected.append((message, f"malformed-payload: {exc.detail}"))
                continue
            outcome.accepted += 1
            measures += found
            entity_types[(device.tenant, device.entity_id)] = device.entity_type
            tally.messages += 1
            tally.seen = max(tally.seen or message.received_at, message.received_at)
        conn = session.connection()
        rows = {row.id: row for row in devices.values()}
        online: list[tuple[str, dict[str, Any]]] = []  # device.online events, queued after the entity events

        def after_lock(new: list[Measure]) -> None:
            """Rollups and health counters of the new measures (in the documents' pipeline on PostgreSQL)."""
            rollups.update_rollups(conn, new)
            for m in new:
                tally = tallies[m.device_pk]
                tally.measures += 1
                if m.health in ("battery", "signal"):
                    number = m.number
                    if number is None:
                        continue
                    current = getattr(tally, m.health)
                    if current is None or m.observed_text >= current[0]:
                        setattr(tally, m.health, (m.observed_text, number))
            online.extend(self._update_health(session, tallies, rows))

        written = write_measures(session, measures, entity_types=entity_types, now=now, after_lock=after_lock)
        outcome.stored = len(written.new)
        outcome.duplicates = written.duplicates
        for topic, payload in online:
            queue_event(session, topic, payload)

    def _provision_unknown(self, session: Session, unknown: list[Message],
                           groups: dict[str, ServiceGroup]) -> dict[tuple[str, str], Row[Any]]:
        from saola.devices.service import autoprovision  # provisioning pulls in the context services

        made: list[tuple[str, str]] = []
        for message in unknown:
            group = groups.get(message.api_key)
            key = (message.api_key, message.device_id)
            if group is None or not group.autoprovision or key in made:
                continue
            if not formats.valid_device_id(message.device_id):
                continue
            # a device id already provisioned under another key is refused, not provisioned again
            if session.scalar(select(func.count()).select_from(DEVICES).where(
                    DEVICES.c.tenant == group.tenant, DEVICES.c.device_id == message.device_id)):
                continue
            autoprovision(session, group=group, device_id=message.device_id)
            made.append(key)
        return registry.devices_for(session, made) if made else {}

    @staticmethod
    def _unknown_reason(session: Session, api_key: str, groups: dict[str, ServiceGroup]) -> str:
        if api_key in groups:
            return "unknown-device: no device with this id is provisioned for this API key"
        if session.scalar(select(func.count()).select_from(DEVICES).where(DEVICES.c.api_key == api_key)):
            return "unknown-device: no device with this id is provisioned for this API key"
        return "wrong-api-key: the API key is unknown"

    @staticmethod
    def _update_health(session: Session, tallies: dict[int, _DeviceTally],
                       rows: dict[int, Row[Any]]) -> list[tuple[str, dict[str, Any]]]:
        """Update the devices' health counters; the ``device.online`` events to queue (the caller queues
        them after the entity events, in the order subscribers have always seen them)."""
        params = []
        events: list[tuple[str, dict[str, Any]]] = []
        for pk, t in sorted(tallies.items()):  # rows locked in key order: concurrent workers cannot deadlock
            params.append({"pk": pk, "seen": t.seen, "messages": t.messages, "measures": t.measures,
                           "rejected": t.rejected, "battery": t.battery[1] if t.battery else None,
                           "signal": t.signal[1] if t.signal else None, "online": True if t.messages else None})
            row = rows.get(pk)
            if t.messages and row is not None and row.online is False:
                events.append(("device.online", {"tenant": row.tenant, "device_id": row.device_id,
                                                 "entity_id": row.entity_id, "at": t.seen.isoformat()
                                                 if t.seen else None}))
        if not params:
            return events
        if session.get_bind().dialect.name == "postgresql":
            pg_bulk.update_health(session.connection(), params)
            return events
        c = DEVICES.c
        session.connection().execute(
            update(DEVICES).where(c.id == bindparam("pk")).values(
                last_seen=case((bindparam("seen", type_=c.last_seen.type).is_(None), c.last_seen),
                               (c.last_seen.is_(None), bindparam("seen", type_=c.last_seen.type)),
                               (c.last_seen < bindparam("seen", type_=c.last_seen.type),
                                bindparam("seen", type_=c.last_seen.type)),
                               else_=c.last_seen),
                message_count=c.message_count + bindparam("messages"),
                measure_count=c.measure_count + bindparam("measures"),
                rejected_count=c.rejected_count + bindparam("rejected"),
                battery=func.coalesce(bindparam("battery", type_=c.battery.type), c.battery),
                signal=func.coalesce(bindparam("signal", type_=c.signal.type), c.signal),
                online=func.coalesce(bindparam("online", type_=c.online.type), c.online)),
            params)
        return events
