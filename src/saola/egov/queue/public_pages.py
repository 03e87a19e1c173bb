"""Public pages of the queue: the kiosk, the printable ticket, the display board and its live stream,
and online booking of an appointment.

Anyone may use them (the kiosk stands in the centre's hall, the board hangs on its wall); the forms
carry the CSRF token like every other form. A refused form is shown again with the error, answered
with the error's 4xx status, and nothing of it is saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import time as clock
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from saola.core.db import utcnow
from saola.core.deps import DbSession, verify_csrf
from saola.core.errors import DomainError
from saola.core.events import Event
from saola.egov.queue import appointments, display, events, setup
from saola.egov.queue import service as queue
from saola.egov.queue.appointments import parse_slot_time
from saola.egov.queue.numbering import local_day
from saola.egov.queue.service import PRIORITY_KINDS
from saola.web.templating import NavItem, form_error, register_nav, render

router = APIRouter()
register_nav(NavItem("/queue/book", "Book an appointment", area="portal", order=40))
register_nav(NavItem("/queue/board", "Queue board", area="portal", order=41))

Csrf = Depends(verify_csrf)
# The live stream: a comment every HEARTBEAT_SECONDS keeps the connection alive through proxies; after
# STREAM_SECONDS the server ends it and the browser reconnects (``retry`` ms later) to a fresh snapshot.
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 600.0
RETRY_MS = 3000
KIOSK_RETURN_SECONDS = 20  # the ticket page on the kiosk goes back to the service buttons after this


def _tz(request: Request) -> str:
    return request.app.state.settings.timezone


def _fail(request: Request, session: Session, exc: DomainError, template: str, context: dict[str, object]) -> Response:
    session.rollback()
    return render(request, template, {**context, "error": form_error(request, exc)}, status_code=exc.status)


# --- the kiosk --------------------------------------------------------------------------------------


def _kiosk_context(session: Session) -> dict[str, object]:
    return {"services": setup.list_services(session, active_only=True), "priorities": PRIORITY_KINDS}


@router.get("/queue/kiosk")
def kiosk(request: Request, session: DbSession) -> Response:
    return render(request, "queue/kiosk.html", _kiosk_context(session))


@router.post("/queue/kiosk/ticket", dependencies=[Csrf])
def kiosk_ticket(request: Request, session: DbSession, service_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
                 priority: Annotated[str, Form(max_length=20)] = "") -> Response:
    try:
        ticket = queue.issue_ticket(session, service_id=service_id, priority=priority, now=utcnow(), tz=_tz(request))
    except DomainError as exc:
        return _fail(request, session, exc, "queue/kiosk.html", _kiosk_context(session))
    return RedirectResponse(f"/queue/tickets/{ticket.public_id}?kiosk=1", status_code=303)


@router.post("/queue/kiosk/check-in", dependencies=[Csrf])
def kiosk_check_in(request: Request, session: DbSession, code: Annotated[str, Form(max_length=20)]) -> Response:
    try:
        ticket = appointments.check_in(session, code=code, now=utcnow(), tz=_tz(request))
    except DomainError as exc:
        return _fail(request, session, exc, "queue/kiosk.html", _kiosk_context(session) | {"code": code})
    return RedirectResponse(f"/queue/tickets/{ticket.public_id}?kiosk=1", status_code=303)


@router.get("/queue/tickets/{public_id}")
def ticket_page(request: Request, session: DbSession, public_id: str, kiosk: bool = False) -> Response:
    """The printable ticket; shown on the kiosk (``?kiosk=1``) it returns to the kiosk after a while."""
    ticket = queue.get_ticket_by_public_id(session, public_id=public_id[:32])
    return render(request, "queue/ticket.html", {"kiosk": kiosk, "return_seconds": KIOSK_RETURN_SECONDS,
        "ticket": ticket, "service": queue.get_service(session, service_id=ticket.service_id),
        "ahead": queue.waiting_ahead(session, ticket=ticket), "priorities": PRIORITY_KINDS,
    })


# --- the display board -----------------------------------------------------------------------------


@router.get("/queue/board")
def board(request: Request, session: DbSession) -> Response:
    return render(request, "queue/board.html", {"board": display.board_state(session, now=utcnow(), tz=_tz(request))})


def _board_html(request: Request) -> str:
    """The board fragment, read in its own short transaction (the stream outlives any request session)."""
    session: Session = request.app.state.session_factory()
    try:
        state = display.board_state(session, now=utcnow(), tz=_tz(request))
    finally:
        session.close()
    return bytes(render(request, "queue/_board.html", {"board": state}).body).decode()


async def _pump(subscription: Any, inbox: asyncio.Queue[Event | None]) -> None:
    """Copy the subscription's events into ``inbox`` (whose ``get`` can time out safely), then ``None``."""
    try:
        async for event in subscription:
            await inbox.put(event)
    finally:
        await inbox.put(None)


