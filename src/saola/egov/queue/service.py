"""Use cases of the queue: issue a ticket, and at a counter call next, recall, skip, transfer and finish.

Keyword-only functions taking the session first; none commits (the request's unit of work does) and
each queues its event for after the commit. ``now`` is injected (tests move the clock). A counter
is locked before it changes (``SELECT … FOR UPDATE`` on PostgreSQL, the database write lock on
SQLite), so one counter never serves two tickets and two counters never call the same ticket.

Call order at a counter: priority tickets (elderly, disabled, pregnant…) first, then checked-in
appointments and tickets transferred to this very counter, then everyone else in order of issue.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from saola.core.db import new_id
from saola.egov.queue import events
from saola.egov.queue.errors import (
    CounterBusy,
    CounterClosed,
    InvalidTransfer,
    NoTicketAtCounter,
    QueueEmpty,
    ServiceClosed,
    UnknownCounter,
    UnknownPriority,
    UnknownService,
    UnknownTicket,
)
from saola.egov.queue.models import (
    CALLED,
    DONE,
    FINISHED,
    NO_SHOW,
    SKIPPED,
    TRANSFERRED,
    WAITING,
    CounterService,
    QueueCall,
    QueueCounter,
    QueueService,
    QueueTicket,
)
from saola.egov.queue.numbering import CENTRE_TZ, format_code, local_day, next_number

# Priority groups served first (Law on the Elderly 2009, Law on Persons with Disabilities 2010, …).
PRIORITY_KINDS: dict[str, str] = {
    "elderly": "Elderly person (60 or over)",
    "disabled": "Person with a disability",
    "pregnant": "Pregnant woman",
    "child": "Person with a child under 6",
    "merit": "Person with revolutionary merit",
}


def _actor_id(actor: Any) -> int | None:
    return getattr(actor, "id", None) if actor is not None else None


def lock_row(session: Session, model: Any, row_id: int) -> Any:
    """The row of ``model`` with id ``row_id``, re-read and locked until the transaction ends (or None)."""
    stmt = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        return session.scalars(stmt.with_for_update()).first()
    # SQLite: a write first takes the database write lock, so the reads below see the latest state.
    session.execute(update(model).where(model.id == row_id).values(id=model.id)
                    .execution_options(synchronize_session=False))
    return session.scalars(stmt).first()


# --- reading ------------------------------------------------------------------------------------


def get_service(session: Session, *, service_id: int) -> QueueService:
    service = session.get(QueueService, service_id)
    if service is None:
        raise UnknownService("No queue service with id {service_id}", field="service_id", service_id=service_id)
    return service


def get_counter(session: Session, *, counter_id: int) -> QueueCounter:
    counter = session.get(QueueCounter, counter_id)
    if counter is None or not counter.active:
        raise UnknownCounter("No counter with id {counter_id}", field="counter_id", counter_id=counter_id)
    return counter


def get_ticket(session: Session, *, ticket_id: int) -> QueueTicket:
    ticket = session.get(QueueTicket, ticket_id)
    if ticket is None:
        raise UnknownTicket("No ticket with id {ticket_id}", ticket_id=ticket_id)
    return ticket


def get_ticket_by_public_id(session: Session, *, public_id: str) -> QueueTicket:
    ticket = session.scalars(select(QueueTicket).where(QueueTicket.public_id == public_id)).first()
    if ticket is None:
        raise UnknownTicket()
    return ticket


def list_tickets(session: Session, *, day: date, status: str | None = None, service_id: int | None = None,
                 limit: int = 1000) -> list[QueueTicket]:
    stmt = select(QueueTicket).where(QueueTicket.day == day)
    if status:
        stmt = stmt.where(QueueTicket.status == status)
    if service_id is not None:
        stmt = stmt.where(QueueTicket.service_id == service_id)
    return list(session.scalars(stmt.order_by(QueueTicket.issued_at, QueueTicket.id).limit(limit)))


def counter_service_ids(session: Session, *, counter_id: int) -> list[int]:
    stmt = select(CounterService.service_id).where(CounterService.counter_id == counter_id)
    return sorted(session.scalars(stmt))


def current_ticket(session: Session, *, counter_id: int) -> QueueTicket | None:
    """The ticket the counter is serving now, if any."""
    stmt = select(QueueTicket).where(QueueTicket.counter_id == counter_id, QueueTicket.status == CALLED)
    return session.scalars(stmt).first()


def _eligible(counter_id: int, service_ids: list[int], day: date):  # type: ignore[no-untyped-def]
    """Waiting tickets of ``day`` a counter may call, in the order it calls them."""
    return (
        select(QueueTicket)
        .where(QueueTicket.day == day, QueueTicket.status == WAITING,
               or_(QueueTicket.target_counter_id == counter_id,
                   and_(QueueTicket.target_counter_id.is_(None), QueueTicket.service_id.in_(service_ids))))
        .order_by(case((QueueTicket.priority != "", 0), else_=1),
                  case((or_(QueueTicket.appointment_id.is_not(None), QueueTicket.target_counter_id.is_not(None)), 0),
                       else_=1),
                  QueueTicket.issued_at, QueueTicket.id)
    )


def waiting_for_counter(session: Session, *, counter_id: int, day: date, limit: int = 50) -> list[QueueTicket]:
    """The tickets this counter would call next, in order."""
    ids = counter_service_ids(session, counter_id=counter_id)
    return list(session.scalars(_eligible(counter_id, ids, day).limit(limit)))


def waiting_ahead(session: Session, *, ticket: QueueTicket) -> int:
    """How many tickets of the same service were issued before this one and still wait (shown on the ticket)."""
    if ticket.status != WAITING:
        return 0
    stmt = select(func.count()).select_from(QueueTicket).where(
        QueueTicket.day == ticket.day, QueueTicket.status == WAITING, QueueTicket.service_id == ticket.service_id,
        or_(QueueTicket.issued_at < ticket.issued_at,
            and_(QueueTicket.issued_at == ticket.issued_at, QueueTicket.id < ticket.id)))
    return int(session.scalar(stmt) or 0)


# --- the kiosk ----------------------------------------------------------------------------------


def issue_ticket(session: Session, *, service_id: int, now: datetime, priority: str = "", actor: Any = None,
                 channel: str = "kiosk", appointment_id: int | None = None, tz: str = CENTRE_TZ) -> QueueTicket:
    """A new waiting ticket for ``service_id``, numbered after the day's last one of its prefix."""
    service = get_service(session, service_id=service_id)
    if not service.active:
        raise ServiceClosed("The service '{name}' does not issue tickets at the moment", field="service_id",
                            name=service.name)
    if priority and priority not in PRIORITY_KINDS:
        raise UnknownPriority("Unknown priority group '{priority}'", field="priority", priority=priority)
    day = local_day(now, tz)
    number = next_number(session, service_id=service.id, day=day)
    ticket = QueueTicket(
        public_id=new_id(), day=day, prefix=service.prefix, number=number, code=format_code(service.prefix, number),
        issued_service_id=service.id, service_id=service.id, priority=priority, appointment_id=appointment_id,
        status=WAITING, issued_at=now, queued_at=now, channel=channel,
    )
    session.add(ticket)
    session.flush()
    events.ticket_event(session, events.TICKET_ISSUED, ticket, priority=priority,
                        appointment=appointment_id is not None, actor_id=_actor_id(actor))
    return ticket


