"""Appointments: daily slots per service, booking by citizens, and check-in at the kiosk.

A service's slots cut the centre's office sessions (the working-day calendar's office hours, on
working days only) into ``slot_minutes`` pieces, each taking ``slot_capacity`` bookings. A booking
gets a short code; checking in with it at the kiosk on the day gives a ticket that is called before
the ordinary ones (after priority tickets). Slots already started, full, on a day off or beyond the
booking window are refused with a clear error.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.core.calendar import WorkingCalendar, default_calendar
from saola.core.errors import BadRequest
from saola.egov.queue import service as queue
from saola.egov.queue.errors import CheckInRefused, InvalidSlot, SlotFull, SlotInPast, UnknownAppointment
from saola.egov.queue.models import BOOKED, CANCELLED, CHECKED_IN, QueueAppointment, QueueService, QueueTicket
from saola.egov.queue.numbering import CENTRE_TZ, local_day

BOOKING_DAYS = 14  # how far ahead a slot can be booked
CHECK_IN_EARLY = timedelta(minutes=60)  # how long before its slot an appointment can check in
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6
PHONE_RE = re.compile(r"^(?:\+84|0)\d{9,10}$")


@dataclass(frozen=True, slots=True)
class Slot:
    """One appointment slot of a service on a day, with how full it is."""

    start: datetime
    end: datetime
    capacity: int
    booked: int
    past: bool

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def bookable(self) -> bool:
        return not self.past and self.free > 0

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def slot_times(service: QueueService, day: date, calendar: WorkingCalendar) -> list[tuple[datetime, datetime]]:
    """The (start, end) of every slot of ``service`` on ``day``, local time; none on a day off."""
    if service.slot_capacity <= 0 or not calendar.is_working_day(day):
        return []
    tz, step = calendar.tz, timedelta(minutes=service.slot_minutes)
    out = []
    for start, end in calendar.office_hours.sessions:
        at, stop = datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz)
        while at + step <= stop:
            out.append((at, at + step))
            at += step
    return out


def _booked_counts(session: Session, service_id: int, day: date) -> dict[datetime, int]:
    stmt = (select(QueueAppointment.slot_start, func.count())
            .where(QueueAppointment.service_id == service_id, QueueAppointment.day == day,
                   QueueAppointment.status != CANCELLED)
            .group_by(QueueAppointment.slot_start))
    return {start: int(n) for start, n in session.execute(stmt)}


def list_slots(session: Session, *, service_id: int, day: date, now: datetime,
               calendar: WorkingCalendar | None = None) -> list[Slot]:
    """The day's slots of a service with their bookings (empty on days off or outside the booking window)."""
    calendar = calendar or default_calendar()
    service = queue.get_service(session, service_id=service_id)
    today = now.astimezone(calendar.tz).date()
    if not today <= day <= today + timedelta(days=BOOKING_DAYS):
        return []
    counts = _booked_counts(session, service.id, day)
    return [Slot(start, end, service.slot_capacity, counts.get(start, 0), start <= now)
            for start, end in slot_times(service, day, calendar)]


def bookable_days(*, now: datetime, calendar: WorkingCalendar | None = None) -> list[date]:
    calendar = calendar or default_calendar()
    today = now.astimezone(calendar.tz).date()
    days = (today + timedelta(days=i) for i in range(BOOKING_DAYS + 1))
    return [d for d in days if calendar.is_working_day(d)]


