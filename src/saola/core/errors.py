"""Domain errors with stable codes, rendered as RFC 9457 problem+json (or a friendly page).

A service raises ``SomeError("No user named '{username}'", field=..., username=name)``: the
detail is a message template and its parameters, so it is translated before the values
are filled in. The handler renders
``{"type", "title", "status", "detail", "code", "errors"?}`` with ``title`` and
``detail`` translated to the request's language. Tests assert ``code``.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://saola.city/problems/"


class DomainError(Exception):
    """Base of every expected error; ``code`` is stable and documented."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "The request cannot be processed"

    def __init__(self, detail: str | None = None, *, field: str | None = None, **params: Any) -> None:
        self.template = detail or self.title
        self.params = params
        self.detail = self.template.format(**params) if params else self.template
        self.field = field
        super().__init__(self.detail)


class BadRequest(DomainError):
    code = "bad-request"
    status = 400
    title = "The request is not valid"


class InvalidValue(BadRequest):
    """A value passed validation but the database cannot store or compare it (a 64-bit overflow,
    a date beyond year 9999 in UTC, a NUL character in PostgreSQL text)."""

    code = "invalid-value"
    title = "A value is out of range or contains characters that cannot be stored"


class ValidationFailed(DomainError):
    code = "validation-failed"
    status = 422
    title = "Some fields are not valid"

    def __init__(self, errors: list[dict[str, Any]], detail: str | None = None) -> None:
        super().__init__(detail or "Some fields are not valid")
        self.errors = errors


class NotAuthenticated(DomainError):
    code = "not-authenticated"
    status = 401
    title = "Sign-in required"


class PermissionDenied(DomainError):
    code = "permission-denied"
    status = 403
    title = "You do not have permission to do this"


class CsrfFailed(DomainError):
    code = "csrf-failed"
    status = 403
    title = "The form has expired or was not sent from Saola; reload the page and try again"


class NotFound(DomainError):
    code = "not-found"
    status = 404
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "The request conflicts with the current state"


class TooManyAttempts(DomainError):
    code = "too-many-attempts"
    status = 429
    title = "Too many failed attempts; try again later"


def problem(
    *, status: int, code: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body
