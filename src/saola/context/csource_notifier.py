"""Delivery of context source notifications (clause 5.11.7) from the ``ngsi_csource_notifications`` outbox.

:class:`CSourceNotifier` runs in the application's lifespan beside the entity :class:`~saola.context.notifier.Notifier`
and with its settings (``app.state.notifier_config``): it wakes when a change queued notifications (the
``ngsi.csource.notification`` event, published after commit) or every ``poll`` seconds, queues the periodic
notifications that are due, and sends each subscription's notifications in order on a task of its own. A failure
leaves the notification in the outbox and retries it with capped exponential backoff (at-least-once, also across
restarts). HTTP endpoints get ``application/json`` with a Link header naming the subscription's @context (or
``application/ld+json`` with the @context in each registration); MQTT endpoints get ``{metadata, body}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from saola.context import csource_subscriptions as service
from saola.context.csource_models import NgsiCSourceNotification, NgsiCSourceSubscription
from saola.context.jsonld import CORE_CONTEXT_URL, ContextProcessor
from saola.context.notifier import CONTEXT_REL, DeliveryError, NotifierConfig, _link_url, _mqtt_publish
from saola.core.db import unit_of_work, utcnow

log = logging.getLogger("saola.context.csource_notifier")


class CSourceNotifier:
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

    async def start(self) -> None:
        self.events = self.app.state.event_bus.subscribe(service.WAKE_TOPIC, max_queue=1000)
        self.client = httpx.AsyncClient(timeout=self.config.timeout)
        self.tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._dispatch())]

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

    async def _listen(self) -> None:
        async for _event in self.events:
            self.wake.set()

    def _due(self) -> list[int]:
        with unit_of_work(self.factory) as session:
            service.periodic_due(session, self.processor, self.app.state.settings)
            session.flush()
            rows = session.execute(select(NgsiCSourceNotification.sub_pk).where(
                NgsiCSourceNotification.delivered.is_(False), NgsiCSourceNotification.next_attempt_at <= utcnow(),
            ).distinct()).all()
            return [r[0] for r in rows]

    async def _dispatch(self) -> None:
        while True:
            try:
                due = await asyncio.to_thread(self._due)
                self.deliveries = {pk: t for pk, t in self.deliveries.items() if not t.done()}
                if self.config.deliver:
                    for pk in due:
                        if pk not in self.deliveries:
                            self.deliveries[pk] = asyncio.create_task(self._deliver(pk))
            except Exception:
                log.exception("scanning the context source notification outbox failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.config.poll)
            self.wake.clear()

    def _head(self, pk: int) -> tuple[int, int, dict[str, Any], dict[str, Any], str] | None:
        with unit_of_work(self.factory) as session:
            row = session.get(NgsiCSourceSubscription, pk)
            note = session.scalars(select(NgsiCSourceNotification).where(
                NgsiCSourceNotification.sub_pk == pk, NgsiCSourceNotification.delivered.is_(False),
            ).order_by(NgsiCSourceNotification.sequence).limit(1)).first()
            if row is None or note is None or note.next_attempt_at > utcnow():
                return None
            return note.id, note.attempts, note.payload, row.definition, service.status(row)

    def _sending(self, pk: int) -> None:
        with unit_of_work(self.factory) as session:
            session.execute(update(NgsiCSourceSubscription).where(NgsiCSourceSubscription.id == pk).values(
                times_sent=NgsiCSourceSubscription.times_sent + 1, last_notification=utcnow()))

    def _record(self, pk: int, note_id: int, attempts: int, ok: bool) -> None:
        now = utcnow()
        with unit_of_work(self.factory) as session:
            if ok:
                values: dict[str, Any] = {"delivered": True, "attempts": attempts + 1}
            else:
                delay = min(self.config.backoff_cap, self.config.backoff_base * 2 ** attempts)
                values = {"attempts": attempts + 1, "next_attempt_at": now + timedelta(seconds=delay)}
            session.execute(update(NgsiCSourceNotification).where(NgsiCSourceNotification.id == note_id)
                            .values(**values))
            outcome = {"last_success": now} if ok else {
                "last_failure": now, "times_failed": NgsiCSourceSubscription.times_failed + 1}
            session.execute(update(NgsiCSourceSubscription).where(NgsiCSourceSubscription.id == pk).values(**outcome))

    def _drop(self, note_id: int) -> None:
        with unit_of_work(self.factory) as session:
            note = session.get(NgsiCSourceNotification, note_id)
            if note is not None:
                session.delete(note)

    async def _deliver(self, pk: int) -> None:
        while True:
            head = await asyncio.to_thread(self._head, pk)
            if head is None:
                return
            note_id, attempts, payload, definition, status = head
            if status != "active":  # paused or expired: what was queued is not sent
                await asyncio.to_thread(self._drop, note_id)
                continue
            await asyncio.to_thread(self._sending, pk)
            try:
                await self.send(definition, payload)
                ok = True
            except Exception as exc:
                log.info("context source notification failed", extra={"subscription": payload.get("subscriptionId"),
                                                                       "error": str(exc)[:300]})
                ok = False
            await asyncio.to_thread(self._record, pk, note_id, attempts, ok)
            if not ok:
                return

    async def send(self, definition: dict[str, Any], payload: dict[str, Any]) -> None:
        endpoint = definition["expanded"]["notification"]["endpoint"]
        context = definition["expanded"].get("jsonldContext") or definition.get("context")
        accept = endpoint.get("accept", "application/json")
        headers = {"Content-Type": accept}
        body = dict(payload)
        if accept == "application/ld+json":
            value = context if context is not None else CORE_CONTEXT_URL
            body["data"] = [{**item, "@context": value} for item in payload.get("data", [])]
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
