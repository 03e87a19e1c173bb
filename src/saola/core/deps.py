"""FastAPI dependencies shared by every router: the database session, the caller, CSRF, language.

The database session is the request's unit of work: it commits after the handler returns
(before the response is sent) and rolls back on any error; events queued during the
request are published after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from saola.core.audit.service import ActorInfo, set_actor
from saola.core.auth import service as auth
from saola.core.auth.service import Principal
from saola.core.db import (
    AFTER_TRANSACTION,
    WRITER_WAIT_SECONDS,
    take_committed_events,
    unit_of_work,
    utcnow,
    write_intent,
    writer_lock,
)
from saola.core.errors import CsrfFailed, NotAuthenticated, PermissionDenied
from saola.core.i18n import choose_language, parse_accept_language
from saola.core.settings import Settings

log = logging.getLogger("saola.core")

SESSION_COOKIE = "saola_session"
CSRF_COOKIE = "saola_csrf"
LANG_COOKIE = "saola_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(NotAuthenticated):
    """Raised by page dependencies; rendered as a redirect to the sign-in page."""


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "")


# ``session.info`` keys of the request's session
_REQUEST = "saola_request"
_ENDED = "saola_request_ended"
_BEGIN_WRITING = "saola_begin_writing"
_WRITER_LOCK = "saola_writer_lock"


async def db_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed after the handler returns, rolled back on any error.

    Async on purpose: creating a session does no I/O, so it costs no trip to the thread pool. The
    handlers of a :class:`saola.core.session_route.SessionRoute` end the session themselves, in the
    thread they already run in; for the others it ends here, in one thread-pool call.
    """
    factory = request.app.state.session_factory
    session: Session = factory()
    set_actor(session, ActorInfo(None, "anonymous", request_id(request), client_ip(request)))
    session.info[AFTER_TRANSACTION] = []
    session.info[_REQUEST] = request
    request.scope["saola_loop"] = asyncio.get_running_loop()
    try:
        if request.method in UNSAFE_METHODS and session.get_bind().dialect.name == "sqlite":
            if getattr(request.scope.get("route"), "begins_in_handler", False):
                session.info[_BEGIN_WRITING] = True  # in the handler's thread: the lock is held no longer
            else:
                await run_in_threadpool(begin_writing, session)
        yield session
    except BaseException:
        if not session.info.get(_ENDED):
            events = await run_in_threadpool(end_request_session, session, failed=True)
            await _publish(request, events)
        raise
    if not session.info.get(_ENDED):
        events = await run_in_threadpool(end_request_session, session)
        await _publish(request, events)


def begin_writing(session: Session, *, queue: bool = False) -> None:
    """Begin the request's transaction now when it will write on SQLite (see :func:`db_session`).

    With ``queue`` (only when the same thread goes on to end the session, as a SessionRoute handler does:
    a thread-pool thread waiting for the lock must never be the one its holder needs), the writers of
    this process queue on :func:`saola.core.db.writer_lock` first.
    """
    session.info.pop(_BEGIN_WRITING, None)
    if session.in_transaction():  # (the caller's token was looked up: that read is over)
        session.commit()
    if queue:
        lock = writer_lock(session.get_bind())  # type: ignore[arg-type]
        if lock.acquire(timeout=WRITER_WAIT_SECONDS):  # (if not had in time, SQLite's busy handler decides)
            session.info[_WRITER_LOCK] = lock
    # Begin now, taking SQLite's write lock (BEGIN IMMEDIATE): a transaction that reads and
    # then writes would otherwise fail outright if another writer committed in between.
    # Only this session: background tasks and other sessions keep plain BEGIN.
    with write_intent():
        session.connection()


def wants_writing(session: Session) -> bool:
    return bool(session.info.get(_BEGIN_WRITING))


def request_session_of(session: object) -> Request | None:
    """The request whose unit of work ``session`` is (None for any other session)."""
    if isinstance(session, Session) and not session.info.get(_ENDED):
        return session.info.get(_REQUEST)
    return None


