"""The background task that delivers the outbox, started and stopped by the app's lifespan.

Every ``messaging_poll_seconds`` (and at once after a request committed a ``case.transitioned``
event) it runs :func:`saola.core.messaging.outbox.deliver_due` in a thread, with the senders
chosen in settings. A failing gateway never stops it: the message stays pending and is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from saola.core.messaging import case_notices, staff_notices
from saola.core.messaging.backends import MailSender, SmsSender, make_mail_sender, make_sms_sender
from saola.core.messaging.gateways import GatewaySender, make_gateway_sender
from saola.core.messaging.models import OutboxMessage
from saola.core.messaging.outbox import DeliveryRun, Policy, deliver_due
from saola.core.messaging.webhooks import WebhookSender, make_webhook_sender

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 30.0


class MessagingWorker:
    def __init__(self, app: FastAPI, *, mail: MailSender | None = None, sms: SmsSender | None = None,
                 gateway: GatewaySender | None = None, webhook: WebhookSender | None = None) -> None:
        settings = app.state.settings
        self.factory = app.state.session_factory
        self.bus = app.state.event_bus
        self.mail = mail or make_mail_sender(settings)
        self.sms = sms or make_sms_sender(settings)
        self.gateway = gateway or make_gateway_sender(settings)
        self.webhook = webhook or make_webhook_sender(settings)
        self.policy = Policy(max_attempts=settings.messaging_max_attempts,
                             retry_seconds=settings.messaging_retry_seconds)
        self.poll_seconds = settings.messaging_poll_seconds
        self.public_url = settings.public_url
        self.timezone = settings.timezone
        self.wake = asyncio.Event()
        self.stopping = False
        self.tasks: list[asyncio.Task[None]] = []

    def render(self, message: OutboxMessage) -> tuple[str, str] | None:
        template = (message.data or {}).get("template")
        if template == staff_notices.TEMPLATE:
            return staff_notices.render(message.data, message.lang, self.public_url, self.timezone)
        if template != case_notices.TEMPLATE:
            return None
        return case_notices.render(message.data, message.lang, message.channel, self.public_url)

    def run_once(self) -> DeliveryRun:
        """Deliver what is due now (blocking)."""
        return deliver_due(self.factory, mail=self.mail, sms=self.sms, policy=self.policy, render=self.render,
                           gateway=self.gateway, webhook=self.webhook)

    async def start(self) -> None:
        self.stopping = False
        self.tasks = [asyncio.create_task(self._loop()), asyncio.create_task(self._listen())]

    async def stop(self) -> None:
        """Let a delivery run in progress finish (its thread holds a database connection), then stop."""
        self.stopping = True
        self.wake.set()
        loop_task, listen_task = self.tasks
        listen_task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(loop_task), timeout=STOP_GRACE_SECONDS)
        except TimeoutError:
            loop_task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        subscription = self.bus.subscribe(case_notices.CASE_TRANSITIONED, group="case-notices")
        try:
            async for _event in subscription:
                self.wake.set()
        finally:
            await subscription.close()

    async def _loop(self) -> None:
        while not self.stopping:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:  # a database hiccup must not end delivery for the app's lifetime
                log.exception("outbox delivery run failed")
            if self.stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
            self.wake.clear()
