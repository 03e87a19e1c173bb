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
    "dossiers:read": "Read the dossiers of the one-stop shop your agency receives or processes",
    "dossiers:write": "Receive dossiers and move them through their processing steps",
    "procedures:manage": "Change the procedures catalogue (create, edit, import)",
    "queue:read": "Read the queue statistics of the service centre",
    "queue:serve": "Issue queue tickets and serve them at a counter; book and check in appointments",
    "queue:manage": "Configure the queue's services and counters",
    "feedback:read": "Read the 1022 citizen reports your agency handles",
    "feedback:write": "Triage 1022 citizen reports and move them through their workflow",
    "feedback:submit": "Submit 1022 citizen reports through the API and Open311 (apps, hotline operators)",
    "feedback:manage": "Change the 1022 category tree (fields, categories, deadlines, questions) and retrain "
                       "the report classifier",
    "agencies:all": "See and act on every agency's private data, not only one's own",
    "messages:read": "See outgoing e-mail and SMS to citizens and their delivery status",
    "devices:read": "Read the device registry: service groups, devices, their health and measure series",
    "devices:write": "Provision service groups and devices (IoT Agent provisioning API, CSV import)",
    "rules:read": "Read the IOC's rules, their versions and evaluation errors",
    "rules:write": "Create, change, test, enable and disable IOC rules",
    "alerts:read": "See the IOC's alerts and the operations console",
    "alerts:write": "Acknowledge and clear alerts; manage one's own alert subscriptions and the on-duty roster",
    "incidents:read": "Read incidents and their after-action reports",
    "incidents:write": "Open, dispatch, update and close incidents",
}

_STAFF = frozenset({"console:access", "directory:read", "contacts:read", "context:read", "queue:read",
                    "devices:read", "alerts:read", "incidents:read"})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "operator": _STAFF | {"contacts:write", "agencies:all", "users:read", "context:write", "devices:write",
                          "dossiers:read", "feedback:read", "feedback:write", "feedback:submit", "rules:read",
                          "rules:write", "alerts:write", "incidents:write"},
    "agency_staff": _STAFF | {"contacts:write", "dossiers:read", "dossiers:write", "feedback:read", "feedback:write",
                              "rules:read", "alerts:write", "incidents:write"},
    "clerk": _STAFF | {"dossiers:read", "dossiers:write", "queue:serve"},
    "viewer": _STAFF | {"dossiers:read", "feedback:read"},
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
