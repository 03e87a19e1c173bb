"""Roles and the permissions each one carries, as data.

A permission is ``area:action``. API tokens carry scopes, which are permissions; a token
can never hold a permission its user lacks. ``agencies:all`` lets a user see every
agency's private data; without it a user sees only their own agency's.
"""

from __future__ import annotations

ROLES = ("admin", "operator", "agency_staff", "clerk", "viewer")

PERMISSIONS: dict[str, str] = {
    "console:access": "Open the staff console",
    "users:read": "List users",
    "users:manage": "Create, change and disable users; reset passwords",
    "audit:read": "Browse the audit log",
    "directory:read": "Read agencies and administrative units",
    "directory:write": "Change agencies",
    "contacts:read": "Read agency contacts (duty roster)",
    "contacts:write": "Change agency contacts",
    "context:read": "Read NGSI-LD context data (entities, types, attributes)",
    "context:write": "Create, change and delete NGSI-LD context data",
    "agencies:all": "See and act on every agency's private data, not only one's own",
}

_STAFF = frozenset({"console:access", "directory:read", "contacts:read", "context:read"})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "operator": _STAFF | {"contacts:write", "agencies:all", "users:read", "context:write"},
    "agency_staff": _STAFF | {"contacts:write"},
    "clerk": _STAFF,
    "viewer": _STAFF,
}

ROLE_NAMES = {
    "admin": "Administrator",
    "operator": "IOC operator",
    "agency_staff": "Agency staff",
    "clerk": "One-stop-shop clerk",
    "viewer": "Viewer",
}


def permissions_for(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())


def check_scopes(role: str, scopes: list[str]) -> list[str]:
    """The scopes that are unknown or beyond ``role``; empty when all are allowed."""
    allowed = permissions_for(role)
    return [s for s in scopes if s not in allowed]
