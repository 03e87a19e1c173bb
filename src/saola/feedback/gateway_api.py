"""``POST /api/v1/feedback/gateways/{provider}/messages``: the webhook SMS and chat providers call.

The provider is one of ``SAOLA_FEEDBACK_GATEWAYS`` (404 otherwise). The raw body must carry the
provider's signature, ``X-Saola-Signature: sha256=<hex HMAC-SHA256 of the body with the shared
secret>`` (401 when missing, 403 when wrong; compared in constant time), and is then read as a
:class:`GatewayMessage`. The message becomes a report (channel ``sms`` or ``chat``, as the
provider's kind) or a follow-up note through :func:`saola.feedback.channels.take_in`, which also
queues the answer with the tracking code back through the provider. A retried webhook (same
``message_id``) answers 200 with the first outcome and creates nothing; a new one answers 201.
Bad input — malformed JSON, an empty text, a point outside the province — is a 422 that saves
nothing. Attachments come inline as base64 (a URL is never fetched).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from saola.core.db import utcnow
from saola.core.deps import DbSession
from saola.core.messaging.gateways import SIGNATURE_HEADER, GatewayConfig, find_gateway, signature_matches
from saola.feedback.channel_errors import (
    GatewayMessageTooLarge,
    GatewayNotFound,
    GatewaySignatureInvalid,
    GatewaySignatureMissing,
    InvalidGatewayMessage,
)
from saola.feedback.channels import Inbound, take_in
from saola.feedback.intake import MAX_FILES, Upload

router = APIRouter(prefix="/api/v1/feedback/gateways", tags=["feedback"])
MB = 1024 * 1024


class GatewayAttachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_name: Annotated[str, StringConstraints(max_length=200)] = "photo"
    content_base64: str = Field(description="The file's bytes in base64 (JPEG, PNG, WebP or PDF)")


class GatewayMessage(BaseModel):
    """A citizen's message as the provider forwards it (fields the provider adds besides these are ignored)."""

    model_config = ConfigDict(extra="ignore")

    message_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="The provider's id of the message; a retry with the same id creates nothing")
    sender: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)] = Field(
        description="The sender's phone number (SMS) or chat user id (chat); answers go back to it")
    sender_name: Annotated[str, StringConstraints(max_length=200)] = ""
    text: Annotated[str, StringConstraints(max_length=5000)] = Field(
        "", description="The message; a line `Địa chỉ: …` gives the place when there is no point")
    lat: float | None = Field(None, allow_inf_nan=False, description="A shared location (chat)")
    long: float | None = Field(None, allow_inf_nan=False)
    address: Annotated[str, StringConstraints(max_length=300)] = ""
    service_code: Annotated[str, StringConstraints(max_length=60)] | None = Field(
        None, description="A category the citizen picked (chat menus); without it the report is triaged")
    attributes: dict[str, str | list[str]] = Field(
        {}, max_length=50, description="Answers to the category's questions (Open311 attributes)")
    attachments: list[GatewayAttachment] = Field([], max_length=MAX_FILES)


class GatewayReceipt(BaseModel):
    tracking_code: str
    action: str = Field(description="`report` (a new report) or `follow_up` (a note on the sender's report)")
    duplicate: bool = Field(description="True when this message id was taken in before (nothing new was created)")


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` inlined (an ``openapi_extra`` body has no components)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return inline(schema)


def _limit(request: Request) -> int:
    """Largest body: five files at the photo limit, base64-encoded, and the text."""
    return MAX_FILES * request.app.state.settings.feedback_max_photo_mb * MB * 4 // 3 + MB


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent (the signature covers these bytes), refused beyond :func:`_limit`."""
    limit = _limit(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise GatewayMessageTooLarge("At most {limit} bytes", limit=limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise GatewayMessageTooLarge("At most {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _verified(request: Request, provider: str, body: bytes) -> GatewayConfig:
    gateway = find_gateway(request.app.state.settings.feedback_gateways, provider)
    if gateway is None:
        raise GatewayNotFound("No gateway named '{provider}'", provider=provider)
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not header.strip():
        raise GatewaySignatureMissing("Sign the body with the shared secret in the {header} header",
                                      header=SIGNATURE_HEADER)
    if not signature_matches(gateway.secret.get_secret_value(), body, header):
        raise GatewaySignatureInvalid()
    return gateway


def _parse(body: bytes) -> GatewayMessage:
    try:
        return GatewayMessage.model_validate_json(body)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(part) for part in e["loc"]) or "body", "message": e["msg"]}
                  for e in exc.errors(include_url=False, include_input=False)]
        raise InvalidGatewayMessage(errors, "The body is not a gateway message") from None


def _uploads(message: GatewayMessage) -> list[Upload]:
    uploads, errors = [], []
    for index, attachment in enumerate(message.attachments):
        try:
            data = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError):
            errors.append({"field": f"attachments.{index}.content_base64", "message": "not valid base64"})
            continue
        uploads.append(Upload(file_name=attachment.file_name, data=data))
    if errors:
        raise InvalidGatewayMessage(errors, "The body is not a gateway message")
    return uploads


@router.post(
    "/{provider}/messages", response_model=GatewayReceipt, status_code=status.HTTP_201_CREATED,
    summary="A citizen's SMS or chat message, from a configured provider (signed webhook)",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": _inline_schema(GatewayMessage)}}}},
    responses={200: {"description": "A retry of a message taken in before: its first outcome"},
               401: {"description": "Code `gateway-signature-missing`"},
               403: {"description": "Code `gateway-signature-invalid`"},
               404: {"description": "Code `gateway-not-found`"},
               422: {"description": "Codes `invalid-gateway-message` (the body), `invalid-report` (the report)"}},
)
def receive_message(provider: Annotated[str, PathParam(max_length=40)], request: Request, response: Response,
                    session: DbSession, body: Annotated[bytes, Depends(raw_body)]) -> GatewayReceipt:
    gateway = _verified(request, provider, body)
    message = _parse(body)
    inbound = Inbound(channel=gateway.kind, provider=gateway.name, message_id=message.message_id,
                      sender=message.sender, text=message.text, sender_name=message.sender_name, lat=message.lat,
                      lon=message.long, address=message.address, service_code=message.service_code or None,
                      answers=dict(message.attributes),
                      uploads=_uploads(message))
    outcome = take_in(session, inbound=inbound, settings=request.app.state.settings, now=utcnow())
    if outcome.duplicate:
        response.status_code = status.HTTP_200_OK
    return GatewayReceipt(tracking_code=outcome.tracking_code, action=outcome.action, duplicate=outcome.duplicate)
