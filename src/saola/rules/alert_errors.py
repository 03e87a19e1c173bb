"""Error codes of the IOC's alerts; every title has its Vietnamese text in ``locales/vi/alerts.po``."""

from __future__ import annotations

from saola.core.errors import BadRequest, Conflict, DomainError, NotFound, PermissionDenied


class AlertNotFound(NotFound):
    code = "alert-not-found"
    title = "No such alert"


class InvalidAlertTransition(Conflict):
    code = "alert-invalid-transition"
    title = "The alert cannot be changed that way in its current state"


class AlertNotYourAgency(PermissionDenied):
    code = "alert-not-your-agency"
    title = "Only the owning agency or the operations centre may act on this alert"


class AlertAlreadyAcknowledged(Conflict):
    code = "alert-already-acknowledged"
    title = "The alert has already been acknowledged"


class AlertAlreadyCleared(Conflict):
    code = "alert-already-cleared"
    title = "The alert has already been cleared"


class InvalidAlertValue(BadRequest):
    code = "alert-invalid-value"
    title = "A value of the alert is not valid"


class ClearReasonRequired(DomainError):
    code = "alert-reason-required"
    status = 422
    title = "A reason is required to clear an alert by hand"


class SubscriptionNotFound(NotFound):
    code = "alert-subscription-not-found"
    title = "No such alert subscription"


class WebhookNotConfigured(DomainError):
    code = "alert-webhook-not-configured"
    status = 422
    title = "Webhook notifications need SAOLA_WEBHOOK_SECRET to be set"


class ContactMissing(DomainError):
    code = "alert-contact-missing"
    status = 422
    title = "Your profile has no e-mail address or phone number for this channel"


class ShiftNotFound(NotFound):
    code = "alert-shift-not-found"
    title = "No such duty shift"


class ShiftNotAllowed(PermissionDenied):
    code = "alert-shift-not-allowed"
    title = "Only the operations centre may change another person's duty shifts"


class InvalidShift(DomainError):
    code = "alert-invalid-shift"
    status = 422
    title = "A duty shift must end after it starts and last at most 7 days"
