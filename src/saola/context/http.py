"""HTTP plumbing of the NGSI-LD API: ProblemDetails errors, content negotiation, tenants, access.

:func:`install` makes every error under ``/ngsi-ld/`` an NGSI-LD ProblemDetails answer
(``application/json``), wrapping Saola's own handlers so that ``/api/v1`` keeps its format.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from saola.context import store
from saola.context.errors import (
    AlreadyExists,
    BadRequestData,
    Busy,
    InternalError,
    InvalidRequest,
    LdContextNotAvailable,
    NgsiLdError,
    NotAcceptable,
    ResourceNotFound,
    UnsupportedMediaType,
)
from saola.context.jsonld import CORE_CONTEXT_URL, ContextProcessor, TermMap, fetch_remote
from saola.context.mirror import mirrored
from saola.context.models import NgsiContext
from saola.core.auth.service import Principal
from saola.core.db import new_id
from saola.core.deps import DbSession, resolved_principal
from saola.core.errors import DomainError
from saola.core.http import is_bad_value, is_busy

log = logging.getLogger("saola.context")

PREFIX = "/ngsi-ld/"
JSON = "application/json"
JSON_LD = "application/ld+json"
GEO_JSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
MAX_BODY_BYTES = 64 * 1024 * 1024
_TENANT = re.compile(r"[A-Za-z0-9_\-.]{1,255}")
_SAOLA = "https://saola.city/problems/ngsi-ld/"
# ``/entities/`` or ``/entities//attrs...``: an operation on an entity whose id is empty
_EMPTY_ENTITY_ID = re.compile(r"/ngsi-ld/v1/(temporal/)?entities/(/|$)")


class Unauthenticated(NgsiLdError):
    type_uri = _SAOLA + "unauthenticated"
    status = 401
    title = "Authentication required"


class Forbidden(NgsiLdError):
    type_uri = _SAOLA + "forbidden"
    status = 403
    title = "Not allowed"


class MethodNotAllowed(NgsiLdError):
    type_uri = "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported"
    status = 405
    title = "Method not allowed"


# --- errors --------------------------------------------------------------------------------------


def problem_response(exc: NgsiLdError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": exc.type_uri, "title": exc.title, "detail": exc.detail}
    return JSONResponse(body, status_code=exc.status, media_type=JSON, headers=headers)


def _translate(exc: BaseException) -> NgsiLdError:
    if isinstance(exc, NgsiLdError):
        return exc
    if isinstance(exc, DomainError):
        by_status: dict[int, type[NgsiLdError]] = {401: Unauthenticated, 403: Forbidden, 404: ResourceNotFound,
                                                   409: AlreadyExists}
        return by_status.get(exc.status, BadRequestData)(exc.detail)
    if isinstance(exc, RequestValidationError):
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return BadRequestData(f"Invalid request parameters: {fields}")
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return ResourceNotFound("No such resource")
        if exc.status_code == 405:
            return MethodNotAllowed("This method is not allowed on this resource")
        error = BadRequestData(str(exc.detail))
        error.status = exc.status_code if 400 <= exc.status_code < 500 else 400
        return error
    if isinstance(exc, IntegrityError):
        return AlreadyExists("The change conflicts with existing data")
    if is_bad_value(exc):
        return BadRequestData("A value in the request is out of range or cannot be stored")
    if is_busy(exc):
        return Busy("The database is busy with other changes; nothing was changed. Retry in a moment.")
    return InternalError("Something went wrong on our side; the error was logged")


def install(app: FastAPI) -> None:
    """Answer errors under /ngsi-ld/ as NGSI-LD ProblemDetails; leave the others' handlers as they are."""

    async def _ngsi(request: Request, exc: Exception) -> Response:
        error = _translate(exc)
        if isinstance(exc, StarletteHTTPException) and exc.status_code in (404, 405) \
                and _EMPTY_ENTITY_ID.search(request.url.path):
            error = BadRequestData("The entity id is missing from the path")
        if error.status >= 500:
            log.error("unhandled NGSI-LD error", extra={"path": request.url.path}, exc_info=exc)
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        if error.status == 503:
            headers = {"Retry-After": "1"}
        return problem_response(error, headers)

    originals = dict(app.exception_handlers)
    for cls, handler in originals.items():
        if not isinstance(cls, type):
            continue
        app.add_exception_handler(cls, _dispatch(handler, _ngsi))
    app.add_exception_handler(NgsiLdError, _ngsi)
    if Exception not in originals:
        app.add_exception_handler(Exception, _ngsi)