# --- at the counter -----------------------------------------------------------------------------


def _locked_counter(session: Session, counter_id: int, *, must_be_open: bool = True) -> QueueCounter:
    counter = lock_row(session, QueueCounter, counter_id)
    if counter is None or not counter.active:
        raise UnknownCounter("No counter with id {counter_id}", field="counter_id", counter_id=counter_id)
    if must_be_open and not counter.is_open:
        raise CounterClosed("Counter {number} is closed; open it first", number=counter.number)
    return counter


def _serving(session: Session, counter: QueueCounter) -> tuple[QueueTicket, QueueCall]:
    ticket = current_ticket(session, counter_id=counter.id)
    if ticket is None:
        raise NoTicketAtCounter("Counter {number} is not serving any ticket", number=counter.number)
    call = session.scalars(select(QueueCall).where(QueueCall.ticket_id == ticket.id, QueueCall.ended_at.is_(None))
                           .order_by(QueueCall.id.desc())).first()
    assert call is not None, "a called ticket always has an open call"
    return ticket, call


def set_counter_open(session: Session, *, counter_id: int, is_open: bool, actor: Any) -> QueueCounter:
    """Open the counter (a clerk sits at it) or close it (only when it serves nobody)."""
    counter = _locked_counter(session, counter_id, must_be_open=False)
    if not is_open and current_ticket(session, counter_id=counter.id) is not None:
        raise CounterBusy("Counter {number} is serving a ticket; finish, skip or transfer it first",
                          number=counter.number)
    counter.is_open = is_open
    counter.opened_by = _actor_id(actor) if is_open else None
    session.flush()
    events.counter_event(session, counter)
    return counter


