"""Outgoing webhooks: an HTTP POST of a JSON body, signed like the hotline's gateways.

A message on the outbox's ``webhook`` channel has the receiver's URL as recipient and the JSON
document as body. :class:`HttpWebhookSender` makes one attempt: ``POST`` with
``Content-Type: application/json`` and ``X-Saola-Signature: sha256=<hex HMAC-SHA256 of the raw body
with SAOLA_WEBHOOK_SECRET>`` (:func:`saola.core.messaging.gateways.sign`); any non-2xx answer or
network error is a :class:`DeliveryError`, retried by the outbox's backoff. Without a secret nothing
is sent unsigned: the attempt fails and says why.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any, Protocol
from urllib.parse import urlsplit

from saola.core.messaging.backends import DeliveryError
from saola.core.messaging.gateways import SIGNATURE_HEADER, sign

EVENT_HEADER = "X-Saola-Event"


class WebhookSender(Protocol):
    def send_webhook(self, *, url: str, body: str, event: str = "") -> None: ...


class HttpWebhookSender:
    """POSTs the JSON body to the URL with the HMAC-SHA256 signature header."""

    def __init__(self, *, secret: str, timeout: float = 10.0) -> None:
        self.secret, self.timeout = secret, timeout

    def send_webhook(self, *, url: str, body: str, event: str = "") -> None:
        if not self.secret:
            raise DeliveryError("SAOLA_WEBHOOK_SECRET is not set: webhooks are not sent unsigned")
        if urlsplit(url).scheme not in ("http", "https"):
            raise DeliveryError("the webhook URL must be http:// or https://")
        raw = body.encode()
        headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(self.secret, raw),
                   "User-Agent": "Saola-Webhook/1"}
        if event:
            headers[EVENT_HEADER] = event
        request = urllib.request.Request(url, data=raw, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook answered {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from exc


def make_webhook_sender(settings: Any) -> WebhookSender:
    return HttpWebhookSender(secret=getattr(settings, "webhook_secret", ""),
                             timeout=getattr(settings, "webhook_timeout_seconds", 10.0))
