"""Error codes of the organisation directory."""

from saola.core.errors import NotFound


class UnknownAgency(NotFound):
    code = "unknown-agency"
    title = "No such agency"


class UnknownUnit(NotFound):
    code = "unknown-unit"
    title = "No such administrative unit"


class UnknownContact(NotFound):
    code = "unknown-contact"
    title = "No such contact"
