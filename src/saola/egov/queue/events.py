"""Events the queue publishes after commit (through :func:`saola.core.db.queue_event`).

Every topic starts with ``queue.``; the display board subscribes to ``queue.*`` and redraws. Payloads
carry codes and numbers only, never a citizen's name or phone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from saola.core.db import queue_event
from saola.egov.queue.models import QueueCounter, QueueTicket

TICKET_ISSUED = "queue.ticket.issued"
TICKET_CALLED = "queue.ticket.called"
TICKET_RECALLED = "queue.ticket.recalled"
TICKET_FINISHED = "queue.ticket.finished"
TICKET_SKIPPED = "queue.ticket.skipped"
TICKET_TRANSFERRED = "queue.ticket.transferred"
COUNTER_CHANGED = "queue.counter.changed"
SETUP_CHANGED = "queue.setup.changed"
PATTERN = "queue.*"
# Topics the display board announces (a ticket is being called at a counter).
ANNOUNCED = frozenset({TICKET_CALLED, TICKET_RECALLED})


def ticket_event(session: Session, topic: str, ticket: QueueTicket, counter: QueueCounter | None = None,
                 **extra: Any) -> None:
    payload: dict[str, Any] = {"ticket_id": ticket.id, "code": ticket.code, "service_id": ticket.service_id,
                               "status": ticket.status, "day": ticket.day.isoformat()}
    if counter is not None:
        payload |= {"counter_id": counter.id, "counter_number": counter.number}
    queue_event(session, topic, payload | extra)


def counter_event(session: Session, counter: QueueCounter) -> None:
    queue_event(session, COUNTER_CHANGED, {"counter_id": counter.id, "counter_number": counter.number,
                                           "is_open": counter.is_open})


def setup_event(session: Session, what: str, item_id: int) -> None:
    queue_event(session, SETUP_CHANGED, {"what": what, "id": item_id})
