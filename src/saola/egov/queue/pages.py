"""Console pages of the queue: the counters overview, a clerk's counter desk (call next, recall, skip,
transfer, finish), the day's appointments, the statistics with their CSV export, and the setup of
services and counters for administrators.

Thin handlers over the services the JSON API uses. A refused counter action shows the counter page
again with the error and the error's 4xx status; nothing of it is saved.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, require
from saola.core.errors import DomainError
from saola.egov.queue import appointments, setup, stats
from saola.egov.queue import service as queue
from saola.egov.queue.numbering import local_day
from saola.egov.queue.service import PRIORITY_KINDS
from saola.web.templating import NavItem, form_error, register_nav, register_templates, render

router = APIRouter()
register_templates("saola.egov.queue")
register_nav(NavItem("/console/queue", "Queue", icon="ticket", permission="queue:serve", order=60))
register_nav(NavItem("/console/queue/stats", "Queue statistics", icon="chart", permission="queue:read", order=61))
register_nav(NavItem("/console/queue/setup", "Queue setup", icon="sliders", permission="queue:manage", order=62))

Server = Annotated[Principal, Depends(require("queue:serve", page=True))]
Manager = Annotated[Principal, Depends(require("queue:manage", page=True))]
Reader = Annotated[Principal, Depends(require("queue:read", page=True))]
Action = Literal["call-next", "recall", "skip", "finish", "open", "close"]
Id = Annotated[int, Form(ge=1, le=2**31 - 1)]

NOTICES = {
    "call-next": "The next ticket was called", "recall": "The ticket was announced again",
    "skip": "The ticket was closed as a no-show", "finish": "Serving finished", "open": "The counter is open",
    "close": "The counter is closed", "transfer": "The ticket was transferred", "saved": "Saved",
}


def _today(request: Request) -> date:
    return local_day(utcnow(), request.app.state.settings.timezone)


@router.get("/console/queue")
def overview(request: Request, session: DbSession, _: Server) -> Response:
    day = _today(request)
    return render(request, "queue/console.html", {
        "counters": queue.counters_with_state(session, day=day), "services": setup.list_services(session),
        "waiting": _waiting_counts(session, day), "day": day,
    })


def _waiting_counts(session: Session, day: date) -> dict[int, int]:
    counts: dict[int, int] = {}
    for ticket in queue.list_tickets(session, day=day, status="waiting", limit=5000):
        counts[ticket.service_id] = counts.get(ticket.service_id, 0) + 1
    return counts


def _desk(request: Request, session: Session, counter_id: int, *, notice: str | None = None,
          error: DomainError | None = None) -> Response:
    counter = queue.get_counter(session, counter_id=counter_id)
    day = _today(request)
    services = {s.id: s for s in setup.list_services(session)}
    return render(request, "queue/counter.html", {
        "counter": counter, "current": queue.current_ticket(session, counter_id=counter.id),
        "queue": queue.waiting_for_counter(session, counter_id=counter.id, day=day, limit=30),
        "served": [services[i] for i in queue.counter_service_ids(session, counter_id=counter.id) if i in services],
        "services": services, "counters": setup.list_counters(session), "priorities": PRIORITY_KINDS,
        "notice": NOTICES.get(notice or ""), "error": form_error(request, error) if error else None,
    }, status_code=error.status if error else 200)


@router.get("/console/queue/counters/{counter_id}/waiting")
def waiting_fragment(request: Request, session: DbSession, _: Server, counter_id: int) -> Response:
    """The counter's next-in-line table alone; the counter page reloads it on every queue event."""
    counter = queue.get_counter(session, counter_id=counter_id)
    return render(request, "queue/_waiting.html", {
        "counter": counter, "priorities": PRIORITY_KINDS,
        "queue": queue.waiting_for_counter(session, counter_id=counter.id, day=_today(request), limit=30)})


