"""Sign-in, sign-out and language pages of the web shell."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from saola.core.auth import service
from saola.core.auth.errors import InvalidCredentials, LoginThrottled
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    DbSession,
    client_ip,
    optional_principal,
    verify_csrf,
)
from saola.core.i18n import LANGUAGES
from saola.core.settings import Settings
from saola.web.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if not target:
        return "/console"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/console"
    return target


def set_session_cookie(response: Response, cookie: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE, cookie, max_age=settings.session_hours * 3600, httponly=True,
        secure=settings.secure_cookies, samesite="lax", path="/",
    )


def set_language_cookie(response: Response, lang: str) -> None:
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")


def _without_lang(target: str) -> str:
    """``target`` without a ``lang`` query parameter (it would override the new choice)."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return parts.path + (f"?{urlencode(query)}" if query else "")


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "auth/login.html", {"next": _safe_next(next), "error": None, "username": ""})


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    settings = request.app.state.settings
    now = utcnow()
    try:
        user = service.authenticate(
            session, username=username, password=password, ip=client_ip(request), now=now,
            max_failures=settings.login_max_failures,
            lockout=timedelta(minutes=settings.login_lockout_minutes),
        )
    except (InvalidCredentials, LoginThrottled) as exc:
        return render(
            request, "auth/login.html",
            {"next": _safe_next(next), "error": exc.title, "username": username},
            status_code=exc.status,
        )
    cookie = service.start_session(
        session, user=user, now=now, hours=settings.session_hours, ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, cookie, settings)
    if user.language:
        set_language_cookie(response, user.language)
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, session: DbSession) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.end_session(session, cookie=cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language", dependencies=[Depends(verify_csrf)])
def set_language(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    lang: Annotated[str, Form(pattern="^(vi|en)$")],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Switch the interface language (remembered in a cookie and, when signed in, on the user)."""
    if lang in LANGUAGES and principal is not None and principal.via == "session":
        service.update_user(session, user=principal.user, language=lang)
    target = _without_lang(_safe_next(next) if next != "/" else "/")
    response = RedirectResponse(target, status_code=303)
    set_language_cookie(response, lang)
    return response
