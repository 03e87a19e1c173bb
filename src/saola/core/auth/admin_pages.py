"""Console pages of accounts: my account (profile, password, API tokens) and user administration.

Thin handlers over :mod:`saola.core.auth.service`, the same functions the JSON API uses.
A rejected form is shown again with the error next to its field and a 4xx status; the
transaction is rolled back first so that nothing of it is saved.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from saola.core.auth import service
from saola.core.auth.errors import InvalidCredentials
from saola.core.auth.pages import set_language_cookie, set_session_cookie
from saola.core.auth.permissions import ROLES, permissions_for
from saola.core.auth.service import Principal
from saola.core.db import utcnow
from saola.core.deps import DbSession, client_ip, page_principal, require
from saola.core.directory import service as directory
from saola.core.errors import BadRequest, DomainError
from saola.web.templating import NavItem, form_error, register_nav, render

router = APIRouter()
register_nav(NavItem("/console/users", "Users", icon="users", permission="users:read", order=80))

Staff = Annotated[Principal, Depends(page_principal)]
UserReader = Annotated[Principal, Depends(require("users:read", page=True))]
UserManager = Annotated[Principal, Depends(require("users:manage", page=True))]

Text = Annotated[str, Form(max_length=200)]
Name = Annotated[str, Form(max_length=120)]
Phone = Annotated[str, Form(max_length=40)]
Password = Annotated[str, Form(max_length=200)]

# ``?done=<key>`` after a redirect shows one of these (never text taken from the URL).
NOTICES = {
    "profile-saved": "Your details were saved",
    "password-changed": "Your password was changed; your other sessions were signed out",
    "token-revoked": "The token was revoked",
    "user-created": "The user was created",
    "user-saved": "The changes were saved",
    "user-disabled": "The user was disabled and signed out everywhere",
    "user-enabled": "The user was enabled",
    "password-reset": "The password was reset; the user was signed out everywhere",
}


def _to(path: str, key: str) -> RedirectResponse:
    """Back to ``path`` (GET), with the notice ``NOTICES[key]`` shown once."""
    return RedirectResponse(f"{path}?done={key}", status_code=303)


def _notice(done: str | None) -> str | None:
    return NOTICES.get(done or "")


def _agency_id(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise BadRequest("Choose an agency from the list", field="agency_id")
    return int(raw)


def _failed(request: Request, session: Session, exc: DomainError) -> dict[str, str]:
    """Undo everything of the rejected form and describe the error for the page."""
    session.rollback()
    return form_error(request, exc)


# --- my account ------------------------------------------------------------


def _account(
    request: Request, session: Session, principal: Principal, *, status: int = 200, **extra: Any
) -> Response:
    user = principal.user
    context = {
        "tokens": service.list_tokens(session, user=user),
        "scopes": sorted(permissions_for(user.role)),
        "notice": None,
        "error": None,
        "section": None,
        "new_token": None,
        **extra,
    }
    return render(request, "account/account.html", context, status_code=status)


@router.get("/console/account")
def account_page(request: Request, session: DbSession, principal: Staff, done: str | None = None) -> Response:
    return _account(request, session, principal, notice=_notice(done))


@router.post("/console/account")
def save_profile(
    request: Request, session: DbSession, principal: Staff,
    full_name: Name = "", email: Text = "", phone: Phone = "",
    language: Annotated[str, Form(pattern="^(vi|en)$")] = "vi",
) -> Response:
    service.update_user(session, user=principal.user, full_name=full_name.strip(), email=email.strip(),
                        phone=phone.strip(), language=language)
    response = _to("/console/account", "profile-saved")
    set_language_cookie(response, language)
    return response


@router.post("/console/account/password")
def change_password(
    request: Request, session: DbSession, principal: Staff,
    current_password: Password = "", new_password: Password = "", confirm_password: Password = "",
) -> Response:
    """Change my own password: the current one is checked (and throttled) like a sign-in."""
    settings = request.app.state.settings
    now = utcnow()
    user = principal.user
    try:
        if new_password != confirm_password:
            raise BadRequest("The two new passwords do not match", field="confirm_password")
        try:
            service.authenticate(
                session, username=user.username, password=current_password, ip=client_ip(request), now=now,
                max_failures=settings.login_max_failures, lockout=timedelta(minutes=settings.login_lockout_minutes),
            )
        except InvalidCredentials as exc:
            raise BadRequest("The current password is wrong", field="current_password") from exc
        service.set_password(session, user=user, password=new_password)
    except DomainError as exc:
        error = _failed(request, session, exc)
        return _account(request, session, principal, status=exc.status, error=error, section="password")
    # Every session was ended by the change; this browser gets a new one.
    cookie = service.start_session(session, user=user, now=now, hours=settings.session_hours,
                                   ip=client_ip(request), user_agent=request.headers.get("user-agent", ""))
    response = _to("/console/account", "password-changed")
    set_session_cookie(response, cookie, settings)
    return response


@router.post("/console/account/tokens")
def create_token(
    request: Request, session: DbSession, principal: Staff,
    name: Name = "", scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create an API token; its secret is in this response only."""
    try:
        token, secret = service.create_token(session, user=principal.user, scopes=scopes or [], name=name.strip())
    except DomainError as exc:
        error = _failed(request, session, exc)
        return _account(request, session, principal, status=exc.status, error=error, section="tokens")
    return _account(request, session, principal, status=201, new_token={"token": token, "secret": secret},
                    section="tokens")


