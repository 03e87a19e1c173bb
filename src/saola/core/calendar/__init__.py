"""The Vietnamese working-day calendar: deadlines in working days and office hours.

``default_calendar()`` is built from the Labour Code (``statutory.py``) and the notices
shipped in ``notices/vn_official.json``; build a :class:`WorkingCalendar` from another
:class:`NoticeBook` (a file, or rows from the database) to use other notice data.
"""

from saola.core.calendar.official import NoticeBook, load_notice_book
from saola.core.calendar.plan import CalendarDay, YearPlan
from saola.core.calendar.working import DEFAULT_OFFICE_HOURS, OfficeHours, WorkingCalendar, default_calendar

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "CalendarDay",
    "NoticeBook",
    "OfficeHours",
    "WorkingCalendar",
    "YearPlan",
    "default_calendar",
    "load_notice_book",
]