def end_request_session(session: Session, *, failed: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """Commit the request's session (roll back when ``failed`` or when the commit fails), close it and make
    the writes queued for after its transaction; the committed events, for the caller to publish."""
    request: Request = session.info[_REQUEST]
    session.info[_ENDED] = True
    after_transaction: list[Callable[[Session], None]] = session.info.get(AFTER_TRANSACTION, [])
    try:
        if failed:
            _rollback_keeping_caller(request, session)
        else:
            try:
                session.commit()
            except BaseException:
                _rollback_keeping_caller(request, session)
                raise
    finally:
        events = take_committed_events(session)
        session.close()
        lock = session.info.pop(_WRITER_LOCK, None)
        if lock is not None:
            lock.release()
        for write in after_transaction:
            with unit_of_work(request.app.state.session_factory) as side:
                write(side)
    return events


async def _publish(request: Request, events: list[tuple[str, dict[str, Any]]]) -> None:
    bus = request.app.state.event_bus
    for topic, payload in events:
        await bus.publish(topic, payload)


def publish_from_thread(request: Request, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Hand ``events`` to the app's bus from a thread-pool thread, without waiting for the event loop.

    They are published in order by one task; the handler's answer does not wait for it (the change is
    committed already). A failure to publish is logged.
    """
    if events:
        loop: asyncio.AbstractEventLoop = request.scope["saola_loop"]
        loop.call_soon_threadsafe(_publish_in_background, request, events)


def _publish_in_background(request: Request, events: list[tuple[str, dict[str, Any]]]) -> None:
    task = asyncio.ensure_future(_publish(request, events))
    _PUBLISHING.add(task)
    task.add_done_callback(_published)


_PUBLISHING: set[asyncio.Future[None]] = set()  # (the loop keeps only weak references to tasks)


def _published(task: asyncio.Future[None]) -> None:
    _PUBLISHING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("publishing a request's events failed", exc_info=task.exception())


def _rollback_keeping_caller(request: Request, session: Session) -> None:
    """Roll back, leaving the signed-in user readable by the error answer (language, name, agency).

    Normally the objects are detached first, so that the rollback does not expire them. A failed
    flush (a value the database refused) has already expired them: then the user is reloaded
    after the rollback, before detaching.
    """
    principal = getattr(request.state, "principal", None)
    user = principal.user if principal is not None else None
    if user is None or not inspect(user).expired_attributes:
        session.expunge_all()
        session.rollback()
        return
    session.rollback()
    with contextlib.suppress(SQLAlchemyError):  # the database is gone too: the answer falls back to defaults
        session.refresh(user)
    session.expunge_all()


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def csrf_token_for(request: Request) -> str:
    """The token a form must echo: an HMAC of the browser's CSRF cookie (double submit)."""
    cookie = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not cookie:
        cookie = secrets.token_urlsafe(24)
        request.state.new_csrf_cookie = cookie
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, cookie.encode(), hashlib.sha256).hexdigest()


async def verify_csrf(request: Request) -> None:
    """Unsafe requests from a browser must carry the CSRF token (form field or header)."""
    if request.method not in UNSAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except Exception as exc:  # malformed multipart: treat as a bad form
                raise CsrfFailed() from exc
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(sent, csrf_token_for(request)):
        raise CsrfFailed()


def _principal(request: Request, session: Session) -> Principal | None:
    if hasattr(request.state, "principal"):
        return request.state.principal
    now = utcnow()
    principal: Principal | None = None
    secret = _bearer(request)
    if secret is not None:
        found = auth.resolve_token(session, secret=secret, now=now)
        if found is None:
            raise NotAuthenticated("The API token is unknown, revoked or expired")
        user, token = found
        principal = auth.principal_for(user, token=token)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        user = auth.resolve_session(session, cookie=cookie, now=now) if cookie else None
        if user is not None:
            principal = auth.principal_for(user)
    if principal is not None:
        set_actor(
            session,
            ActorInfo(principal.user.id, principal.user.username, request_id(request), client_ip(request)),
        )
    request.state.principal = principal
    return principal


async def resolved_principal(request: Request, session: DbSession) -> Principal | None:
    """The caller, or ``None`` when anonymous (a token or a session cookie is looked up in the thread pool)."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    if _bearer(request) is None and not request.cookies.get(SESSION_COOKIE):
        request.state.principal = None
        return None
    return await run_in_threadpool(_principal, request, session)


ResolvedPrincipal = Annotated[Principal | None, Depends(resolved_principal)]


async def optional_principal(request: Request, principal: ResolvedPrincipal) -> Principal | None:
    if principal is not None and principal.via == "session":
        await verify_csrf(request)
    return principal


async def api_principal(request: Request, principal: ResolvedPrincipal) -> Principal:
    """The caller of a JSON API: a bearer token or a browser session (with CSRF on writes)."""
    if principal is None:
        raise NotAuthenticated("Sign in or send 'Authorization: Bearer <token>'")
    if principal.via == "session":
        await verify_csrf(request)
    return principal


async def page_principal(request: Request, principal: ResolvedPrincipal) -> Principal:
    """The signed-in staff user of a console page; anonymous users are sent to sign in."""
    if principal is None or principal.via != "session":
        raise LoginRequired()
    if not principal.can("console:access"):
        raise PermissionDenied()
    await verify_csrf(request)
    return principal


def require(permission: str, *, page: bool = False):
    """A dependency giving the caller if they hold ``permission`` (403 otherwise)."""
    base = page_principal if page else api_principal

    async def _dependency(principal: Principal = Depends(base)) -> Principal:
        if not principal.can(permission):
            raise PermissionDenied("This needs the permission '{permission}'", permission=permission)
        return principal

    return _dependency


def request_language(request: Request) -> str:
    """The language of this request (see :mod:`saola.core.i18n`)."""
    if hasattr(request.state, "lang"):
        return request.state.lang
    principal = getattr(request.state, "principal", None)
    # Read without loading: an error answer may come after a failed transaction expired the user.
    user_lang = inspect(principal.user).dict.get("language") if principal is not None else None
    lang = choose_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        user_lang,
        parse_accept_language(request.headers.get("accept-language")),
        default=request.app.state.settings.default_language,
    )
    request.state.lang = lang
    return lang
