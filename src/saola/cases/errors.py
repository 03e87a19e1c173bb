"""Error codes of the case engine; every title has its Vietnamese text in ``locales/vi/cases.po``."""

from __future__ import annotations

from saola.core.errors import BadRequest, Conflict, DomainError, NotFound, PermissionDenied


class CaseNotFound(NotFound):
    code = "case-not-found"
    title = "No such case"


class UnknownWorkflow(BadRequest):
    code = "unknown-workflow"
    title = "Unknown case workflow"


class InvalidTransition(Conflict):
    code = "invalid-transition"
    title = "The case cannot move to that status from its current status"


class TransitionNotAllowed(PermissionDenied):
    code = "transition-not-allowed"
    title = "Your role may not make this change of status"


class ReasonRequired(DomainError):
    code = "reason-required"
    status = 422
    title = "A reason is required for this change of status"


class ResolutionRequired(DomainError):
    code = "resolution-required"
    status = 422
    title = "The resolution text is required to resolve the case"


class AssigneeRequired(DomainError):
    code = "assignee-required"
    status = 422
    title = "The case must be assigned to a person first"


class InvalidAssignee(DomainError):
    code = "invalid-assignee"
    status = 422
    title = "The assignee must be an active user of the owner agency"


class TargetAgencyRequired(DomainError):
    code = "target-agency-required"
    status = 422
    title = "Choose another existing agency to forward the case to"


class TransitionRepeated(Conflict):
    code = "transition-repeated"
    title = "This change of status is allowed only once per case"


class InvalidDeadline(DomainError):
    code = "invalid-deadline"
    status = 422
    title = "The new deadline is missing or not later than the current one"


class ExtensionTooLate(Conflict):
    code = "extension-too-late"
    title = "An extension must be requested at least one working day before the deadline"
