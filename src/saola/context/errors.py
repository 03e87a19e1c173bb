"""NGSI-LD error types (ETSI GS CIM 009 V1.8.1 clause 5.5.2), rendered as ProblemDetails.

Each class carries the ProblemDetails ``type`` URI, the HTTP status and a short title; the
instance carries the ``detail`` text. The HTTP layer turns any :class:`NgsiLdError` into an
``application/json`` ProblemDetails body.
"""

from __future__ import annotations

_ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(Exception):
    type_uri: str = _ERRORS + "InternalError"
    status: int = 500
    title: str = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequestData(NgsiLdError):
    type_uri = _ERRORS + "BadRequestData"
    status = 400
    title = "Bad request data"


class InvalidRequest(NgsiLdError):
    type_uri = _ERRORS + "InvalidRequest"
    status = 400
    title = "Invalid request"


class ResourceNotFound(NgsiLdError):
    type_uri = _ERRORS + "ResourceNotFound"
    status = 404
    title = "Resource not found"


class AlreadyExists(NgsiLdError):
    type_uri = _ERRORS + "AlreadyExists"
    status = 409
    title = "Already exists"


class OperationNotSupported(NgsiLdError):
    type_uri = _ERRORS + "OperationNotSupported"
    status = 422
    title = "Operation not supported"


class TooManyResults(NgsiLdError):
    type_uri = _ERRORS + "TooManyResults"
    status = 403
    title = "Too many results"


class LdContextNotAvailable(NgsiLdError):
    # 504: the OpenAPI of V1.8.1 answers a failed @context download with GatewayTimeout
    type_uri = _ERRORS + "LdContextNotAvailable"
    status = 504
    title = "@context not available"


class NotAcceptable(NgsiLdError):
    type_uri = _ERRORS + "NotAcceptable"
    status = 406
    title = "Not acceptable"


class UnsupportedMediaType(NgsiLdError):
    type_uri = _ERRORS + "UnsupportedMediaType"
    status = 415
    title = "Unsupported media type"


class InternalError(NgsiLdError):
    type_uri = _ERRORS + "InternalError"
    status = 500
    title = "Internal error"


class Busy(InternalError):
    """The database was busy (a lock wait ran out); nothing was changed and the client may retry.

    NGSI-LD has no error type for this; it is an InternalError by type with the HTTP status 503,
    which clients and proxies understand as "retry later".
    """

    status = 503
    title = "Service busy"
