"""Use cases of authentication: users, sign-in with throttling, browser sessions, API tokens.

Every function takes the session first and keyword arguments after; none commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from saola.core.audit import service as audit
from saola.core.auth import passwords
from saola.core.auth.errors import (
    AgencyRequired,
    InvalidCredentials,
    LoginThrottled,
    ScopeNotAllowed,
    UnknownRole,
    UnknownToken,
    UnknownUser,
    UserExists,
    WeakPassword,
)
from saola.core.auth.models import ApiToken, BrowserSession, LoginFailure, User
from saola.core.auth.permissions import ROLES, check_scopes, permissions_for
from saola.core.db import AFTER_TRANSACTION
from saola.core.directory.models import Agency
from saola.core.errors import BadRequest

TOKEN_PREFIX = "saola_"
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request: a user, how they signed in, and what they may do."""

    user: User
    permissions: frozenset[str]
    via: str  # "session" | "token"
    token: ApiToken | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def agency_id(self) -> int | None:
        return self.user.agency_id

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def sees_all_agencies(self) -> bool:
        return self.can("agencies:all")


def principal_for(user: User, *, token: ApiToken | None = None) -> Principal:
    perms = permissions_for(user.role)
    if token is not None and token.scopes:
        perms = perms & frozenset(token.scopes)
    return Principal(user=user, permissions=perms, via="token" if token else "session", token=token)


# --- users -----------------------------------------------------------------


def _validate_user_fields(session: Session, role: str, agency_id: int | None) -> None:
    if role not in ROLES:
        raise UnknownRole("Unknown role '{role}'; choose one of {roles}", field="role", role=role,
                          roles=", ".join(ROLES))
    if role != "admin" and agency_id is None:
        raise AgencyRequired(field="agency_id")
    if agency_id is not None and session.get(Agency, agency_id) is None:
        raise BadRequest("No agency with id {agency_id}", field="agency_id", agency_id=agency_id)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    agency_id: int | None,
    full_name: str = "",
    email: str = "",
    phone: str = "",
) -> User:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise BadRequest(
            "Username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'", field="username"
        )
    _validate_user_fields(session, role, agency_id)
    problem = passwords.policy_problem(password)
    if problem:
        raise WeakPassword(problem, field="password")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserExists(field="username")
    user = User(
        username=username,
        password_hash=passwords.hash_password(password),
        role=role,
        agency_id=agency_id,
        full_name=full_name,
        email=email,
        phone=phone,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise UnknownUser("No user named '{username}'", username=username)
    return user


def get_user_by_id(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser("No user with id {user_id}", user_id=user_id)
    return user


def list_users(session: Session, *, include_inactive: bool = True) -> list[User]:
    stmt = select(User).order_by(User.username)
    if not include_inactive:
        stmt = stmt.where(User.active.is_(True))
    return list(session.scalars(stmt))


def update_user(
    session: Session,
    *,
    user: User,
    role: str | None = None,
    agency_id: int | None = None,
    full_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    active: bool | None = None,
    language: str | None = None,
) -> User:
    new_role = role if role is not None else user.role
    new_agency = agency_id if agency_id is not None else user.agency_id
    if role is not None or agency_id is not None:
        _validate_user_fields(session, new_role, new_agency)
    user.role, user.agency_id = new_role, new_agency
    if full_name is not None:
        user.full_name = full_name
    if email is not None:
        user.email = email
    if phone is not None:
        user.phone = phone
    if language is not None:
        user.language = language
    if active is not None:
        user.active = active
        if not active:  # a disabled user is signed out everywhere and loses their tokens
            session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))
            for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
                token.revoked = True
    session.flush()
    return user


def set_password(session: Session, *, user: User, password: str) -> User:
    problem = passwords.policy_problem(password)
    if problem:
        raise WeakPassword(problem, field="password")
    user.password_hash = passwords.hash_password(password)
    session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))
    session.flush()
    return user


# --- sign-in ---------------------------------------------------------------


def _recent_failures(session: Session, *, column: object, value: str, since: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(LoginFailure).where(column == value, LoginFailure.at >= since)
    ) or 0


