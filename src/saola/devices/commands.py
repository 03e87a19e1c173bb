"""Downlink commands: requesting, sending, answering and expiring the commands a device declares.

A device (or its service group) declares commands (``[{"name": "dim", "type": "command"}]``). A command
is requested through ``POST /api/v1/devices/{device_id}/commands`` or by writing the command attribute
on the device's entity through NGSI-LD (``PATCH /ngsi-ld/v1/entities/{id}/attrs/dim``), which
:class:`CommandListener` sees on the event bus. Either way a :class:`DeviceCommand` row is written
(``PENDING``) and the entity's ``<cmd>_status`` attribute set, in one transaction, so the command
survives restarts.

The MQTT worker (:mod:`saola.devices.mqtt_worker`) takes due commands (:func:`take_due`), publishes
them to ``/<apikey>/<deviceId>/cmd`` in the IoT Agent format (JSON ``{"dim": 50}`` or UltraLight
``lamp-1@dim|50``) and marks them ``SENT``. An unanswered command is sent again after
``devices_command_timeout_seconds``, at most ``devices_command_attempts`` times, then ``EXPIRED`` (also
once ``devices_command_expiry_seconds`` have passed). The device answers on ``/cmdexe`` (JSON
``{"dim": "OK"}`` or UltraLight ``lamp-1@dim|OK``): :func:`record_answer` sets ``OK`` — or ``ERROR`` when
the result starts with ``ERROR`` — and the result in ``<cmd>_info``.

States: ``PENDING → SENT → OK | ERROR | EXPIRED`` (``PENDING → EXPIRED`` when never sent in time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import String, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from saola.context import entities
from saola.context.errors import NgsiLdError
from saola.core.db import unit_of_work, utcnow
from saola.core.errors import BadRequest
from saola.core.settings import Settings
from saola.devices import registry
from saola.devices.commands_models import DeviceCommand
from saola.devices.measures import core_terms, expand
from saola.devices.models import Device, ServiceGroup
from saola.devices.mqtt_topics import command_topic

log = logging.getLogger("saola.devices.commands")

TRANSITIONS: dict[str, frozenset[str]] = {
    "PENDING": frozenset({"SENT", "OK", "ERROR", "EXPIRED"}),
    "SENT": frozenset({"SENT", "OK", "ERROR", "EXPIRED"}),
}
TERMINAL = frozenset({"OK", "ERROR", "EXPIRED"})
OPEN = ("PENDING", "SENT")


class UnknownCommand(BadRequest):
    code = "unknown-command"
    title = "The device does not declare this command"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A command to publish: its row id, topic and payload."""

    command_id: int
    topic: str
    payload: bytes


def declared(device: Device | Any, group: ServiceGroup | None) -> list[str]:
    """The command names of a device: its own and its group's."""
    names = [c.get("name") for c in [*(device.commands or []), *((group.commands if group else None) or [])]]
    return list(dict.fromkeys(n for n in names if isinstance(n, str) and n))


def view(command: DeviceCommand) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat().replace("+00:00", "Z") if moment is not None else None

    return {"id": command.id, "device_id": command.device_id, "entity_id": command.entity_id,
            "command": command.name, "value": command.value, "status": command.status, "info": command.info,
            "attempts": command.attempts, "created_at": iso(command.created_at), "sent_at": iso(command.sent_at),
            "expires_at": iso(command.expires_at), "finished_at": iso(command.finished_at)}


def _write_status(session: Session, command: DeviceCommand, *, with_info: bool = False) -> None:
    """``<cmd>_status`` (and ``<cmd>_info``) on the device's entity; a missing entity is only logged."""
    body: dict[str, Any] = {f"{command.name}_status": {"type": "Property", "value": command.status}}
    if with_info:
        body[f"{command.name}_info"] = {"type": "Property", "value": command.info or ""}
    try:
        entities.merge_entity(session, tenant=command.tenant, entity_id=command.entity_id, body=body,
                              tm=core_terms())
    except NgsiLdError as exc:
        log.warning("command status not written on the entity",
                    extra={"entity_id": command.entity_id, "reason": exc.detail})


def request(session: Session, *, device: Device, name: str, value: Any, settings: Settings,
            now: datetime | None = None) -> DeviceCommand:
    """A new PENDING command for ``device`` (it must declare ``name``); supersedes its open ones of that name."""
    group = session.get(ServiceGroup, device.group_id) if device.group_id else None
    if name not in declared(device, group):
        raise UnknownCommand("The device {device_id} declares no command {command}", device_id=device.device_id,
                             command=name)
    now = now or utcnow()
    session.execute(update(DeviceCommand).where(
        DeviceCommand.device_pk == device.id, DeviceCommand.name == name, DeviceCommand.status.in_(OPEN),
    ).values(status="EXPIRED", info="superseded by a newer command", finished_at=now))
    command = DeviceCommand(device_pk=device.id, tenant=device.tenant, api_key=device.api_key,
                            device_id=device.device_id, entity_id=device.entity_id, protocol=device.protocol,
                            name=name, value=value, status="PENDING", attempts=0, created_at=now,
                            next_attempt_at=now,
                            expires_at=now + timedelta(seconds=settings.devices_command_expiry_seconds))
    session.add(command)
    session.flush()
    _write_status(session, command)
    return command


