"""Tables of the service-centre queue.

* :class:`QueueService` — a service the centre's kiosk offers (land, business registration…) with its
  ticket prefix letter and its appointment slots;
* :class:`QueueCounter` — a numbered counter; :class:`CounterService` says which services it serves;
* :class:`QueueDayCounter` — the last ticket number of one service on one local day (the row updated
  atomically when a ticket is issued, so numbers never repeat and restart each day);
* :class:`QueueTicket` — one visit: its code (``A001``), priority, status and times;
* :class:`QueueCall` — one call of a ticket at a counter, from call to finish / skip / transfer
  (waiting and serving times per counter come from these);
* :class:`QueueAppointment` — a booked slot with its booking code, checked in at the kiosk.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saola.core.db import Base, UTCDateTime, utcnow

# Ticket statuses: waiting → called (at a counter) → done | skipped; a transfer puts it back to waiting.
WAITING, CALLED, DONE, SKIPPED = "waiting", "called", "done", "skipped"
TICKET_STATUSES = (WAITING, CALLED, DONE, SKIPPED)
# How a call ended.
FINISHED, NO_SHOW, TRANSFERRED = "finished", "no_show", "transferred"
# Appointment statuses.
BOOKED, CHECKED_IN, CANCELLED = "booked", "checked_in", "cancelled"


class QueueService(Base):
    """A service offered at the kiosk; its tickets are numbered ``<prefix>001`` upwards each day."""

    __tablename__ = "queue_services"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    slot_capacity: Mapped[int] = mapped_column(Integer, default=2)  # 0: no appointments
    position: Mapped[int] = mapped_column(Integer, default=0)  # order on the kiosk
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QueueCounter(Base):
    """A counter (quầy) of the centre; ``is_open`` while a clerk serves at it."""

    __tablename__ = "queue_counters"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CounterService(Base):
    """Counter ``counter_id`` serves tickets of service ``service_id``."""

    __tablename__ = "queue_counter_services"

    counter_id: Mapped[int] = mapped_column(ForeignKey("queue_counters.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("queue_services.id", ondelete="CASCADE"), primary_key=True)


class QueueDayCounter(Base):
    """The last ticket number issued for one service on one day (local time of the centre)."""

    __tablename__ = "queue_day_counters"

    service_id: Mapped[int] = mapped_column(ForeignKey("queue_services.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class QueueTicket(Base):
    """One visit to the centre, from the kiosk to the end of service."""

    __tablename__ = "queue_tickets"
    __table_args__ = (
        UniqueConstraint("prefix", "day", "number", name="uq_queue_tickets_prefix_day_number"),
        Index("ix_queue_tickets_day_status", "day", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # the printable ticket's address
    day: Mapped[date] = mapped_column(Date)
    prefix: Mapped[str] = mapped_column(String(2))
    number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(8))
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("queue_services.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("queue_services.id"), index=True)  # current service
    target_counter_id: Mapped[int | None] = mapped_column(ForeignKey("queue_counters.id", ondelete="SET NULL"),
                                                          default=None)
    priority: Mapped[str] = mapped_column(String(20), default="")  # "" or a PRIORITY_KINDS key
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("queue_appointments.id", ondelete="SET NULL"),
                                                       default=None)
    status: Mapped[str] = mapped_column(String(10), default=WAITING)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("queue_counters.id", ondelete="SET NULL"),
                                                   default=None, index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)  # entered the current queue (FIFO key)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # the current call
    first_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str] = mapped_column(String(10), default="kiosk")  # kiosk | counter | api


class QueueCall(Base):
    """A ticket called at a counter, and how that call ended."""

    __tablename__ = "queue_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("queue_tickets.id", ondelete="CASCADE"), index=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("queue_counters.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("queue_services.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    outcome: Mapped[str | None] = mapped_column(String(12), default=None)  # FINISHED | NO_SHOW | TRANSFERRED


class QueueAppointment(Base):
    """A citizen's booking of one slot of one service; checking in at the kiosk gives a ticket."""

    __tablename__ = "queue_appointments"
    __table_args__ = (Index("ix_queue_appointments_service_slot", "service_id", "slot_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("queue_services.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_end: Mapped[datetime] = mapped_column(UTCDateTime)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=BOOKED)
    channel: Mapped[str] = mapped_column(String(10), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
