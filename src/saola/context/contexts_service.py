"""@context management (clause 5.13): register, list, serve and delete JSON-LD contexts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.context.errors import BadRequestData, ResourceNotFound
from saola.context.jsonld import CORE_CONTEXT_URL
from saola.context.models import NgsiContext
from saola.core.db import new_id

PATH = "/ngsi-ld/v1/jsonldContexts/"


def register(session: Session, *, body: Any) -> str:
    """Store a context document ``{"@context": ...}``; its local id."""
    if not isinstance(body, dict) or set(body) != {"@context"}:
        raise BadRequestData('The body must be a JSON object with only an "@context" member')
    context = body["@context"]
    items = context if isinstance(context, list) else [context]
    if not items or not all(isinstance(i, (str, dict)) for i in items):
        raise BadRequestData("@context must be an object, a URL or a list of them")
    row = NgsiContext(id=new_id(), kind="hosted", url="", body=body)
    session.add(row)
    session.flush()
    return row.id


def get(session: Session, *, context_id: str) -> dict[str, Any]:
    row = session.get(NgsiContext, context_id)
    if row is None:
        raise ResourceNotFound(f"No @context {context_id!r}")
    return row.body


def delete(session: Session, *, context_id: str) -> NgsiContext:
    row = session.get(NgsiContext, context_id)
    if row is None:
        raise ResourceNotFound(f"No @context {context_id!r}")
    session.delete(row)
    session.flush()
    return row


def url_of(row: NgsiContext, base: str) -> str:
    return row.url if row.kind == "cached" else base.rstrip("/") + PATH + row.id


def listing(session: Session, *, base: str, details: bool, kind: str | None) -> list[Any]:
    rows = list(session.scalars(select(NgsiContext).order_by(NgsiContext.created_at, NgsiContext.id)))
    if kind:
        wanted = {"hosted": "hosted", "cached": "cached", "Hosted": "hosted", "Cached": "cached"}.get(kind)
        if wanted is None and kind not in ("implicitlycreated", "ImplicitlyCreated"):
            raise BadRequestData(f"Unknown kind {kind!r}")
        rows = [r for r in rows if r.kind == wanted]
    if not details:
        return ([CORE_CONTEXT_URL] if not kind else []) + [url_of(r, base) for r in rows]
    return [{"URL": url_of(r, base), "localId": r.id, "kind": r.kind.capitalize(),
             "createdAt": r.created_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{r.created_at.microsecond // 1000:03d}Z"}
            for r in rows]
