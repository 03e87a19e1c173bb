"""SMS and chat providers of the hotline: their settings, the shared-secret signature, and replies through them.

A provider (an SMS aggregator, a Zalo-style chat platform) is configured once in
``SAOLA_FEEDBACK_GATEWAYS`` (:class:`GatewayConfig`): its name, kind, the shared secret it signs
its webhooks with, and the URL of its HTTP API that takes our replies. Both directions are
signed the same way: ``X-Saola-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` (:func:`sign`,
checked in constant time by :func:`signature_matches`). :class:`HttpGatewaySender` makes one
attempt to deliver a reply (``{"to", "text"}`` JSON, the optional bearer token, the signature);
retries are the outbox's job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from saola.core.messaging.backends import DeliveryError

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Saola-Signature"
SIGNATURE_PREFIX = "sha256="


class GatewayConfig(BaseModel):
    """One SMS or chat provider: how its webhooks are checked and where replies to its users go."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="Name in the webhook path")
    kind: Literal["sms", "chat"] = Field(description="`sms` (the sender is a phone number) or `chat` (a user id)")
    secret: SecretStr = Field(description="Shared secret of the HMAC-SHA256 signatures, 16+ characters")
    reply_url: str = Field(description="URL of the provider's HTTP API that takes replies (JSON POST)")
    reply_token: SecretStr = Field(SecretStr(""), description="Sent as `Authorization: Bearer` with each reply")
    timeout_seconds: float = Field(10.0, gt=0, le=120, description="Timeout of one reply request")

    @field_validator("secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("the shared secret must have at least 16 characters")
        return value

    @field_validator("reply_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("reply_url must be an http:// or https:// URL")
        return value


def _unique_names(gateways: list[GatewayConfig]) -> list[GatewayConfig]:
    names = [g.name for g in gateways]
    if len(names) != len(set(names)):
        raise ValueError("each gateway needs its own name")
    return gateways


GatewayList = Annotated[list[GatewayConfig], AfterValidator(_unique_names)]


def find_gateway(gateways: Sequence[GatewayConfig], name: str) -> GatewayConfig | None:
    return next((g for g in gateways if g.name == name), None)


def sign(secret: str, body: bytes) -> str:
    """The signature header value of ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    """True when ``header`` is the signature of ``body`` (the ``sha256=`` prefix is optional; constant time)."""
    given = header.strip()
    given = given[len(SIGNATURE_PREFIX):] if given.lower().startswith(SIGNATURE_PREFIX) else given
    expected = sign(secret, body)[len(SIGNATURE_PREFIX):]
    return hmac.compare_digest(given.lower().encode("ascii", "replace"), expected.encode())


class GatewaySender(Protocol):
    def send_reply(self, *, provider: str, to: str, text: str) -> None: ...


class HttpGatewaySender:
    """Replies through the configured providers' HTTP APIs: ``POST reply_url`` with ``{"to", "text"}``."""

    def __init__(self, gateways: Sequence[GatewayConfig]) -> None:
        self.gateways = list(gateways)

    def send_reply(self, *, provider: str, to: str, text: str) -> None:
        gateway = find_gateway(self.gateways, provider)
        if gateway is None:
            raise DeliveryError(f"no gateway named '{provider}' is configured")
        body = json.dumps({"to": to, "text": text}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   SIGNATURE_HEADER: sign(gateway.secret.get_secret_value(), body)}
        if gateway.reply_token.get_secret_value():
            headers["Authorization"] = f"Bearer {gateway.reply_token.get_secret_value()}"
        request = urllib.request.Request(gateway.reply_url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=gateway.timeout_seconds) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"gateway {provider} answered {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"gateway {provider}: {type(exc).__name__}: {exc}") from exc


def make_gateway_sender(settings: Any) -> GatewaySender:
    return HttpGatewaySender(getattr(settings, "feedback_gateways", []))
