"""``GET /api/v1/messages``: the outbox of e-mail and SMS to citizens and their delivery status (admins).

Recipients are personal data: they are shown masked, bodies are shown as sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from saola.core.auth.service import Principal
from saola.core.deps import DbSession, require
from saola.core.messaging import outbox
from saola.core.messaging.models import OutboxMessage

router = APIRouter(prefix="/api/v1", tags=["messaging"])


class MessageOut(BaseModel):
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    lang: str
    source: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: OutboxMessage) -> MessageOut:
        return cls(id=row.id, channel=row.channel, recipient=outbox.mask(row.recipient), subject=row.subject,
                   body=row.body, lang=row.lang, source=row.source, status=row.status, attempts=row.attempts,
                   next_attempt_at=row.next_attempt_at, last_error=row.last_error, created_at=row.created_at,
                   sent_at=row.sent_at)


class MessagePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[MessageOut]


@router.get("/messages", response_model=MessagePage, summary="Outgoing e-mail and SMS with their delivery status")
def list_messages(
    session: DbSession,
    _: Annotated[Principal, Depends(require("messages:read"))],
    status: Literal["pending", "sent", "failed"] | None = None,
    source: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MessagePage:
    rows, total = outbox.list_messages(session, status=status, source=source, limit=limit, offset=offset)
    return MessagePage(total=total, limit=limit, offset=offset, items=[MessageOut.of(r) for r in rows])
