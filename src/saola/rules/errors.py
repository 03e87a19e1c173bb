"""Error codes of the rules store; every title has its Vietnamese text in ``locales/vi/rules.po``."""

from __future__ import annotations

from saola.core.errors import Conflict, NotFound, ValidationFailed


class RuleNotFound(NotFound):
    code = "rule-not-found"
    title = "No such rule"


class RuleVersionNotFound(NotFound):
    code = "rule-version-not-found"
    title = "No such version of the rule"


class RuleArchived(Conflict):
    code = "rule-archived"
    title = "The rule was deleted (archived); it can be read but not changed or enabled"


class InvalidRule(ValidationFailed):
    """Every problem of a rule definition at once, one ``{"field", "message"}`` entry each."""

    code = "invalid-rule"
    title = "The rule definition is not valid"
