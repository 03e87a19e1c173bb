"""Error codes of the IOC's incidents; every title has its Vietnamese text in ``locales/vi/incidents.po``."""

from __future__ import annotations

from saola.core.errors import BadRequest, Conflict, NotFound


class IncidentNotFound(NotFound):
    code = "incident-not-found"
    title = "No such incident"


class InvalidIncident(BadRequest):
    code = "invalid-incident"
    status = 422
    title = "The incident is not valid"


class InvalidIncidentTransition(Conflict):
    code = "invalid-incident-transition"
    title = "The incident cannot move to this status"


class ResolutionRequired(BadRequest):
    code = "resolution-required"
    status = 422
    title = "A resolution note is required to close or resolve the incident"


class ReasonRequired(BadRequest):
    code = "reason-required"
    status = 422
    title = "A reason is required for this change"


class IncidentClosed(Conflict):
    code = "incident-closed"
    title = "The incident is closed and cannot be changed"


class LinkNotFound(NotFound):
    code = "incident-link-target-not-found"
    title = "The alert, report or entity to link does not exist"


class UnitNotFound(NotFound):
    code = "incident-unit-not-found"
    title = "No such dispatched unit on this incident"


class InvalidUnitMove(Conflict):
    code = "invalid-unit-move"
    title = "The unit cannot be marked this way now"


class ChecklistItemNotFound(NotFound):
    code = "checklist-item-not-found"
    title = "No such checklist item on this incident"
