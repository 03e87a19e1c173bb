"""FastAPI dependencies shared by every router: the database session, the caller, CSRF, language.

The database session is the request's unit of work: it commits after the handler returns
(before the response is sent) and rolls back on any error; events queued during the
request are published after the commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

from anyio import from_thread
from fastapi import Depends, Request
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from saola.core.audit.service import ActorInfo, set_actor
from saola.core.auth import service as auth
from saola.core.auth.service import Principal
from saola.core.db import AFTER_TRANSACTION, take_committed_events, unit_of_work, utcnow, write_intent
from saola.core.errors import CsrfFailed, NotAuthenticated, PermissionDenied
from saola.core.i18n import choose_language, parse_accept_language
from saola.core.settings import Settings

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


def db_session(request: Request) -> Iterator[Session]:
    factory = request.app.state.session_factory
    session: Session = factory()
    set_actor(session, ActorInfo(None, "anonymous", request_id(request), client_ip(request)))
    after_transaction: list[Callable[[Session], None]] = []
    session.info[AFTER_TRANSACTION] = after_transaction
    try:
        if request.method in UNSAFE_METHODS and session.get_bind().dialect.name == "sqlite":
            # Begin now, taking SQLite's write lock (BEGIN IMMEDIATE): a transaction that reads and
            # then writes would otherwise fail outright if another writer committed in between.
            # Only this session: background tasks and other sessions keep plain BEGIN.
            with write_intent():
                session.connection()
        yield session
        session.commit()
    except BaseException:
        _rollback_keeping_caller(request, session)
        raise
    finally:
        events = take_committed_events(session)
        session.close()
        for write in after_transaction:
            with unit_of_work(factory) as side:
                write(side)
        bus = request.app.state.event_bus
        for topic, payload in events:
            from_thread.run(bus.publish, topic, payload)


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


def resolved_principal(request: Request, session: DbSession) -> Principal | None:
    """The caller, or ``None`` when anonymous (sync: the lookup runs in the thread pool)."""
    return _principal(request, session)


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