def call_next(session: Session, *, counter_id: int, actor: Any, now: datetime, tz: str = CENTRE_TZ) -> QueueTicket:
    """Call the next ticket to the counter: priority, then appointments and transfers here, then FIFO.

    An empty queue is answered from a plain read, without taking any lock (idle counters poll often).
    """
    day = local_day(now, tz)
    counter = get_counter(session, counter_id=counter_id)
    if counter.is_open and current_ticket(session, counter_id=counter.id) is None and session.scalars(
            _eligible(counter.id, counter_service_ids(session, counter_id=counter.id), day).limit(1)).first() is None:
        raise QueueEmpty("Nobody is waiting for the services of counter {number}", number=counter.number)
    counter = _locked_counter(session, counter_id)
    if current_ticket(session, counter_id=counter.id) is not None:
        raise CounterBusy("Counter {number} is serving a ticket; finish, skip or transfer it first",
                          number=counter.number)
    stmt = _eligible(counter.id, counter_service_ids(session, counter_id=counter.id), day).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ticket = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if ticket is None:
        raise QueueEmpty("Nobody is waiting for the services of counter {number}", number=counter.number)
    ticket.status, ticket.counter_id, ticket.called_at, ticket.target_counter_id = CALLED, counter.id, now, None
    ticket.first_called_at = ticket.first_called_at or now
    session.add(QueueCall(ticket_id=ticket.id, counter_id=counter.id, service_id=ticket.service_id, day=ticket.day,
                          clerk_id=_actor_id(actor), queued_at=ticket.queued_at, called_at=now))
    session.flush()
    events.ticket_event(session, events.TICKET_CALLED, ticket, counter)
    return ticket


def recall(session: Session, *, counter_id: int, actor: Any, now: datetime) -> QueueTicket:
    """Announce the counter's current ticket again (the citizen did not come yet)."""
    counter = _locked_counter(session, counter_id)
    ticket, _call = _serving(session, counter)
    ticket.recalls += 1
    session.flush()
    events.ticket_event(session, events.TICKET_RECALLED, ticket, counter, recalls=ticket.recalls)
    return ticket


def _end_call(call: QueueCall, outcome: str, now: datetime) -> None:
    call.ended_at, call.outcome = max(now, call.called_at), outcome


def finish(session: Session, *, counter_id: int, actor: Any, now: datetime) -> QueueTicket:
    """The counter finished serving its ticket."""
    counter = _locked_counter(session, counter_id)
    ticket, call = _serving(session, counter)
    _end_call(call, FINISHED, now)
    ticket.status, ticket.finished_at = DONE, call.ended_at
    session.flush()
    events.ticket_event(session, events.TICKET_FINISHED, ticket, counter)
    return ticket


def skip(session: Session, *, counter_id: int, actor: Any, now: datetime) -> QueueTicket:
    """The called citizen did not come: the ticket is closed as a no-show and the counter is free."""
    counter = _locked_counter(session, counter_id)
    ticket, call = _serving(session, counter)
    _end_call(call, NO_SHOW, now)
    ticket.status, ticket.finished_at = SKIPPED, call.ended_at
    session.flush()
    events.ticket_event(session, events.TICKET_SKIPPED, ticket, counter)
    return ticket


def transfer(session: Session, *, counter_id: int, actor: Any, now: datetime, to_service_id: int | None = None,
             to_counter_id: int | None = None) -> QueueTicket:
    """Send the counter's ticket to another service's queue and/or straight to another counter.

    The ticket keeps its code and its place by time of issue; sent to a counter, it is that counter's next
    call after priority tickets.
    """
    counter = _locked_counter(session, counter_id)
    ticket, call = _serving(session, counter)
    target_service = ticket.service_id
    if to_service_id is not None:
        service = session.get(QueueService, to_service_id)
        if service is None or not service.active:
            raise InvalidTransfer("No active queue service with id {service_id}", field="to_service_id",
                                  service_id=to_service_id)
        target_service = service.id
    if to_counter_id is not None:
        target = session.get(QueueCounter, to_counter_id)
        if target is None or not target.active or target.id == counter.id:
            raise InvalidTransfer("Choose another active counter than counter {number}", field="to_counter_id",
                                  number=counter.number)
    elif target_service == ticket.service_id:
        raise InvalidTransfer("Choose another service or a counter to transfer the ticket to", field="to_service_id")
    _end_call(call, TRANSFERRED, now)
    ticket.status, ticket.counter_id, ticket.called_at = WAITING, None, None
    ticket.service_id, ticket.target_counter_id, ticket.queued_at = target_service, to_counter_id, call.ended_at
    session.flush()
    events.ticket_event(session, events.TICKET_TRANSFERRED, ticket, counter, to_counter_id=to_counter_id)
    return ticket


def counters_with_state(session: Session, *, day: date) -> list[dict[str, Any]]:
    """Every active counter with the services it serves and the ticket it is serving."""
    from saola.egov.queue.setup import list_counters, services_by_counter

    links = services_by_counter(session)
    serving = dict(session.execute(select(QueueTicket.counter_id, QueueTicket.code)
                                   .where(QueueTicket.day == day, QueueTicket.status == CALLED)).all())
    return [{"id": c.id, "number": c.number, "name": c.name, "is_open": c.is_open, "active": c.active,
             "service_ids": links.get(c.id, []), "current_ticket": serving.get(c.id)}
            for c in list_counters(session)]