def _ul_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "|".join(f"{k}={_ul_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "|".join(_ul_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def payload_of(command: DeviceCommand) -> bytes:
    """The IoT Agent command payload: UltraLight for UltraLight devices, else JSON."""
    if "UL" in command.protocol.upper():
        return f"{command.device_id}@{command.name}|{_ul_value(command.value)}".encode()
    return json.dumps({command.name: command.value}, separators=(",", ":")).encode()


def take_due(session: Session, *, settings: Settings, now: datetime, limit: int = 500) -> list[Outgoing]:
    """Expire what is past its time or attempts; claim the commands to (re)send now and mark them SENT.

    A claim is a conditional UPDATE on the attempt count, so two workers never send the same attempt."""
    timeout = timedelta(seconds=settings.devices_command_timeout_seconds)
    due = session.scalars(select(DeviceCommand).where(
        DeviceCommand.status.in_(OPEN),
        or_(DeviceCommand.next_attempt_at <= now, DeviceCommand.expires_at <= now),
    ).order_by(DeviceCommand.id).limit(limit)).all()
    out: list[Outgoing] = []
    for command in due:
        if command.expires_at <= now or command.attempts >= settings.devices_command_attempts:
            reason = "no answer from the device" if command.attempts else "not sent before it expired"
            if _claim(session, command, now, status="EXPIRED", info=f"{reason} ({command.attempts} attempts)"):
                _write_status(session, command, with_info=True)
            continue
        if _claim(session, command, now, status="SENT", next_attempt_at=now + timeout):
            _write_status(session, command)
            out.append(Outgoing(command.id, command_topic(command.api_key, command.device_id), payload_of(command)))
    return out


def _claim(session: Session, command: DeviceCommand, now: datetime, *, status: str, info: str | None = None,
           next_attempt_at: datetime | None = None) -> bool:
    values: dict[str, Any] = {"status": status}
    if status == "SENT":
        values |= {"attempts": command.attempts + 1, "sent_at": now, "next_attempt_at": next_attempt_at}
    else:
        values |= {"info": info, "finished_at": now}
    sources = [s for s, allowed in TRANSITIONS.items() if status in allowed]
    result = session.execute(update(DeviceCommand).where(
        DeviceCommand.id == command.id, DeviceCommand.attempts == command.attempts,
        DeviceCommand.status.in_(sources)).values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(command)
    return True


def _answers(payload: bytes, fmt: str, device_id: str) -> dict[str, str]:
    """Command name → result text, from a JSON ``{"dim": "OK"}`` or UltraLight ``lamp-1@dim|OK`` answer."""
    text = payload.decode("utf-8", "strict").strip()
    if fmt == "json":
        data = json.loads(text)
        if not isinstance(data, dict) or not data:
            raise ValueError("a JSON command answer is an object {\"<command>\": <result>}")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    found: dict[str, str] = {}
    for line in filter(None, (part.strip() for part in text.split("#"))):
        target, sep, rest = line.partition("@")
        name, _bar, result = rest.partition("|")
        if not sep or not name:
            raise ValueError("an UltraLight command answer is '<deviceId>@<command>|<result>'")
        if target != device_id:
            raise ValueError(f"the answer names device {target[:64]!r}, not the topic's")
        found[name] = result
    if not found:
        raise ValueError("the command answer is empty")
    return found


def record_answer(session: Session, *, api_key: str, device_id: str, payload: bytes, fmt: str,
                  now: datetime) -> str | None:
    """Apply a device's ``/cmdexe`` answer; the rejection reason (``<code>: <detail>``) or None."""
    device = registry.find_device(session, api_key=api_key, device_id=device_id)
    if device is None:
        return "unknown-device: no device with this id is provisioned for this API key"
    try:
        answers = _answers(payload, fmt, device_id)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"malformed-payload: {exc}"[:300]
    missing = []
    for name, result in answers.items():
        command = session.scalars(select(DeviceCommand).where(
            DeviceCommand.device_pk == device.id, DeviceCommand.name == name, DeviceCommand.status.in_(OPEN),
        ).order_by(DeviceCommand.id.desc()).limit(1)).first()
        if command is None:
            missing.append(name)
            continue
        status = "ERROR" if result.strip().upper().startswith("ERROR") else "OK"
        if _claim(session, command, now, status=status, info=result[:4000]):
            _write_status(session, command, with_info=True)
    if missing:
        return f"unknown-command: no open command {', '.join(sorted(missing))[:200]} for this device"
    return None


def send_due(factory: sessionmaker[Session], settings: Settings) -> tuple[list[Outgoing], list[tuple[str, Any]]]:
    """:func:`take_due` in its own transaction: the commands to publish and the events to publish."""
    events: list[tuple[str, Any]] = []
    with unit_of_work(factory, events=events) as session:
        out = take_due(session, settings=settings, now=utcnow())
    return out, events


# --- commands written through NGSI-LD ----------------------------------------------------------


def _value_of(entity: dict[str, Any], iri: str) -> Any:
    instances = entity.get(iri) or []
    first = instances[0] if isinstance(instances, list) and instances else None
    if not isinstance(first, dict):
        return None
    for key in ("value", "object", "json"):
        if key in first:
            return first[key]
    return None


def commands_from_change(session: Session, *, tenant: str, entity_id: str, changed: list[str],
                         entity: dict[str, Any], settings: Settings) -> list[DeviceCommand]:
    """The commands requested by an NGSI-LD change that wrote command attributes of a device's entity."""
    if not changed:
        return []
    made = []
    for device in session.scalars(select(Device).where(Device.tenant == tenant, Device.entity_id == entity_id)):
        group = session.get(ServiceGroup, device.group_id) if device.group_id else None
        for name in declared(device, group):
            if expand(name) in changed and entity.get(expand(name)):
                made.append(request(session, device=device, name=name, value=_value_of(entity, expand(name)),
                                    settings=settings))
    return made


def command_iris(session: Session) -> frozenset[str]:
    """The expanded names of every command declared by a device or a service group."""
    names: set[str] = set()
    for model in (Device, ServiceGroup):
        for (declared_commands,) in session.execute(select(model.commands).where(
                model.commands.cast(String) != "[]")):
            names.update(c.get("name") for c in declared_commands or [] if isinstance(c, dict))
    return frozenset(expand(n) for n in names if isinstance(n, str) and n)


class CommandListener:
    """Turns NGSI-LD writes of command attributes (``ngsi.entity.updated``) into commands, in the app.

    Measures stored by the ingest core also arrive as entity updates, thousands a second: a change is
    looked at only when it touches the name of some declared command (cached, refreshed every
    ``REFRESH`` seconds, so a newly declared command is recognised within that time)."""

    REFRESH = 10.0

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.task: asyncio.Task[None] | None = None
        self.subscription: Any = None
        self.iris: frozenset[str] = frozenset()
        self.iris_at = -self.REFRESH

    def _declared_iris(self) -> frozenset[str]:
        if time.monotonic() - self.iris_at >= self.REFRESH:
            with self.app.state.session_factory() as session:
                self.iris = command_iris(session)
            self.iris_at = time.monotonic()
        return self.iris

    async def start(self) -> None:
        self.subscription = self.app.state.event_bus.subscribe("ngsi.entity.updated", max_queue=10_000,
                                                               group="device-commands")
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.subscription is not None:
            await self.subscription.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    def _handle(self, payload: dict[str, Any]) -> tuple[int, list[tuple[str, Any]]]:
        changed = [iri for iri in payload.get("changed") or [] if not iri.endswith(("_status", "_info"))]
        if not changed or not self._declared_iris().intersection(changed):
            return 0, []
        settings: Settings = self.app.state.settings
        events: list[tuple[str, Any]] = []
        with unit_of_work(self.app.state.session_factory, events=events) as session:
            made = commands_from_change(session, tenant=payload.get("tenant", ""), entity_id=payload.get("id", ""),
                                        changed=changed, entity=payload.get("entity") or {}, settings=settings)
        return len(made), events

    def _concerns_commands(self, payload: dict[str, Any]) -> bool:
        """Whether the change touches a command attribute (known ones cached; refreshed in the caller's thread)."""
        changed = payload.get("changed") or []
        return any(not iri.endswith(("_status", "_info")) and iri in self.iris for iri in changed)

    async def _run(self) -> None:
        async for event in self.subscription:
            # Most changes are measurements: decided here, without a trip to a thread, once the
            # declared command names are fresh.
            if time.monotonic() - self.iris_at < self.REFRESH and not self._concerns_commands(event.payload):
                continue
            try:
                made, events = await asyncio.to_thread(self._handle, event.payload)
            except Exception:
                log.exception("turning an entity change into device commands failed")
                continue
            for topic, payload in events:
                await self.app.state.event_bus.publish(topic, payload)
            if made:
                wake = getattr(self.app.state, "command_wake", None)
                if wake is not None:
                    wake.set()


def parse_answer_format(fmt: str | None, payload: bytes) -> str:
    """The format of a ``/cmdexe`` answer: the topic's, else JSON when it looks like JSON."""
    if fmt:
        return fmt
    try:
        json.loads(payload)
        return "json"
    except ValueError:
        return "ul"


def record_answers(factory: sessionmaker[Session], answers: list[tuple[str, str, bytes, str | None]]) \
        -> tuple[list[str | None], list[tuple[str, Any]]]:
    """Several ``(api_key, device_id, payload, format)`` answers in one transaction: per answer its
    rejection reason or None, and the events to publish."""
    events: list[tuple[str, Any]] = []
    with unit_of_work(factory, events=events) as session:
        now = utcnow()
        reasons = [record_answer(session, api_key=k, device_id=d, payload=p, fmt=parse_answer_format(f, p), now=now)
                   for k, d, p, f in answers]
    return reasons, events
