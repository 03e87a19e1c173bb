"""The HTTP transport of the IoT Agents: ``POST /iot/json`` (JSON), ``POST /iot/d`` (UltraLight 2.0) and
``POST /iot/json/bulk`` (a gateway's measures of many devices in one request).

Query parameters as the IoT Agents define them: ``k`` the API key, ``i`` the device id, ``t`` an
optional timestamp used as ``observedAt`` of measures that carry no ``TimeInstant``. A device with a
per-device token sends it in the ``X-Device-Token`` header. Answers: 200 stored (also when the
measures were already stored: duplicates are idempotent), 400 ``malformed-payload``, 403
``wrong-api-key``/``wrong-device-token``, 404 ``unknown-device``, 503 ``ingest-unavailable`` when the
database cannot be written (send again later). All paths go through :meth:`Ingestor.store`.

Bulk body (``application/json``), at most 5,000 items::

    [{"i": "aq-001", "d": {"t": 25.3, "h": 60}},
     {"i": "aq-002", "d": [{"t": 25.1, "TimeInstant": "2026-11-24T10:00:00Z"}], "token": "..."},
     {"i": "lamp-7", "ul": "on|1|p|42.5", "t": "2026-11-24T10:00:00Z"}]

answered 200 with ``{"stored", "duplicates", "rejected", "results": [{"i", "status", "code"?, "detail"?}]}``,
one result per item in order.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from saola.core.db import utcnow
from saola.core.errors import DomainError
from saola.devices.errors import (
    IngestUnavailable,
    MalformedPayload,
    StoreUnavailable,
    UnknownDevice,
    WrongApiKey,
    WrongDeviceToken,
)
from saola.devices.formats import MAX_PAYLOAD, parse_time
from saola.devices.ingest import Ingestor, Message, Outcome, publish, reason_code

router = APIRouter(prefix="/iot", tags=["devices"])
MAX_BULK = 5_000
MAX_BULK_BYTES = 20_000_000
ERRORS: dict[str, type[DomainError]] = {"malformed-payload": MalformedPayload, "wrong-api-key": WrongApiKey,
                                        "wrong-device-token": WrongDeviceToken, "unknown-device": UnknownDevice}
STATUS = {code: cls.status for code, cls in ERRORS.items()}

ApiKey = Annotated[str, Query(alias="k", min_length=1, max_length=128)]
DeviceId = Annotated[str, Query(alias="i", min_length=1, max_length=255)]
Timestamp = Annotated[str | None, Query(alias="t", max_length=40)]
Token = Annotated[str | None, Header(alias="x-device-token", max_length=256)]


def ingestor_of(request: Request) -> Ingestor:
    """The application's ingestor (one per app, created on first use)."""
    state = request.app.state
    found = getattr(state, "ingestor", None)
    if found is None:
        found = state.ingestor = Ingestor(state.session_factory, state.settings)
    return found


async def _store(request: Request, messages: list[Message]) -> Outcome:
    try:
        outcome = await run_in_threadpool(ingestor_of(request).store, messages)
    except StoreUnavailable:
        raise IngestUnavailable() from None
    await publish(request.app.state.event_bus, outcome)
    return outcome


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise MalformedPayload("The payload is larger than {limit} bytes", limit=limit)
    body = await request.body()
    if len(body) > limit:
        raise MalformedPayload("The payload is larger than {limit} bytes", limit=limit)
    return body


def _received(t: str | None) -> Any:
    return parse_time(t) if t else utcnow()


async def _single(request: Request, fmt: Literal["json", "ul"], k: str, i: str, t: str | None,
                  token: str | None) -> Response:
    message = Message(api_key=k, device_id=i, payload=await _body(request, MAX_PAYLOAD), format=fmt,
                      transport="http", received_at=_received(t), token=token)
    outcome = await _store(request, [message])
    if outcome.rejected:
        reason = outcome.rejected[0][1]
        raise ERRORS.get(reason_code(reason), MalformedPayload)(reason.partition(": ")[2] or reason)
    return Response(status_code=200)


@router.post("/json", summary="Measures of one device in IoT Agent JSON", response_class=Response,
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": {}}}}})
async def post_json(request: Request, k: ApiKey, i: DeviceId, t: Timestamp = None, token: Token = None) -> Response:
    return await _single(request, "json", k, i, t, token)


@router.post("/d", summary="Measures of one device in UltraLight 2.0 (text/plain)", response_class=Response,
             openapi_extra={"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def post_ul(request: Request, k: ApiKey, i: DeviceId, t: Timestamp = None, token: Token = None) -> Response:
    return await _single(request, "ul", k, i, t, token)


def _bulk_message(item: Any, k: str, received: Any) -> Message | str:
    """The message of one bulk item, or why it is malformed."""
    if not isinstance(item, dict) or not isinstance(item.get("i"), str) or not 0 < len(item["i"]) <= 255:
        return "each item is an object with the device id in 'i'"
    if ("d" in item) == ("ul" in item):
        return "each item has either 'd' (IoT Agent JSON) or 'ul' (UltraLight text)"
    if "ul" in item and not isinstance(item["ul"], str):
        return "'ul' is UltraLight text"
    token = item.get("token")
    if token is not None and not isinstance(token, str):
        return "'token' is a string"
    try:
        when = parse_time(item["t"]) if item.get("t") is not None else received
    except MalformedPayload as exc:
        return exc.detail
    if "ul" in item:
        return Message(k, item["i"], item["ul"].encode("utf-8", "replace"), "ul", "http", when, token=token)
    return Message(k, item["i"], json.dumps(item["d"]).encode(), "json", "http", when, token=token)


@router.post("/json/bulk", summary="Measures of many devices of one API key (gateways)",
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "array"}}}}})
async def post_bulk(request: Request, k: ApiKey) -> JSONResponse:
    raw = await _body(request, MAX_BULK_BYTES)
    try:
        items = json.loads(raw)
    except (ValueError, RecursionError):
        raise MalformedPayload("The body is not valid JSON") from None
    if not isinstance(items, list) or not items:
        raise MalformedPayload("The body is a non-empty JSON array of device measures")
    if len(items) > MAX_BULK:
        raise MalformedPayload("A bulk request holds at most {n} items", n=MAX_BULK)
    received = utcnow()
    built = [_bulk_message(item, k, received) for item in items]
    messages = [m for m in built if isinstance(m, Message)]
    outcome = await _store(request, messages)
    refused = {id(m): reason for m, reason in outcome.rejected}
    results = []
    for item, m in zip(items, built, strict=True):
        device = item.get("i") if isinstance(item, dict) else None
        if isinstance(m, str):
            results.append({"i": device, "status": 400, "code": "malformed-payload", "detail": m})
        elif id(m) in refused:
            code = reason_code(refused[id(m)])
            results.append({"i": device, "status": STATUS.get(code, 400), "code": code,
                            "detail": refused[id(m)].partition(": ")[2]})
        else:
            results.append({"i": device, "status": 200})
    bad = sum(1 for r in results if r["status"] != 200)
    return JSONResponse({"stored": outcome.stored, "duplicates": outcome.duplicates, "rejected": bad,
                         "results": results})