@router.post("/console/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, session: DbSession, principal: Staff) -> Response:
    service.revoke_token(session, token_id=token_id, user=principal.user)
    return _to("/console/account", "token-revoked")


# --- user administration ---------------------------------------------------


def _users(
    request: Request, session: Session, *, status: int = 200, **extra: Any
) -> Response:
    context = {
        "users": service.list_users(session),
        "agencies": directory.list_agencies(session),
        "role_codes": ROLES,
        "form": {},
        "error": None,
        "notice": None,
        **extra,
    }
    return render(request, "users/list.html", context, status_code=status)


def _user_page(request: Request, session: Session, *, user_id: int, status: int = 200, **extra: Any) -> Response:
    context = {
        "subject": service.get_user_by_id(session, user_id=user_id),
        "agencies": directory.list_agencies(session),
        "role_codes": ROLES,
        "error": None,
        "section": None,
        "notice": None,
        **extra,
    }
    return render(request, "users/edit.html", context, status_code=status)


@router.get("/console/users")
def users_page(request: Request, session: DbSession, _: UserReader, done: str | None = None) -> Response:
    return _users(request, session, notice=_notice(done))


@router.post("/console/users")
def create_user(
    request: Request, session: DbSession, _: UserManager,
    username: Annotated[str, Form(max_length=64)] = "", password: Password = "",
    role: Annotated[str, Form(max_length=20)] = "", agency_id: Annotated[str, Form(max_length=12)] = "",
    full_name: Name = "", email: Text = "", phone: Phone = "",
) -> Response:
    form = {"username": username, "role": role, "agency_id": agency_id, "full_name": full_name,
            "email": email, "phone": phone}
    try:
        user = service.create_user(
            session, username=username, password=password, role=role, agency_id=_agency_id(agency_id),
            full_name=full_name.strip(), email=email.strip(), phone=phone.strip(),
        )
    except DomainError as exc:
        error = _failed(request, session, exc)
        return _users(request, session, status=exc.status, form=form, error=error)
    return _to(f"/console/users/{user.id}", "user-created")


@router.get("/console/users/{user_id}")
def user_page(
    request: Request, session: DbSession, _: UserReader, user_id: int, done: str | None = None
) -> Response:
    return _user_page(request, session, user_id=user_id, notice=_notice(done))


@router.post("/console/users/{user_id}")
def update_user(
    request: Request, session: DbSession, _: UserManager, user_id: int,
    role: Annotated[str, Form(max_length=20)] = "", agency_id: Annotated[str, Form(max_length=12)] = "",
    full_name: Name = "", email: Text = "", phone: Phone = "",
) -> Response:
    user = service.get_user_by_id(session, user_id=user_id)
    try:
        service.update_user(
            session, user=user, role=role or None, agency_id=_agency_id(agency_id),
            full_name=full_name.strip(), email=email.strip(), phone=phone.strip(),
        )
    except DomainError as exc:
        error = _failed(request, session, exc)
        return _user_page(request, session, user_id=user_id, status=exc.status, error=error, section="details")
    return _to(f"/console/users/{user_id}", "user-saved")


@router.post("/console/users/{user_id}/active")
def set_active(
    request: Request, session: DbSession, principal: UserManager, user_id: int,
    active: Annotated[str, Form(pattern="^[01]$")] = "0",
) -> Response:
    user = service.get_user_by_id(session, user_id=user_id)
    if user.id == principal.id and active == "0":
        exc = BadRequest("You cannot disable your own account", field="active")
        return _user_page(request, session, user_id=user_id, status=exc.status,
                          error=form_error(request, exc), section="status")
    service.update_user(session, user=user, active=active == "1")
    return _to(f"/console/users/{user_id}", "user-enabled" if active == "1" else "user-disabled")


@router.post("/console/users/{user_id}/password")
def reset_password(
    request: Request, session: DbSession, _: UserManager, user_id: int,
    password: Password = "", confirm_password: Password = "",
) -> Response:
    user = service.get_user_by_id(session, user_id=user_id)
    try:
        if password != confirm_password:
            raise BadRequest("The two new passwords do not match", field="confirm_password")
        service.set_password(session, user=user, password=password)
    except DomainError as exc:
        error = _failed(request, session, exc)
        return _user_page(request, session, user_id=user_id, status=exc.status, error=error, section="password")
    return _to(f"/console/users/{user_id}", "password-reset")