def _dispatch(original: Any, ngsi: Any) -> Any:
    async def handler(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(PREFIX):
            return await ngsi(request, exc)
        return await original(request, exc)

    return handler


# --- the caller ----------------------------------------------------------------------------------


@dataclass
class Caller:
    tenant: str
    principal: Principal | None
    write: bool


def _tenant(request: Request) -> str:
    value = request.headers.get("ngsild-tenant", "").strip()
    if value and not _TENANT.fullmatch(value):
        raise BadRequestData("Invalid NGSILD-Tenant")
    return value


_ALLOWED_PARAMS: dict[int, frozenset[str]] = {}


def _query_parameter_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_parameter_names(sub)
    return names


def _check_query_parameters(request: Request) -> None:
    """InvalidRequest for a query parameter that the operation does not define (clause 6.3.20)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _ALLOWED_PARAMS.get(id(route))
    if allowed is None:
        allowed = frozenset(_query_parameter_names(dependant))
        _ALLOWED_PARAMS[id(route)] = allowed
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise InvalidRequest(f"Unknown query parameter(s) for this operation: {', '.join(unknown)[:200]}")


def _check_access(request: Request, principal: Principal | None, *, write: bool) -> Caller:
    _check_query_parameters(request)
    tenant = _tenant(request)
    anonymous = request.app.state.settings.ngsi_ld_anonymous
    if principal is None:
        if anonymous == "write" or (anonymous == "read" and not write):
            return Caller(tenant, None, write)
        raise Unauthenticated("Send 'Authorization: Bearer <token>' with the scope context:" +
                              ("write" if write else "read"))
    if write and principal.via == "session":
        raise Forbidden("Writes to the NGSI-LD API need an API token")
    needed = "context:write" if write else "context:read"
    if not principal.can(needed):
        raise Forbidden(f"This needs the permission {needed!r}")
    allowed = list(principal.token.tenants or []) if principal.token is not None else []
    if allowed and tenant not in allowed and not (tenant == "" and "default" in allowed):
        raise Forbidden("This token may not use this tenant")
    return Caller(tenant, principal, write)


async def _principal_or_ngsi_error(request: Request, session: DbSession) -> Principal | None:
    try:
        return await resolved_principal(request, session)
    except DomainError as exc:
        raise Unauthenticated(exc.detail) from None


async def reader(request: Request, principal: Annotated[Principal | None, Depends(_principal_or_ngsi_error)]) -> Caller:
    return _check_access(request, principal, write=False)


async def writer(request: Request, principal: Annotated[Principal | None, Depends(_principal_or_ngsi_error)]) -> Caller:
    return _check_access(request, principal, write=True)


Reader = Annotated[Caller, Depends(reader)]
Writer = Annotated[Caller, Depends(writer)]


def existing_tenant(session: Session, caller: Caller) -> str:
    """The caller's tenant for a read: 404 when nothing was ever written to it."""
    if not store.tenant_exists(session, caller.tenant):
        raise ResourceNotFound(f"No tenant {caller.tenant!r}")
    return caller.tenant


# --- bodies and @contexts ------------------------------------------------------------------------


@dataclass
class Body:
    data: Any
    context: Any  # the request's @context: from the body (ld+json) or the Link header, None = core
    kind: str = JSON  # the media type of the body


def media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def link_context(request: Request) -> str | None:
    headers = request.headers.getlist("link")
    found = []
    for header in headers:
        for part in re.split(r",(?=\s*<)", header):
            match = re.match(r"\s*<([^>]*)>(.*)", part)
            if match and re.search(r'rel\s*=\s*"?' + re.escape(CONTEXT_REL) + r'"?', match.group(2)):
                found.append(match.group(1).strip())
    if len(found) > 1:
        raise BadRequestData("Only one JSON-LD @context Link header is allowed")
    if found and not re.fullmatch(r"https?://\S+", found[0]):
        raise BadRequestData("The @context Link must be an http(s) URL")
    return found[0] if found else None


async def json_body(request: Request) -> Body:
    """The parsed body with its @context; 415 for other media types, 400 for bad JSON."""
    return await _read_body(request, plain_context_allowed=False)


async def context_document_body(request: Request) -> Body:
    """The body of POST /jsonldContexts: an @context document, whatever the JSON media type."""
    return await _read_body(request, plain_context_allowed=True)


async def _read_body(request: Request, *, plain_context_allowed: bool) -> Body:
    kind = media_type(request.headers.get("content-type"))
    if kind not in (JSON, JSON_LD, MERGE_PATCH):
        raise UnsupportedMediaType(f"Send application/json or application/ld+json, not {kind or 'nothing'!r}")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequestData("The body is too large")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidRequest("The body is not valid JSON") from None
    link = link_context(request)
    if plain_context_allowed:
        return Body(data, None)
    if kind == JSON_LD:
        if link is not None:
            raise BadRequestData("With application/ld+json the @context goes in the body, not in a Link header")
        if isinstance(data, list):
            # a batch: each entity carries its @context, one without fails alone (see api_ops)
            contexts = [item.get("@context") for item in data if isinstance(item, dict)]
            return Body(data, next((c for c in contexts if c is not None), None), JSON_LD)
        if not isinstance(data, dict):
            return Body(data, None, JSON_LD)  # the operation itself rejects the shape
        if data.get("@context") is None:
            raise BadRequestData("application/ld+json bodies need an @context")
        return Body(data, data["@context"], JSON_LD)
    if isinstance(data, dict) and "@context" in data:
        raise BadRequestData("With application/json the @context goes in a Link header, not in the body")
    return Body(data, link, kind)


JsonBody = Annotated[Body, Depends(json_body)]
ContextDocumentBody = Annotated[Body, Depends(context_document_body)]


def query_context(request: Request) -> Any:
    return link_context(request)


def _processor(request: Request) -> ContextProcessor:
    state = request.app.state
    if not hasattr(state, "ngsi_contexts"):
        state.ngsi_contexts = ContextProcessor()
    return state.ngsi_contexts


_LOCAL_CONTEXT = re.compile(r"/ngsi-ld/v1/jsonldContexts/([^/?#]+)")


def term_map(request: Request, session: Session, context: Any) -> TermMap:
    """The term map of ``context`` (documents from the database, then the network, cached)."""
    here = request.url.netloc

    def source(url: str) -> dict[str, Any] | None:
        parts = urlsplit(url)
        match = _LOCAL_CONTEXT.fullmatch(parts.path)
        if match and parts.netloc == here:
            row = session.get(NgsiContext, unquote(match.group(1)))
            if row is None:
                return None
            return row.body
        try:
            cached = session.scalars(select(NgsiContext).where(NgsiContext.url == url)).first()
        except SQLAlchemyError:
            cached = None
        if cached is not None:
            return cached.body
        settings = request.app.state.settings
        document = mirrored(settings.ngsi_ld_context_mirror, url)
        if document is not None:
            return document
        if not settings.ngsi_ld_fetch_contexts:
            raise LdContextNotAvailable(f"The @context {url} is not registered and fetching contexts is turned off")
        document = fetch_remote(url)
        if len(url) <= 2048:
            session.add(NgsiContext(id=new_id(), kind="cached", url=url, body=document))
        return document

    return _processor(request).term_map(context, source)


def forget_context(request: Request, url: str) -> None:
    _processor(request).forget(url)


# --- answers -------------------------------------------------------------------------------------


def accepted(request: Request, *, geo: bool = True) -> str:
    """The media type to answer with (406 when the client accepts none of ours)."""
    header = request.headers.get("accept", "").strip()
    if not header:
        return JSON
    offers = [JSON, JSON_LD] + ([GEO_JSON] if geo else [])
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        kind = pieces[0].lower()
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if kind in ("*/*", "application/*"):
            choices.append((quality, index, JSON))
        elif kind in offers:
            choices.append((quality, index, kind))
    if not choices:
        raise NotAcceptable("Accept application/json, application/ld+json" + (" or application/geo+json"
                                                                              if geo else ""))
    choices.sort(key=lambda c: (-c[0], c[1]))
    return choices[0][2]


def context_link(context: Any) -> str:
    url = context if isinstance(context, str) else CORE_CONTEXT_URL
    return f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'


def answer(
    body: Any, *, kind: str, context: Any, status: int = 200, headers: dict[str, str] | None = None,
) -> Response:
    """A JSON answer in ``kind``; @context in the body (ld+json) or in a Link header."""
    out_headers = dict(headers or {})
    if kind == JSON_LD:
        value = context if context is not None else CORE_CONTEXT_URL
        if isinstance(body, list):
            body = [{**item, "@context": value} for item in body]
        elif isinstance(body, dict) and body.get("type") != "FeatureCollection":
            body = {**body, "@context": value}
    elif kind == GEO_JSON:
        # GeoJSON has no Link header convention of its own: the Feature or FeatureCollection carries
        # the @context (clause 4.5.16), the Link header is sent as well.
        if isinstance(body, dict):
            body = {**body, "@context": context if context is not None else CORE_CONTEXT_URL}
        out_headers["Link"] = context_link(context)
    else:
        out_headers["Link"] = context_link(context)
    return JSONResponse(body, status_code=status, media_type=kind, headers=out_headers)
