"""Imports every package's tables so that ``Base.metadata`` is complete (for Alembic)."""

from saola.cases.models import Case, CaseAttachment, CaseCounter, CaseEvent, CaseNote  # noqa: F401  (case tables)
from saola.context.csource_models import (  # noqa: F401  (context source registry)
    NgsiCSourceNotification,
    NgsiCSourceRegistration,
    NgsiCSourceSubscription,
)
from saola.context.models import (
    NgsiAttributeHistory,
    NgsiAttributeValue,
    NgsiContext,
    NgsiEntity,
    NgsiEntityType,
    NgsiGeoBox,
    NgsiTenant,
)
from saola.context.subscription_models import NgsiNotification, NgsiSubscription  # noqa: F401
from saola.core.audit.models import AuditEntry
from saola.core.auth.models import ApiToken, BrowserSession, LoginFailure, User
from saola.core.db import Base
from saola.core.directory.models import AdminUnit, Agency, AgencyContact, UnitSuccession
from saola.core.messaging import case_notices  # noqa: F401  (notices of case status changes, before commit)
from saola.core.messaging.models import OutboxMessage  # noqa: F401  (outbox of e-mail and SMS)
from saola.devices.commands_models import DeviceCommand  # noqa: F401  (downlink commands)
from saola.devices.models import Device, DeviceRollup, ServiceGroup  # noqa: F401  (device registry, rollups)
from saola.egov.models import Dossier, DossierRating, Procedure  # noqa: F401  (one-stop shop tables)
from saola.egov.queue.models import (  # noqa: F401  (queue tables)
    CounterService,
    QueueAppointment,
    QueueCall,
    QueueCounter,
    QueueDayCounter,
    QueueService,
    QueueTicket,
)
from saola.feedback.channel_models import FeedbackChannelMessage  # noqa: F401  (SMS, chat, e-mail ledger)
from saola.feedback.models import (  # noqa: F401  (1022 hotline tables)
    FeedbackCategory,
    FeedbackField,
    FeedbackReport,
    FeedbackReporter,
)
from saola.feedback.routing import FeedbackRoutingRule  # noqa: F401  (1022 routing rules)
from saola.ioc.incident_models import Incident, IncidentChecklistItem, IncidentEvent, IncidentLink, IncidentUnit  # noqa: F401  (IOC incidents)
from saola.rules.alert_models import Alert, AlertEvent, AlertSubscription, DutyShift  # noqa: F401  (IOC alerts)
from saola.rules.engine_models import RuleError, RuleState  # noqa: F401  (rule engine state, errors)
from saola.rules.models import Rule, RuleVersion  # noqa: F401  (IOC rules and their versions)

__all__ = [
    "AdminUnit",
    "Agency",
    "AgencyContact",
    "ApiToken",
    "AuditEntry",
    "Base",
    "BrowserSession",
    "LoginFailure",
    "NgsiAttributeHistory",
    "NgsiAttributeValue",
    "NgsiContext",
    "NgsiEntity",
    "NgsiEntityType",
    "NgsiGeoBox",
    "NgsiTenant",
    "UnitSuccession",
    "User",
]