async def _stream(request: Request, live: bool) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    if not live:
        yield display.sse_event("board", await to_thread.run_sync(_board_html, request))
        return
    subscription = request.app.state.event_bus.subscribe(events.PATTERN, max_queue=200)
    inbox: asyncio.Queue[Event | None] = asyncio.Queue()
    pump = asyncio.create_task(_pump(subscription, inbox))
    try:
        yield display.sse_event("board", await to_thread.run_sync(_board_html, request))
        ends = clock.monotonic() + STREAM_SECONDS
        while (left := ends - clock.monotonic()) > 0:
            try:
                event = await asyncio.wait_for(inbox.get(), timeout=min(HEARTBEAT_SECONDS, left))
            except TimeoutError:
                yield display.sse_comment("heartbeat")
                continue
            if event is None:
                return
            if event.topic in events.ANNOUNCED:
                yield display.sse_event("call", f'{event.payload["code"]} → {event.payload["counter_number"]}')
            yield display.sse_event("board", await to_thread.run_sync(_board_html, request))
    finally:
        await subscription.close()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump


@router.get("/queue/board/stream")
async def board_stream(request: Request) -> StreamingResponse:
    """Server-sent events: ``board`` (the board's HTML, at once and after every change), ``call`` (a ticket
    called to a counter) and heartbeat comments. A client that does not ask for ``text/event-stream``
    gets the current board once and the connection closes."""
    live = "text/event-stream" in request.headers.get("accept", "")
    return StreamingResponse(_stream(request, live), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# --- booking an appointment ------------------------------------------------------------------------


def _booking_context(request: Request, session: Session, service_id: int | None, day: date | None) -> dict[str, object]:
    now = utcnow()
    services = [s for s in setup.list_services(session, active_only=True) if s.slot_capacity > 0]
    days = appointments.bookable_days(now=now)
    chosen = next((s for s in services if s.id == service_id), None)
    day = day if day in days else (days[0] if days else None)
    slots = appointments.list_slots(session, service_id=chosen.id, day=day, now=now) if chosen and day else []
    return {"services": services, "days": days, "service": chosen, "day": day, "slots": slots,
            "today": local_day(now, _tz(request))}


@router.get("/queue/book")
def booking_form(request: Request, session: DbSession,
                 service_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                 day: date | None = None) -> Response:
    return render(request, "queue/book.html", _booking_context(request, session, service_id, day))


@router.post("/queue/book", dependencies=[Csrf])
def book(request: Request, session: DbSession, service_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
         day: Annotated[date, Form()], start: Annotated[str, Form(max_length=8)],
         name: Annotated[str, Form(max_length=200)], phone: Annotated[str, Form(max_length=30)]) -> Response:
    try:
        appointment = appointments.book(session, service_id=service_id, day=day, start=parse_slot_time(start),
                                        name=name, phone=phone, now=utcnow())
    except DomainError as exc:
        context = _booking_context(request, session, service_id, day) | {"name": name, "phone": phone}
        return _fail(request, session, exc, "queue/book.html", context)
    return RedirectResponse(f"/queue/appointments/{appointment.code}", status_code=303)


@router.get("/queue/appointments/{code}")
def appointment_page(request: Request, session: DbSession, code: str) -> Response:
    appointment = appointments.get_appointment(session, code=code[:20])
    return render(request, "queue/appointment.html", {
        "appointment": appointment, "service": queue.get_service(session, service_id=appointment.service_id)})
