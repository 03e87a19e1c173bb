"""Error codes of authentication and user management."""

from __future__ import annotations

from saola.core.errors import BadRequest, Conflict, DomainError, NotFound, TooManyAttempts


class InvalidCredentials(DomainError):
    code = "invalid-credentials"
    status = 401
    title = "Wrong username or password"


class LoginThrottled(TooManyAttempts):
    code = "login-throttled"
    title = "Too many failed sign-ins; try again later"


class UserExists(Conflict):
    code = "user-exists"
    title = "A user with this username already exists"


class UnknownUser(NotFound):
    code = "unknown-user"
    title = "No such user"


class UnknownToken(NotFound):
    code = "unknown-token"
    title = "No such API token"


class WeakPassword(BadRequest):
    code = "weak-password"
    title = "The password is too weak"


class UnknownRole(BadRequest):
    code = "unknown-role"
    title = "Unknown role"


class ScopeNotAllowed(BadRequest):
    code = "scope-not-allowed"
    title = "A requested scope is unknown or beyond the user's role"


class AgencyRequired(BadRequest):
    code = "agency-required"
    title = "Staff users must belong to an agency"