def parse_slot_time(value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise InvalidSlot("The slot time '{value}' is not HH:MM", field="start", value=value[:20]) from None


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalars(select(QueueAppointment.id).where(QueueAppointment.code == code)).first() is None:
            return code


def _clean_contact(name: str, phone: str) -> tuple[str, str]:
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise BadRequest("Write your full name (at most 120 characters)", field="name")
    phone = re.sub(r"[\s.\-()]", "", phone)
    if not PHONE_RE.match(phone):
        raise BadRequest("The phone number is not a Vietnamese number such as 0912345678", field="phone")
    return name, phone


def book(session: Session, *, service_id: int, day: date, start: time, name: str, phone: str, now: datetime,
         actor: Any = None, channel: str = "web", calendar: WorkingCalendar | None = None) -> QueueAppointment:
    """Book the slot of ``service_id`` starting at local ``start`` on ``day``; returns the appointment and its code."""
    calendar = calendar or default_calendar()
    name, phone = _clean_contact(name, phone)
    service = queue.lock_row(session, QueueService, service_id)  # serialises bookings of the service
    if service is None:
        queue.get_service(session, service_id=service_id)  # raises UnknownService
    if not service.active:
        raise InvalidSlot("The service '{name}' takes no appointments at the moment", field="service_id",
                          name=service.name)
    slot_start = datetime.combine(day, start, tzinfo=calendar.tz)
    if slot_start <= now:
        raise SlotInPast("The slot {day} {start} has already started; choose a later one", field="start",
                         day=day.isoformat(), start=start.strftime("%H:%M"))
    if day > now.astimezone(calendar.tz).date() + timedelta(days=BOOKING_DAYS):
        raise InvalidSlot("Appointments can be booked at most {days} days ahead", field="day", days=BOOKING_DAYS)
    times = dict(slot_times(service, day, calendar))
    if slot_start not in times:
        raise InvalidSlot("{day} {start} is not an appointment slot of this service", field="start",
                          day=day.isoformat(), start=start.strftime("%H:%M"))
    if _booked_counts(session, service.id, day).get(slot_start, 0) >= service.slot_capacity:
        raise SlotFull("The slot {day} {start} is fully booked; choose another one", field="start",
                       day=day.isoformat(), start=start.strftime("%H:%M"))
    appointment = QueueAppointment(code=_new_code(session), service_id=service.id, day=day, slot_start=slot_start,
                                   slot_end=times[slot_start], name=name, phone=phone, status=BOOKED,
                                   channel=channel, created_at=now)
    session.add(appointment)
    session.flush()
    return appointment


def get_appointment(session: Session, *, code: str) -> QueueAppointment:
    code = code.strip().upper()
    found = session.scalars(select(QueueAppointment).where(QueueAppointment.code == code)).first() if code else None
    if found is None:
        raise UnknownAppointment("No appointment with the booking code '{code}'", field="code", code=code[:20])
    return found


def list_appointments(session: Session, *, day: date) -> list[QueueAppointment]:
    stmt = select(QueueAppointment).where(QueueAppointment.day == day)
    return list(session.scalars(stmt.order_by(QueueAppointment.slot_start, QueueAppointment.id)))


def check_in(session: Session, *, code: str, now: datetime, actor: Any = None, tz: str = CENTRE_TZ) -> QueueTicket:
    """Check in a booked appointment on its day: a ticket that jumps the ordinary queue."""
    found = get_appointment(session, code=code)
    appointment = queue.lock_row(session, QueueAppointment, found.id)
    local = ZoneInfo(tz)
    if appointment.status != BOOKED:
        raise CheckInRefused("The appointment {code} was already checked in or cancelled", code=appointment.code)
    if appointment.day != local_day(now, tz):
        raise CheckInRefused("The appointment {code} is for {day}, not today", code=appointment.code,
                             day=appointment.day.strftime("%d/%m/%Y"))
    if now < appointment.slot_start - CHECK_IN_EARLY:
        raise CheckInRefused("Check-in for {code} opens one hour before its slot, at {at}", code=appointment.code,
                             at=(appointment.slot_start - CHECK_IN_EARLY).astimezone(local).strftime("%H:%M"))
    if now > appointment.slot_end:
        raise CheckInRefused("The slot of {code} ended at {at}; take an ordinary ticket", code=appointment.code,
                             at=appointment.slot_end.astimezone(local).strftime("%H:%M"))
    ticket = queue.issue_ticket(session, service_id=appointment.service_id, now=now, actor=actor,
                                appointment_id=appointment.id, tz=tz)
    appointment.status, appointment.checked_in_at = CHECKED_IN, now
    session.flush()
    return ticket
