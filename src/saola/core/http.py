"""HTTP plumbing shared by every router: request ids, access logs, error rendering.

JSON APIs answer errors as RFC 9457 problem+json with a stable ``code``; pages answer
with a friendly, translated error page. Any unexpected exception is logged with the
request id and answered as a problem (never a bare 500 page with a traceback).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from saola.core.deps import CSRF_COOKIE, LoginRequired, request_language
from saola.core.errors import PROBLEM_JSON, DomainError, InvalidValue, ValidationFailed, problem
from saola.core.i18n import gettext
from saola.core.logs import current_request_id

log = logging.getLogger("saola.http")

JSON_PREFIXES = ("/api/", "/ngsi-ld/", "/open311/", "/iot/", "/healthz", "/readyz", "/openapi.json")


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(JSON_PREFIXES):
        return True
    if request.headers.get("hx-request"):
        return False
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


class RequestContextMiddleware:
    """Gives each request an id (``X-Request-ID``), logs it, and sets the CSRF cookie if new."""

    def __init__(self, app: ASGIApp, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = current_request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", rid.encode()))
                new_cookie = scope["state"].get("new_csrf_cookie")
                if new_cookie:
                    flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure_cookies else "")
                    headers.append((b"set-cookie", f"{CSRF_COOKIE}={new_cookie}{flags}".encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            current_request_id.reset(token)


def _render_error(
    request: Request, *, status: int, code: str, title: str, detail: str,
    errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> Response:
    lang = request_language(request)
    title_t = gettext(lang, title)
    detail_t = gettext(lang, detail, **(params or {}))
    headers = {**(headers or {}), "X-Request-ID": getattr(request.state, "request_id", "")}
    if wants_json(request):
        body = problem(status=status, code=code, title=title_t, detail=detail_t, errors=errors,
                       instance=request.url.path)
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    from saola.web.templating import render

    return render(
        request,
        "error.html",
        {"status": status, "code": code, "title": title_t, "detail": detail_t, "errors": errors or []},
        status_code=status,
        headers=headers,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form", "header")]
        out.append({"field": ".".join(loc) or str(err.get("loc", ("?",))[0]), "message": err.get("msg", "")})
    return out


# Client values the database driver cannot take: SQLite's 64-bit integer limit, ``datetime``
# arithmetic beyond year 1..9999, lone surrogates in text. PostgreSQL reports the same as DataError.
_BAD_VALUE_CAUSES = (OverflowError, UnicodeEncodeError)


def is_bad_value(exc: BaseException) -> bool:
    """Whether ``exc`` means "a value in the request cannot be stored", rather than a fault of ours."""
    if isinstance(exc, DataError):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return isinstance(exc.orig, _BAD_VALUE_CAUSES)
    return isinstance(exc, _BAD_VALUE_CAUSES)


# Lock waits that ran out: SQLite's busy timeout, PostgreSQL's lock timeout, deadlock and
# serialization failures. The transaction was rolled back, so the client may simply retry.
_BUSY_SQLSTATES = {"40001", "40P01", "55P03"}


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database was too busy", rather than bad input or a fault of ours."""
    if not isinstance(exc, OperationalError):
        return False
    if exc.connection_invalidated:  # the server went away (restart, failover): the pool reconnects, retry
        return True
    if "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig):
        return True
    return getattr(exc.orig, "sqlstate", None) in _BUSY_SQLSTATES


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request):
            return _render_error(request, status=401, code=exc.code, title=exc.title, detail=exc.detail)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        errors = getattr(exc, "errors", None)
        if errors is None and exc.field:
            message = gettext(request_language(request), exc.template, **exc.params)
            errors = [{"field": exc.field, "message": message}]
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _render_error(
            request, status=exc.status, code=exc.code, title=exc.title, detail=exc.template,
            errors=errors, headers=headers, params=exc.params,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        fields = ", ".join(e["field"] for e in errors)
        return _render_error(
            request, status=422, code=ValidationFailed.code, title=ValidationFailed.title,
            detail="Check these fields: {fields}", errors=errors, params={"fields": fields},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(exc.status_code, "http-error")
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "The request cannot be processed")
        return _render_error(
            request, status=exc.status_code, code=code, title=title, detail=str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        log.warning("integrity error", extra={"path": request.url.path, "error": str(exc.orig)[:300]})
        return _render_error(
            request, status=409, code="conflict", title="The request conflicts with the current state",
            detail="The change conflicts with existing data (a duplicate or a missing reference).",
        )

    @app.exception_handler(StatementError)
    @app.exception_handler(OverflowError)
    async def _bad_value(request: Request, exc: Exception) -> Response:
        if is_busy(exc):
            log.warning("database busy", extra={"path": request.url.path, "error": str(exc)[:300]})
            return _render_error(
                request, status=503, code="database-busy", title="The service is busy",
                detail="The database is busy with other changes; nothing was changed. Try again in a moment.",
                headers={"Retry-After": "1"},
            )
        if not is_bad_value(exc):
            return await _unexpected(request, exc)
        cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
        log.warning("value rejected by the database", extra={"path": request.url.path, "error": str(cause)[:300]})
        return _render_error(
            request, status=InvalidValue.status, code=InvalidValue.code, title=InvalidValue.title,
            detail="A number, date or text in the request is out of range or contains characters that cannot "
            "be stored.",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", extra={"path": request.url.path}, exc_info=exc)
        return _render_error(
            request, status=500, code="internal-error", title="Internal error",
            detail="Something went wrong on our side; the error was logged with the request id.",
        )
