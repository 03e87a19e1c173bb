"""Error codes of the working-day calendar."""

from __future__ import annotations

from saola.core.errors import DomainError


class CalendarOutOfRange(DomainError):
    code = "calendar-out-of-range"
    status = 422
    title = "The date is outside the years the working-day calendar covers"


class InvalidWorkingDays(DomainError):
    code = "invalid-working-days"
    status = 422
    title = "The number of working days is not valid"


class InvalidWorkingHours(DomainError):
    code = "invalid-working-hours"
    status = 422
    title = "The number of working hours is not valid"


class InvalidPeriod(DomainError):
    code = "invalid-period"
    status = 422
    title = "The end date is before the start date"


class NoticeDataError(ValueError):
    """The official-notice data (file or database rows) is inconsistent; raised when it is loaded."""
