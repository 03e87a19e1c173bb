"""Delivery of NGSI-LD notifications: matching entity changes, the outbox, HTTP and MQTT endpoints.

:class:`Notifier` runs inside the application's lifespan:

* a *matcher* consumes ``ngsi.entity.*`` events and writes the notifications they cause to the
  outbox, the changes queued meanwhile in one transaction (:func:`saola.context.subscription_matching.match_events`);
* a *dispatcher* wakes on new work (or every ``poll`` seconds), queues periodic notifications and
  starts one delivery task per subscription that has due work, so a slow or unreachable endpoint
  only delays its own subscription;
* a delivery task sends its subscription's notifications in sequence order. A failure leaves the
  notification in the outbox with ``next_attempt_at`` pushed back exponentially (capped); it is
  sent again later, also after a restart (at-least-once).

The dispatcher and the delivery tasks are shared with the context source notifier
(:class:`saola.context.notification_delivery.OutboxNotifier`); this module matches entity changes and chooses the
@context a notification carries.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from saola.context import subscription_matching as matching
from saola.context.jsonld import CORE_CONTEXT_URL
from saola.context.notification_delivery import NotifierConfig as NotifierConfig
from saola.context.notification_delivery import OutboxNotifier
from saola.context.store import UNWATCHED
from saola.context.subscription_models import NgsiNotification, NgsiSubscription
from saola.core.db import unit_of_work

log = logging.getLogger("saola.context.notifier")
MATCH_BATCH = 500
_ANY_SUBSCRIPTION = select(NgsiSubscription.__table__.c.id).where(
    NgsiSubscription.__table__.c.tenant.in_(bindparam("tenants", expanding=True))).limit(1)


class Notifier(OutboxNotifier):
    subscription_model = NgsiSubscription
    notification_model = NgsiNotification
    subscription_key = "subscription_pk"
    log = log
    scan_failed = "scanning the notification outbox failed"
    delivery_failed = "notification delivery failed"

    async def start(self) -> None:
        self.events = self.app.state.event_bus.subscribe("ngsi.entity.*", max_queue=10_000, group="ngsi-notifier")
        self.client = httpx.AsyncClient(timeout=self.config.timeout)
        self.tasks = [asyncio.create_task(self._match()), asyncio.create_task(self._dispatch())]

    # --- matching ---------------------------------------------------------------------------

    def _match_many(self, events: list[tuple[str, dict[str, Any]]]) -> int:
        tenants = {payload.get("tenant", "") for _topic, payload in events}
        with self.factory() as probe:  # most changes concern no subscription: one plain read says so
            if not probe.execute(_ANY_SUBSCRIPTION, {"tenants": sorted(tenants)}).first():
                return 0
        with unit_of_work(self.factory) as session:
            return matching.match_events(session, self.processor, events, self.app.state.settings)

    def _match_one(self, topic: str, payload: dict[str, Any]) -> int:
        return self._match_many([(topic, payload)])

    async def _match(self) -> None:
        # The changes queued meanwhile are matched together: one transaction (and one trip to a thread)
        # for a batch upsert's thousand events instead of a thousand.
        async for batch in self.events.batches(MATCH_BATCH):
            events = [(event.topic, event.payload) for event in batch if not event.payload.get(UNWATCHED)]
            if not events:
                continue
            try:
                if await asyncio.to_thread(self._match_many, events):
                    self.wake.set()
            except Exception:
                log.exception("matching entity changes to subscriptions failed; matching them one by one")
                for event in events:  # so that one bad event does not cost the others their notifications
                    try:
                        if await asyncio.to_thread(self._match_one, *event):
                            self.wake.set()
                    except Exception:
                        log.exception("matching an entity change to subscriptions failed", extra={"topic": event[0]})

    def queue_periodic(self, session: Session) -> None:
        matching.periodic_due(session, self.processor, self.app.state.settings)

    # --- sending ----------------------------------------------------------------------------

    async def send(self, definition: dict[str, Any], payload: dict[str, Any]) -> None:
        context = matching.notification_context(definition)
        document = context if context is not None else CORE_CONTEXT_URL
        if isinstance(document, list) and len(document) == 1:
            document = document[0]
        await self.post(definition["expanded"]["notification"]["endpoint"], payload, context, document)
