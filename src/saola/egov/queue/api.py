"""JSON API of the queue under ``/api/v1/queue``: services, counters and their actions, tickets,
appointments, the display board's data and the statistics.

Reads a citizen or a display needs (services, free slots, the board) are public; issuing tickets and
serving needs ``queue:serve`` (a kiosk's API token, a clerk), configuration ``queue:manage`` and
statistics ``queue:read``. Citizens take tickets and book slots anonymously through the kiosk and
booking pages (``/queue/...``), which are CSRF-protected forms.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.egov.queue import appointments, display, setup, stats
from saola.egov.queue import service as queue
from saola.egov.queue.appointments import parse_slot_time
from saola.egov.queue.models import TICKET_STATUSES
from saola.egov.queue.schemas import (
    AppointmentIn,
    AppointmentOut,
    BoardOut,
    CheckInIn,
    CounterIn,
    CounterOut,
    CounterUpdate,
    ServiceIn,
    ServiceOut,
    ServiceUpdate,
    SlotOut,
    TicketIn,
    TicketOut,
    TransferIn,
)

router = APIRouter(prefix="/api/v1/queue", tags=["queue"])
Server = Annotated[Principal, Depends(require("queue:serve"))]
Manager = Annotated[Principal, Depends(require("queue:manage"))]
Reader = Annotated[Principal, Depends(require("queue:read"))]
Id = Annotated[int, Query(ge=1, le=2**31 - 1)]


def _tz(request: Request) -> str:
    return request.app.state.settings.timezone


def _today(request: Request) -> date:
    from saola.egov.queue.numbering import local_day

    return local_day(utcnow(), _tz(request))


def _counter_out(session: DbSession, request: Request, counter_id: int) -> CounterOut:
    rows = queue.counters_with_state(session, day=_today(request))
    return CounterOut(**next(r for r in rows if r["id"] == counter_id))


# --- services --------------------------------------------------------------------------------------


@router.get("/services", response_model=list[ServiceOut], summary="Services of the kiosk (public)")
def list_services(session: DbSession) -> list[ServiceOut]:
    return [ServiceOut.model_validate(s) for s in setup.list_services(session)]


@router.post("/services", response_model=ServiceOut, status_code=status.HTTP_201_CREATED, summary="Add a service")
def create_service(body: ServiceIn, session: DbSession, principal: Manager) -> ServiceOut:
    return ServiceOut.model_validate(setup.create_service(session, actor=principal, **body.model_dump()))


@router.patch("/services/{service_id}", response_model=ServiceOut, summary="Change a service")
def update_service(service_id: int, body: ServiceUpdate, session: DbSession, principal: Manager) -> ServiceOut:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return ServiceOut.model_validate(setup.update_service(session, actor=principal, service_id=service_id, **changes))


# --- counters ---------------------------------------------------------------------------------------


@router.get("/counters", response_model=list[CounterOut], summary="Counters, the services each serves, their ticket")
def list_counters(request: Request, session: DbSession, _: Server) -> list[CounterOut]:
    return [CounterOut(**row) for row in queue.counters_with_state(session, day=_today(request))]


@router.post("/counters", response_model=CounterOut, status_code=status.HTTP_201_CREATED, summary="Add a counter")
def create_counter(body: CounterIn, request: Request, session: DbSession, principal: Manager) -> CounterOut:
    counter = setup.create_counter(session, actor=principal, **body.model_dump())
    return _counter_out(session, request, counter.id)


@router.patch("/counters/{counter_id}", response_model=CounterOut, summary="Change a counter")
def update_counter(counter_id: int, body: CounterUpdate, request: Request, session: DbSession,
                   principal: Manager) -> CounterOut:
    counter = setup.update_counter(session, actor=principal, counter_id=counter_id,
                                   **body.model_dump(exclude_unset=True, exclude_none=True))
    if not counter.active:
        return CounterOut(id=counter.id, number=counter.number, name=counter.name, is_open=False, active=False,
                          service_ids=[], current_ticket=None)
    return _counter_out(session, request, counter.id)


@router.post("/counters/{counter_id}/open", response_model=CounterOut, summary="Open the counter")
def open_counter(counter_id: int, request: Request, session: DbSession, principal: Server) -> CounterOut:
    queue.set_counter_open(session, counter_id=counter_id, is_open=True, actor=principal)
    return _counter_out(session, request, counter_id)


@router.post("/counters/{counter_id}/close", response_model=CounterOut, summary="Close the counter")
def close_counter(counter_id: int, request: Request, session: DbSession, principal: Server) -> CounterOut:
    queue.set_counter_open(session, counter_id=counter_id, is_open=False, actor=principal)
    return _counter_out(session, request, counter_id)


@router.post("/counters/{counter_id}/call-next", response_model=TicketOut,
             summary="Call the next ticket: priority, then appointments, then first come first served",
             responses={409: {"description": "Counter closed or busy, or nobody waiting"}})
def call_next(counter_id: int, request: Request, session: DbSession, principal: Server) -> TicketOut:
    ticket = queue.call_next(session, counter_id=counter_id, actor=principal, now=utcnow(), tz=_tz(request))
    return TicketOut.model_validate(ticket)


@router.post("/counters/{counter_id}/recall", response_model=TicketOut, summary="Announce the current ticket again")
def recall(counter_id: int, session: DbSession, principal: Server) -> TicketOut:
    return TicketOut.model_validate(queue.recall(session, counter_id=counter_id, actor=principal, now=utcnow()))


@router.post("/counters/{counter_id}/skip", response_model=TicketOut, summary="The citizen did not come (no-show)")
def skip(counter_id: int, session: DbSession, principal: Server) -> TicketOut:
    return TicketOut.model_validate(queue.skip(session, counter_id=counter_id, actor=principal, now=utcnow()))


@router.post("/counters/{counter_id}/finish", response_model=TicketOut, summary="Finish serving the current ticket")
def finish(counter_id: int, session: DbSession, principal: Server) -> TicketOut:
    return TicketOut.model_validate(queue.finish(session, counter_id=counter_id, actor=principal, now=utcnow()))


@router.post("/counters/{counter_id}/transfer", response_model=TicketOut,
             summary="Send the current ticket to another service and/or counter")
def transfer(counter_id: int, body: TransferIn, session: DbSession, principal: Server) -> TicketOut:
    ticket = queue.transfer(session, counter_id=counter_id, actor=principal, now=utcnow(),
                            to_service_id=body.to_service_id, to_counter_id=body.to_counter_id)
    return TicketOut.model_validate(ticket)


# --- tickets ----------------------------------------------------------------------------------------


@router.post("/tickets", response_model=TicketOut, status_code=status.HTTP_201_CREATED,
             summary="Issue a ticket (a kiosk's token or a clerk)")
def issue_ticket(body: TicketIn, request: Request, session: DbSession, principal: Server) -> TicketOut:
    ticket = queue.issue_ticket(session, service_id=body.service_id, priority=body.priority, now=utcnow(),
                                actor=principal, channel="api", tz=_tz(request))
    return TicketOut.model_validate(ticket)


@router.get("/tickets", response_model=list[TicketOut], summary="The tickets of a day (today by default)")
def list_tickets(
    request: Request, session: DbSession, _: Server,
    day: date | None = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(" + "|".join(TICKET_STATUSES) + ")$")] = None,
    service_id: Id | None = None,
) -> list[TicketOut]:
    rows = queue.list_tickets(session, day=day or _today(request), status=status_, service_id=service_id)
    return [TicketOut.model_validate(t) for t in rows]


@router.get("/tickets/{ticket_id}", response_model=TicketOut, summary="One ticket")
def get_ticket(ticket_id: int, session: DbSession, _: Server) -> TicketOut:
    return TicketOut.model_validate(queue.get_ticket(session, ticket_id=ticket_id))


# --- appointments -----------------------------------------------------------------------------------


@router.get("/slots", response_model=list[SlotOut], summary="Appointment slots of a service on a day (public)")
def list_slots(session: DbSession, service_id: Id, day: date) -> list[SlotOut]:
    slots = appointments.list_slots(session, service_id=service_id, day=day, now=utcnow())
    return [SlotOut(start=s.start, end=s.end, label=s.label, capacity=s.capacity, booked=s.booked, free=s.free,
                    bookable=s.bookable) for s in slots]


@router.post("/appointments", response_model=AppointmentOut, status_code=status.HTTP_201_CREATED,
             summary="Book a slot for a citizen (by phone or at the desk)",
             responses={400: {"description": "Not a slot, or already started"}, 409: {"description": "Slot full"}})
def book(body: AppointmentIn, session: DbSession, principal: Server) -> AppointmentOut:
    appointment = appointments.book(session, service_id=body.service_id, day=body.day,
                                    start=parse_slot_time(body.start), name=body.name, phone=body.phone,
                                    now=utcnow(), actor=principal, channel="counter")
    return AppointmentOut.model_validate(appointment)


@router.get("/appointments", response_model=list[AppointmentOut], summary="The appointments of a day")
def list_appointments(request: Request, session: DbSession, _: Server, day: date | None = None) -> list[AppointmentOut]:
    rows = appointments.list_appointments(session, day=day or _today(request))
    return [AppointmentOut.model_validate(a) for a in rows]


@router.post("/appointments/check-in", response_model=TicketOut, status_code=status.HTTP_201_CREATED,
             summary="Check in an appointment by its booking code: a ticket ahead of the ordinary queue")
def check_in(body: CheckInIn, request: Request, session: DbSession, principal: Server) -> TicketOut:
    ticket = appointments.check_in(session, code=body.code, now=utcnow(), actor=principal, tz=_tz(request))
    return TicketOut.model_validate(ticket)


# --- board and statistics ---------------------------------------------------------------------------


@router.get("/board", response_model=BoardOut, summary="What the display board shows now (public)")
def board(request: Request, session: DbSession) -> BoardOut:
    return BoardOut.model_validate(display.board_state(session, now=utcnow(), tz=_tz(request)))


def _period(request: Request, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or _today(request)
    return start or end - timedelta(days=6), end


@router.get("/stats", summary="Waiting and serving times per service, counter and day (seconds)")
def statistics(request: Request, session: DbSession, _: Reader, start: date | None = None,
               end: date | None = None) -> dict[str, object]:
    first, last = _period(request, start, end)
    return stats.summary(session, start=first, end=last, lang="en")


@router.get("/stats/tickets.csv", summary="Every ticket of the period with its waiting and serving time, as CSV",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def tickets_csv(request: Request, session: DbSession, _: Reader, start: date | None = None,
                end: date | None = None) -> Response:
    first, last = _period(request, start, end)
    body = stats.tickets_csv(session, start=first, end=last)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="queue-tickets-{first}-{last}.csv"'})
