"""Error codes of the 1022 hotline; every title has its Vietnamese text in ``locales/vi/feedback.po``."""

from __future__ import annotations

from saola.core.errors import Conflict, DomainError, NotFound, ValidationFailed


class FieldNotFound(NotFound):
    code = "feedback-field-not-found"
    title = "No such field of reports"


class CategoryNotFound(NotFound):
    code = "feedback-category-not-found"
    title = "No such category of reports"


class ReportNotFound(NotFound):
    code = "report-not-found"
    title = "No such report"


class DuplicateCode(Conflict):
    code = "feedback-code-taken"
    title = "This code is already used by another field or category"


class InvalidCategory(DomainError):
    code = "invalid-category"
    status = 422
    title = "The category is not valid"


class InvalidReport(ValidationFailed):
    """Every problem of a submission at once, one ``{"field", "message"}`` entry each."""

    code = "invalid-report"
    title = "The report is not valid"


class TriageAgencyMissing(Conflict):
    code = "triage-agency-missing"
    title = "The agency that triages reports without a category does not exist"


class RoutingRuleNotFound(NotFound):
    code = "routing-rule-not-found"
    title = "No such routing rule"


class InvalidRoutingRule(ValidationFailed):
    """Every problem of a routing rule at once (unknown agency, category, field or ward; a bad time window)."""

    code = "invalid-routing-rule"
    title = "The routing rule is not valid"


class InvalidRoutingQuery(ValidationFailed):
    """A "which agency would get this?" question that cannot be answered (unknown category, point outside)."""

    code = "invalid-routing-query"
    title = "The routing question is not valid"


class ReassignNotAllowed(Conflict):
    code = "reassign-not-allowed"
    title = "This report cannot be given to that agency"
