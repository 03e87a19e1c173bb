"""The centre's configuration, kept by administrators: queue services (name, prefix letter, appointment
slots) and counters (number, name, the services each serves)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from saola.egov.queue import events
from saola.egov.queue.errors import DuplicateQueueSetup, InvalidQueueSetup, UnknownCounter, UnknownService
from saola.egov.queue.models import CounterService, QueueCounter, QueueService

PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")
MAX_SLOT_CAPACITY = 100


def list_services(session: Session, *, active_only: bool = False) -> list[QueueService]:
    stmt = select(QueueService)
    if active_only:
        stmt = stmt.where(QueueService.active.is_(True))
    return list(session.scalars(stmt.order_by(QueueService.position, QueueService.prefix)))


def list_counters(session: Session, *, active_only: bool = True) -> list[QueueCounter]:
    stmt = select(QueueCounter)
    if active_only:
        stmt = stmt.where(QueueCounter.active.is_(True))
    return list(session.scalars(stmt.order_by(QueueCounter.number)))


def services_by_counter(session: Session) -> dict[int, list[int]]:
    """``{counter_id: [service ids]}`` for every counter."""
    out: dict[int, list[int]] = {}
    for link in session.scalars(select(CounterService).order_by(CounterService.service_id)):
        out.setdefault(link.counter_id, []).append(link.service_id)
    return out


def _clean_service_fields(fields: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in fields.items() if v is not None}
    if "prefix" in out:
        out["prefix"] = str(out["prefix"]).strip().upper()
        if not PREFIX_RE.match(out["prefix"]):
            raise InvalidQueueSetup("The prefix is one or two capital letters (A, B, LD…)", field="prefix")
    for name in ("name", "name_en"):
        if name in out:
            out[name] = str(out[name]).strip()
    if "name" in out and not out["name"]:
        raise InvalidQueueSetup("The service name is empty", field="name")
    if "slot_minutes" in out and not 5 <= int(out["slot_minutes"]) <= 240:
        raise InvalidQueueSetup("A slot lasts from 5 to 240 minutes", field="slot_minutes")
    if "slot_capacity" in out and not 0 <= int(out["slot_capacity"]) <= MAX_SLOT_CAPACITY:
        raise InvalidQueueSetup("A slot takes from 0 to 100 appointments", field="slot_capacity")
    return out


def _check_prefix_free(session: Session, prefix: str, service_id: int | None) -> None:
    other = session.scalars(select(QueueService).where(QueueService.prefix == prefix)).first()
    if other is not None and other.id != service_id:
        raise DuplicateQueueSetup("The prefix {prefix} is already used by '{name}'", field="prefix", prefix=prefix,
                                  name=other.name)


def create_service(session: Session, *, actor: Any, prefix: str, name: str, name_en: str = "",
                   slot_minutes: int = 30, slot_capacity: int = 2, position: int = 0,
                   active: bool = True) -> QueueService:
    fields = _clean_service_fields({"prefix": prefix, "name": name, "name_en": name_en, "slot_minutes": slot_minutes,
                                    "slot_capacity": slot_capacity, "position": position, "active": active})
    _check_prefix_free(session, fields["prefix"], None)
    service = QueueService(**fields)
    session.add(service)
    session.flush()
    events.setup_event(session, "service", service.id)
    return service


def update_service(session: Session, *, actor: Any, service_id: int, **changes: Any) -> QueueService:
    service = session.get(QueueService, service_id)
    if service is None:
        raise UnknownService("No queue service with id {service_id}", service_id=service_id)
    fields = _clean_service_fields(changes)
    if "prefix" in fields:
        _check_prefix_free(session, fields["prefix"], service.id)
    for key, value in fields.items():
        setattr(service, key, value)
    session.flush()
    events.setup_event(session, "service", service.id)
    return service


def _set_links(session: Session, counter: QueueCounter, service_ids: Iterable[int]) -> None:
    wanted = sorted(set(service_ids))
    known = set(session.scalars(select(QueueService.id).where(QueueService.id.in_(wanted)))) if wanted else set()
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise InvalidQueueSetup("No queue service with id {service_id}", field="service_ids", service_id=unknown[0])
    session.execute(delete(CounterService).where(CounterService.counter_id == counter.id))
    session.add_all(CounterService(counter_id=counter.id, service_id=i) for i in wanted)


def _check_number(session: Session, number: int, counter_id: int | None) -> None:
    if not 1 <= number <= 999:
        raise InvalidQueueSetup("A counter number is from 1 to 999", field="number")
    other = session.scalars(select(QueueCounter).where(QueueCounter.number == number)).first()
    if other is not None and other.id != counter_id:
        raise DuplicateQueueSetup("Counter number {number} already exists", field="number", number=number)


def create_counter(session: Session, *, actor: Any, number: int, name: str = "",
                   service_ids: Iterable[int] = ()) -> QueueCounter:
    _check_number(session, number, None)
    counter = QueueCounter(number=number, name=name.strip(), is_open=False, active=True)
    session.add(counter)
    session.flush()
    _set_links(session, counter, service_ids)
    session.flush()
    events.setup_event(session, "counter", counter.id)
    return counter


def update_counter(session: Session, *, actor: Any, counter_id: int, number: int | None = None,
                   name: str | None = None, active: bool | None = None,
                   service_ids: Iterable[int] | None = None) -> QueueCounter:
    counter = session.get(QueueCounter, counter_id)
    if counter is None:
        raise UnknownCounter("No counter with id {counter_id}", counter_id=counter_id)
    if number is not None:
        _check_number(session, number, counter.id)
        counter.number = number
    if name is not None:
        counter.name = name.strip()
    if active is not None:
        counter.active = active
        counter.is_open = counter.is_open and active
    if service_ids is not None:
        _set_links(session, counter, service_ids)
    session.flush()
    events.setup_event(session, "counter", counter.id)
    return counter
