"""Delivery of context source notifications (clause 5.11.7) from the ``ngsi_csource_notifications`` outbox.

:class:`CSourceNotifier` runs in the application's lifespan beside the entity :class:`~saola.context.notifier.Notifier`
and with its settings (``app.state.notifier_config``): it wakes when a change queued notifications (the
``ngsi.csource.notification`` event, published after commit) or every ``poll`` seconds, queues the periodic
notifications that are due, and sends each subscription's notifications in order on a task of its own. A failure
leaves the notification in the outbox and retries it with capped exponential backoff (at-least-once, also across
restarts). HTTP endpoints get ``application/json`` with a Link header naming the subscription's @context (or
``application/ld+json`` with the @context in each registration); MQTT endpoints get ``{metadata, body}``. The
dispatcher, the delivery tasks and the transport are shared with the entity notifier
(:class:`saola.context.notification_delivery.OutboxNotifier`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from sqlalchemy.orm import Session

from saola.context import csource_subscriptions as service
from saola.context.csource_models import NgsiCSourceNotification, NgsiCSourceSubscription
from saola.context.jsonld import CORE_CONTEXT_URL
from saola.context.notification_delivery import OutboxNotifier

log = logging.getLogger("saola.context.csource_notifier")


class CSourceNotifier(OutboxNotifier):
    subscription_model = NgsiCSourceSubscription
    notification_model = NgsiCSourceNotification
    subscription_key = "sub_pk"
    log = log
    scan_failed = "scanning the context source notification outbox failed"
    delivery_failed = "context source notification failed"

    async def start(self) -> None:
        self.events = self.app.state.event_bus.subscribe(service.WAKE_TOPIC, max_queue=1000)
        self.client = httpx.AsyncClient(timeout=self.config.timeout)
        self.tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._dispatch())]

    async def _listen(self) -> None:
        async for _event in self.events:
            self.wake.set()

    def queue_periodic(self, session: Session) -> None:
        service.periodic_due(session, self.processor, self.app.state.settings)

    async def send(self, definition: dict[str, Any], payload: dict[str, Any]) -> None:
        context = definition["expanded"].get("jsonldContext") or definition.get("context")
        document = context if context is not None else CORE_CONTEXT_URL
        await self.post(definition["expanded"]["notification"]["endpoint"], payload, context, document)