@router.get("/console/queue/counters/{counter_id}")
def counter_page(request: Request, session: DbSession, _: Server, counter_id: int,
                 done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    return _desk(request, session, counter_id, notice=done)


@router.post("/console/queue/counters/{counter_id}/transfer")
def transfer(request: Request, session: DbSession, principal: Server, counter_id: int,
             to_service_id: Annotated[str, Form(max_length=12)] = "",
             to_counter_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    try:
        queue.transfer(session, counter_id=counter_id, actor=principal, now=utcnow(),
                       to_service_id=_optional_id(to_service_id, "to_service_id"),
                       to_counter_id=_optional_id(to_counter_id, "to_counter_id"))
    except DomainError as exc:
        session.rollback()
        return _desk(request, session, counter_id, error=exc)
    return RedirectResponse(f"/console/queue/counters/{counter_id}?done=transfer", status_code=303)


def _optional_id(value: str, field: str) -> int | None:
    from saola.egov.queue.errors import InvalidTransfer

    if not value.strip():
        return None
    if not value.strip().isdigit() or not 1 <= int(value) <= 2**31 - 1:
        raise InvalidTransfer("Choose another service or a counter to transfer the ticket to", field=field)
    return int(value)


@router.post("/console/queue/counters/{counter_id}/{action}")
def counter_action(request: Request, session: DbSession, principal: Server, counter_id: int,
                   action: Action) -> Response:
    now, tz = utcnow(), request.app.state.settings.timezone
    try:
        if action in ("open", "close"):
            queue.set_counter_open(session, counter_id=counter_id, is_open=action == "open", actor=principal)
        elif action == "call-next":
            queue.call_next(session, counter_id=counter_id, actor=principal, now=now, tz=tz)
        else:
            {"recall": queue.recall, "skip": queue.skip, "finish": queue.finish}[action](
                session, counter_id=counter_id, actor=principal, now=now)
    except DomainError as exc:
        session.rollback()
        return _desk(request, session, counter_id, error=exc)
    return RedirectResponse(f"/console/queue/counters/{counter_id}?done={action}", status_code=303)


@router.get("/console/queue/appointments")
def appointments_page(request: Request, session: DbSession, _: Server, day: date | None = None) -> Response:
    day = day or _today(request)
    return render(request, "queue/appointments.html", {
        "appointments": appointments.list_appointments(session, day=day), "day": day,
        "services": {s.id: s for s in setup.list_services(session)},
    })


# --- statistics ------------------------------------------------------------------------------------


def _period(request: Request, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or _today(request)
    return start or end - timedelta(days=6), end


@router.get("/console/queue/stats")
def stats_page(request: Request, session: DbSession, _: Reader, start: date | None = None,
               end: date | None = None) -> Response:
    first, last = _period(request, start, end)
    from saola.core.deps import request_language

    summary = stats.summary(session, start=first, end=last, lang=request_language(request))
    return render(request, "queue/stats.html", {"summary": summary, "start": first, "end": last})


@router.get("/console/queue/stats.csv")
def stats_csv(request: Request, session: DbSession, _: Reader, start: date | None = None,
              end: date | None = None) -> Response:
    first, last = _period(request, start, end)
    return Response(stats.tickets_csv(session, start=first, end=last), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="queue-tickets-{first}-{last}.csv"'})


# --- setup -----------------------------------------------------------------------------------------


@router.get("/console/queue/setup")
def setup_page(request: Request, session: DbSession, _: Manager,
               done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    return render(request, "queue/setup.html", {
        "services": setup.list_services(session), "counters": setup.list_counters(session, active_only=False),
        "links": setup.services_by_counter(session), "notice": NOTICES.get(done or ""),
    })


def _saved() -> RedirectResponse:
    return RedirectResponse("/console/queue/setup?done=saved", status_code=303)


@router.post("/console/queue/setup/services")
def add_service(session: DbSession, principal: Manager, prefix: Annotated[str, Form(max_length=2)],
                name: Annotated[str, Form(max_length=200)], name_en: Annotated[str, Form(max_length=200)] = "",
                slot_minutes: Annotated[int, Form(ge=5, le=240)] = 30,
                slot_capacity: Annotated[int, Form(ge=0, le=100)] = 2,
                position: Annotated[int, Form(ge=0, le=1000)] = 0) -> Response:
    setup.create_service(session, actor=principal, prefix=prefix, name=name, name_en=name_en,
                         slot_minutes=slot_minutes, slot_capacity=slot_capacity, position=position)
    return _saved()


@router.post("/console/queue/setup/services/{service_id}")
def save_service(session: DbSession, principal: Manager, service_id: int, prefix: Annotated[str, Form(max_length=2)],
                 name: Annotated[str, Form(max_length=200)], name_en: Annotated[str, Form(max_length=200)] = "",
                 slot_minutes: Annotated[int, Form(ge=5, le=240)] = 30,
                 slot_capacity: Annotated[int, Form(ge=0, le=100)] = 2,
                 position: Annotated[int, Form(ge=0, le=1000)] = 0,
                 active: Annotated[bool, Form()] = False) -> Response:
    setup.update_service(session, actor=principal, service_id=service_id, prefix=prefix, name=name, name_en=name_en,
                         slot_minutes=slot_minutes, slot_capacity=slot_capacity, position=position, active=active)
    return _saved()


@router.post("/console/queue/setup/counters")
def add_counter(session: DbSession, principal: Manager, number: Annotated[int, Form(ge=1, le=999)],
                name: Annotated[str, Form(max_length=120)] = "",
                service_ids: Annotated[list[int], Form()] = []) -> Response:  # noqa: B006  (FastAPI form default)
    setup.create_counter(session, actor=principal, number=number, name=name, service_ids=service_ids)
    return _saved()


@router.post("/console/queue/setup/counters/{counter_id}")
def save_counter(session: DbSession, principal: Manager, counter_id: int, number: Annotated[int, Form(ge=1, le=999)],
                 name: Annotated[str, Form(max_length=120)] = "", active: Annotated[bool, Form()] = False,
                 service_ids: Annotated[list[int], Form()] = []) -> Response:  # noqa: B006
    setup.update_counter(session, actor=principal, counter_id=counter_id, number=number, name=name, active=active,
                         service_ids=service_ids)
    return _saved()
