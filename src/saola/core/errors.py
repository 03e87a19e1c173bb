"""Domain errors with stable codes, rendered as RFC 9457 problem+json (or a friendly page).

A service raises ``SomeError(detail=..., field=...)``; the handler renders
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
        self.detail = detail or self.title
        self.field = field
        self.params = params
        super().__init__(self.detail)


class BadRequest(DomainError):
    code = "bad-request"
    status = 400
    title = "The request is not valid"


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
