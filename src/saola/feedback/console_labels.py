"""English labels (message ids, translated in ``locales/vi/feedback_console.po``) of the values the hotline's
console pages show: statuses, channels, the verbs of the action buttons, deadline states and outcomes."""

from __future__ import annotations

from saola.feedback.public_pages import STATUS

STATUSES = STATUS
CHANNELS = {"web": "Web form", "phone": "Phone (1022)", "sms": "SMS", "chat": "Chat app", "email": "E-mail",
            "app": "Mobile app", "open311": "Open311"}
# The verb on the button that makes each move.
ACTIONS = {
    "triaged": "Take over (triaged)", "assigned": "Assign", "in_progress": "Start handling",
    "on_hold": "Put on hold", "forwarded": "Forward to another agency", "resolved": "Resolve",
    "closed": "Close", "reopened": "Reopen", "rejected": "Reject",
}
OPEN_STATUSES = {"within": "Within the deadline", "due_soon": "Due soon", "overdue": "Overdue"}
OUTCOMES = {"early": "Early", "on_time": "On time", "late": "Late"}
DUE_FILTERS = {"overdue": "Overdue", "due_soon": "Due soon"}
EVENTS = {"created": "Received", "assigned": "Assignee changed", "note": "Note added",
          "attachment": "File attached", "deadline-changed": "Deadline changed",
          "reminder": "Deadline reminder sent", "escalation": "Escalated: overdue"}

LABELS = {"statuses": STATUSES, "channels": CHANNELS, "actions": ACTIONS, "open_statuses": OPEN_STATUSES,
          "outcomes": OUTCOMES, "due_filters": DUE_FILTERS, "event_kinds": EVENTS}