def _record_failure(session: Session, *, username_key: str, user: User | None, ip: str, now: datetime) -> None:
    # Its own transaction: the request rolls back on the error, the failure must stay counted.
    # What was typed as a username is never stored in clear (people type passwords there).
    actor = session.info.get("actor", audit.SYSTEM)

    def write(side: Session) -> None:
        side.info["actor"] = actor
        side.add(LoginFailure(username=username_key, ip=ip[:64], at=now))
        audit.record(side, action="login-failed", object_type="users", object_id=str(user.id) if user else "",
                     after=None if user else {"known_user": False})

    after_request = session.info.get(AFTER_TRANSACTION)
    if after_request is not None:
        # A request's session (saola.core.deps.db_session) may hold SQLite's write lock until it
        # ends, so a second transaction now would wait for it forever: write once it has ended.
        after_request.append(write)
        return
    with Session(bind=session.get_bind()) as side:
        write(side)
        side.commit()


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    ip: str,
    now: datetime,
    max_failures: int,
    lockout: timedelta,
) -> User:
    """The active user with these credentials; failures are counted and throttled."""
    username = username.strip().lower()
    username_key = _hash_secret(username)
    since = now - lockout
    if (
        _recent_failures(session, column=LoginFailure.username, value=username_key, since=since) >= max_failures
        or _recent_failures(session, column=LoginFailure.ip, value=ip, since=since) >= max_failures * 4
    ):
        raise LoginThrottled()
    user = session.scalar(select(User).where(User.username == username))
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        _record_failure(session, username_key=username_key, user=user, ip=ip, now=now)
        raise InvalidCredentials()
    previous: audit.ActorInfo = session.info.get("actor", audit.SYSTEM)
    audit.set_actor(session, audit.ActorInfo(user.id, user.username, previous.request_id, previous.ip))
    session.execute(delete(LoginFailure).where(LoginFailure.username == username_key))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    return user


def start_session(session: Session, *, user: User, now: datetime, hours: int, ip: str, user_agent: str) -> str:
    """Open a browser session; returns the cookie value (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    session.add(
        BrowserSession(
            token_hash=_hash_secret(secret),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            ip=ip[:64],
            user_agent=user_agent[:300],
        )
    )
    audit.record(session, action="login", object_type="users", object_id=str(user.id))
    session.flush()
    return secret


def resolve_session(session: Session, *, cookie: str, now: datetime) -> User | None:
    row = session.scalar(select(BrowserSession).where(BrowserSession.token_hash == _hash_secret(cookie)))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def end_session(session: Session, *, cookie: str) -> None:
    """Sign the browser out; the audit entry names the user who signed out."""
    row = session.scalar(select(BrowserSession).where(BrowserSession.token_hash == _hash_secret(cookie)))
    if row is not None:
        user = session.get(User, row.user_id)
        previous: audit.ActorInfo = session.info.get("actor", audit.SYSTEM)
        if user is not None and previous.id is None:
            audit.set_actor(session, audit.ActorInfo(user.id, user.username, previous.request_id, previous.ip))
        audit.record(session, action="logout", object_type="users", object_id=str(row.user_id))
        session.delete(row)
        session.flush()


# --- API tokens ------------------------------------------------------------


def create_token(
    session: Session,
    *,
    user: User,
    scopes: list[str] | None,
    name: str = "",
    tenants: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for ``user``; returns the row and the secret (shown once)."""
    requested = sorted(set(scopes or []))
    bad = check_scopes(user.role, requested)
    if bad:
        raise ScopeNotAllowed(
            "Scopes not allowed for role '{role}': {scopes}", field="scope", role=user.role, scopes=", ".join(bad)
        )
    if not user.active:
        raise BadRequest("Cannot create a token for a disabled user", field="user")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash_secret(secret),
        user_id=user.id,
        name=name,
        scopes=requested,  # empty: every permission of the user's role, now and later
        tenants=tenants or [],
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def resolve_token(session: Session, *, secret: str, now: datetime) -> tuple[User, ApiToken] | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_secret(secret)))
    if token is None or token.revoked or (token.expires_at is not None and token.expires_at <= now):
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    return user, token


def list_tokens(session: Session, *, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_token(session: Session, *, token_id: int, user: User | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (user is not None and token.user_id != user.id):
        raise UnknownToken("No token with id {token_id}", token_id=token_id)
    token.revoked = True
    session.flush()
    return token
