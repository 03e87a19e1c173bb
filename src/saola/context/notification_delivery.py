"""Delivery from a notification outbox, shared by the entity and the context source notifiers.

:class:`OutboxNotifier` holds what :class:`~saola.context.notifier.Notifier` (``ngsi_notifications``) and
:class:`~saola.context.csource_notifier.CSourceNotifier` (``ngsi_csource_notifications``) do alike, parameterised by
the subscription model, the notification model and the notification's foreign-key column:

* a *dispatcher* wakes on new work (or every ``poll`` seconds), queues the periodic notifications that are due
  (:meth:`OutboxNotifier.queue_periodic`) and starts one delivery task per subscription that has due work, so a slow
  or unreachable endpoint only delays its own subscription;
* a delivery task sends its subscription's notifications in sequence order, counting each attempt on the
  subscription (timesSent, lastNotification, lastSuccess, lastFailure, timesFailed). A failure leaves the
  notification in the outbox with ``next_attempt_at`` pushed back exponentially (capped); it is sent again later,
  also after a restart (at-least-once). What was queued for a paused or expired subscription is dropped;
* :meth:`OutboxNotifier.post` sends one notification: HTTP POST, or ``{metadata, body}`` to an MQTT endpoint.

Each notifier keeps its own ``send`` (which @context a notification carries) and its own event listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from saola.context.jsonld import CORE_CONTEXT_URL, CORE_CONTEXT_URLS, ContextProcessor
from saola.context.subscriptions import status
from saola.core.db import unit_of_work, utcnow

CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"


@dataclass
class NotifierConfig:
    backoff_base: float = 1.0  # seconds before the first retry; doubled per failure
    backoff_cap: float = 300.0  # the longest wait between two attempts
    timeout: float = 10.0  # seconds for one HTTP/MQTT delivery
    poll: float = 1.0  # seconds between scans of the outbox and of periodic subscriptions
    deliver: bool = True  # False: only fill the outbox (maintenance, tests)


class DeliveryError(Exception):
    pass


class OutboxNotifier(ABC):
    """The outbox dispatcher and delivery tasks; a subclass names its tables and sends one notification."""

    subscription_model: ClassVar[type[Any]]  # NgsiSubscription, NgsiCSourceSubscription
    notification_model: ClassVar[type[Any]]  # NgsiNotification, NgsiCSourceNotification
    subscription_key: ClassVar[str]  # the notification's foreign key to its subscription
    log: ClassVar[logging.Logger]
    scan_failed: ClassVar[str]  # log messages
    delivery_failed: ClassVar[str]

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        state = app.state
        self.config: NotifierConfig = getattr(state, "notifier_config", None) or NotifierConfig()
        if not hasattr(state, "ngsi_contexts"):
            state.ngsi_contexts = ContextProcessor()
        self.processor: ContextProcessor = state.ngsi_contexts
        self.factory = state.session_factory
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.deliveries: dict[int, asyncio.Task[None]] = {}
        self.events: Any = None
        self.client: httpx.AsyncClient | None = None

    async def stop(self) -> None:
        if self.events is not None:
            await self.events.close()
        for task in [*self.tasks, *self.deliveries.values()]:
            task.cancel()
        for task in [*self.tasks, *self.deliveries.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.client is not None:
            await self.client.aclose()

    @abstractmethod
    def queue_periodic(self, session: Session) -> None:
        """Write the periodic notifications that are due to the outbox."""

    @abstractmethod
    async def send(self, definition: dict[str, Any], payload: dict[str, Any]) -> None:
        """Deliver one notification to the subscription's endpoint (raise on failure)."""

    # --- dispatching ------------------------------------------------------------------------

    def _due(self) -> list[int]:
        notes = self.notification_model
        with unit_of_work(self.factory) as session:
            self.queue_periodic(session)
            session.flush()
            rows = session.execute(select(getattr(notes, self.subscription_key)).where(
                notes.delivered.is_(False), notes.next_attempt_at <= utcnow(),
            ).distinct()).all()
            return [r[0] for r in rows]

    async def _dispatch(self) -> None:
        while True:
            try:
                due = await asyncio.to_thread(self._due)
                self.deliveries = {pk: t for pk, t in self.deliveries.items() if not t.done()}
                if self.config.deliver:
                    for pk in due:
                        task = self.deliveries.get(pk)
                        if task is None or task.done():
                            self.deliveries[pk] = asyncio.create_task(self._deliver(pk))
            except Exception:
                self.log.exception(self.scan_failed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.config.poll)
            self.wake.clear()

    # --- delivering -------------------------------------------------------------------------

    def _head(self, pk: int) -> tuple[int, int, dict[str, Any], dict[str, Any], str] | None:
        """The first undelivered notification of a subscription if it is due:
        (id, attempts so far, payload, definition, status)."""
        notes = self.notification_model
        with unit_of_work(self.factory) as session:
            row = session.get(self.subscription_model, pk)
            note = session.scalars(select(notes).where(
                getattr(notes, self.subscription_key) == pk, notes.delivered.is_(False),
            ).order_by(notes.sequence).limit(1)).first()
            if row is None or note is None or note.next_attempt_at > utcnow():
                return None
            return note.id, note.attempts, note.payload, row.definition, status(row)

    def _sending(self, pk: int) -> None:
        """Count a delivery attempt before it is made, so a receiver that reads the subscription as soon as the
        notification arrives sees it (timesSent, lastNotification)."""
        subs = self.subscription_model
        with unit_of_work(self.factory) as session:
            session.execute(update(subs).where(subs.id == pk).values(
                times_sent=subs.times_sent + 1, last_notification=utcnow()))

    def _record(self, pk: int, note_id: int, attempts: int, ok: bool) -> None:
        """The outcome of one attempt. Plain UPDATEs: the subscription may have been deleted meanwhile."""
        subs, notes = self.subscription_model, self.notification_model
        now = utcnow()
        with unit_of_work(self.factory) as session:
            if ok:
                values: dict[str, Any] = {"delivered": True, "attempts": attempts + 1}
            else:
                delay = min(self.config.backoff_cap, self.config.backoff_base * 2 ** attempts)
                values = {"attempts": attempts + 1, "next_attempt_at": now + timedelta(seconds=delay)}
            session.execute(update(notes).where(notes.id == note_id).values(**values))
            outcome = {"last_success": now} if ok else {"last_failure": now, "times_failed": subs.times_failed + 1}
            session.execute(update(subs).where(subs.id == pk).values(**outcome))

    def _drop(self, note_id: int) -> None:
        with unit_of_work(self.factory) as session:
            note = session.get(self.notification_model, note_id)
            if note is not None:
                session.delete(note)

    async def _deliver(self, pk: int) -> None:
        while True:
            head = await asyncio.to_thread(self._head, pk)
            if head is None:
                return
            note_id, attempts, payload, definition, state = head
            if state != "active":  # paused or expired: what was queued is not sent
                await asyncio.to_thread(self._drop, note_id)
                continue
            await asyncio.to_thread(self._sending, pk)
            try:
                await self.send(definition, payload)
                ok = True
            except Exception as exc:
                self.log.info(self.delivery_failed, extra={"subscription": payload.get("subscriptionId"),
                                                           "error": str(exc)[:300]})
                ok = False
            await asyncio.to_thread(self._record, pk, note_id, attempts, ok)
            if not ok:
                return

    async def post(self, endpoint: dict[str, Any], payload: dict[str, Any], context: Any, document: Any) -> None:
        """Send ``payload`` to ``endpoint``: for ``application/ld+json`` each item of data carries ``document`` as
        its @context, else a Link header names ``context``; MQTT endpoints get ``{metadata, body}``."""
        accept = endpoint.get("accept", "application/json")
        headers = {"Content-Type": accept}
        body = dict(payload)
        if accept == "application/ld+json":  # each item of data is a JSON-LD document of its own
            body["data"] = [{**item, "@context": document} for item in payload.get("data", [])]
        else:
            headers["Link"] = f'<{_link_url(context)}>; rel="{CONTEXT_REL}"; type="application/ld+json"'
        for pair in endpoint.get("receiverInfo", []):
            headers[pair["key"]] = pair["value"]
        timeout = min(self.config.timeout, endpoint.get("timeout", 1e9) / 1000)
        uri = endpoint["uri"]
        if uri.startswith(("mqtt://", "mqtts://")):
            info = {p["key"]: p["value"] for p in endpoint.get("notifierInfo", [])}
            message = json.dumps({"metadata": headers, "body": body})
            await asyncio.wait_for(asyncio.to_thread(_mqtt_publish, uri, message, info, timeout), timeout + 1)
            return
        assert self.client is not None
        response = await self.client.post(uri, content=json.dumps(body), headers=headers, timeout=timeout)
        if response.status_code >= 300:
            raise DeliveryError(f"{uri} answered {response.status_code}")


