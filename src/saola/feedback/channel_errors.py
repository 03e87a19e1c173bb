"""Error codes of the hotline's SMS, chat and e-mail channels; each title has its Vietnamese text in
``locales/vi/feedback_channels.po``."""

from __future__ import annotations

from saola.core.errors import Conflict, DomainError, NotFound, ValidationFailed


class GatewayNotFound(NotFound):
    code = "gateway-not-found"
    title = "No such SMS or chat gateway"


class GatewaySignatureMissing(DomainError):
    code = "gateway-signature-missing"
    status = 401
    title = "The message is not signed"


class GatewaySignatureInvalid(DomainError):
    code = "gateway-signature-invalid"
    status = 403
    title = "The message signature does not match"


class GatewayMessageTooLarge(DomainError):
    code = "gateway-message-too-large"
    status = 413
    title = "The message is too large"


class InvalidGatewayMessage(ValidationFailed):
    """The body is not the documented JSON message; one ``{"field", "message"}`` entry per problem."""

    code = "invalid-gateway-message"
    title = "The gateway message is not valid"


class ChannelMessageInProgress(Conflict):
    code = "channel-message-in-progress"
    title = "This message is being taken in by another request; send it again later"
