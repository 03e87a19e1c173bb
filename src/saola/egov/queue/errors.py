"""Error codes of the queue; every title has its Vietnamese text in ``locales/vi/queue.po``."""

from __future__ import annotations

from saola.core.errors import BadRequest, Conflict, DomainError, NotFound


class UnknownService(NotFound):
    code = "unknown-queue-service"
    title = "No such queue service"


class ServiceClosed(Conflict):
    code = "queue-service-inactive"
    title = "This service does not issue tickets at the moment"


class UnknownCounter(NotFound):
    code = "unknown-counter"
    title = "No such counter"


class CounterClosed(Conflict):
    code = "counter-closed"
    title = "The counter is closed; open it first"


class CounterBusy(Conflict):
    code = "counter-busy"
    title = "The counter is already serving a ticket; finish, skip or transfer it first"


class NoTicketAtCounter(Conflict):
    code = "no-ticket-at-counter"
    title = "The counter is not serving any ticket"


class QueueEmpty(Conflict):
    code = "queue-empty"
    title = "Nobody is waiting for the services of this counter"


class UnknownTicket(NotFound):
    code = "unknown-ticket"
    title = "No such ticket"


class InvalidTransfer(DomainError):
    code = "invalid-transfer"
    status = 422
    title = "Choose another active service or another counter to transfer the ticket to"


class InvalidQueueSetup(DomainError):
    code = "invalid-queue-setup"
    status = 422
    title = "The service or counter settings are not valid"


class DuplicateQueueSetup(Conflict):
    code = "duplicate-queue-setup"
    title = "Another service already has this prefix, or another counter this number"


class InvalidSlot(BadRequest):
    code = "invalid-slot"
    title = "This is not an appointment slot of the service"


class SlotInPast(BadRequest):
    code = "slot-in-past"
    title = "This appointment slot has already started; choose a later one"


class SlotFull(Conflict):
    code = "slot-full"
    title = "This appointment slot is fully booked; choose another one"


class UnknownAppointment(NotFound):
    code = "unknown-appointment"
    title = "No appointment with this booking code"


class CheckInRefused(Conflict):
    code = "check-in-refused"
    title = "This appointment cannot be checked in now"


class UnknownPriority(BadRequest):
    code = "unknown-priority"
    title = "Unknown priority group"