def _link_url(context: Any) -> str:
    """The one @context URL a Link header can name: the context when it is a URL (or a list holding one URL
    besides the core context), else the core context."""
    if isinstance(context, str):
        return context
    items = context if isinstance(context, list) else [context]
    urls = [c for c in items if isinstance(c, str) and c not in CORE_CONTEXT_URLS]
    if len(urls) == 1 and all(isinstance(c, str) for c in items):
        return urls[0]
    return CORE_CONTEXT_URL


def _mqtt_publish(uri: str, message: str, info: dict[str, str], timeout: float) -> None:
    from paho.mqtt import publish

    parts = urlsplit(uri)
    qos = int(info.get("MQTT-QoS", "0"))
    if qos not in (0, 1, 2):
        qos = 0
    version = {"mqtt5.0": 5, "mqtt3.1.1": 4}.get(info.get("MQTT-Version", ""), 4)
    auth = {"username": unquote(parts.username), "password": unquote(parts.password or "")} \
        if parts.username else None
    publish.single(unquote(parts.path.lstrip("/")), message, qos=qos, hostname=parts.hostname or "localhost",
                   port=parts.port or (8883 if parts.scheme == "mqtts" else 1883), auth=auth,
                   tls={} if parts.scheme == "mqtts" else None, protocol=version,
                   keepalive=max(5, int(timeout)))
