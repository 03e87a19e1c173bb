"""Error codes of the device registry and the ingest core; titles have Vietnamese text in
``locales/vi/devices.po``."""

from __future__ import annotations

from saola.core.errors import BadRequest, Conflict, DomainError, NotFound, PermissionDenied


class StoreUnavailable(Exception):
    """The database cannot be written now (connection refused, lock timeout, ...): nothing of the
    batch was stored, the caller keeps the messages and retries later."""


class DeviceNotFound(NotFound):
    code = "device-not-found"
    title = "No such device"


class ServiceGroupNotFound(NotFound):
    code = "service-group-not-found"
    title = "No such service group"


class DeviceExists(Conflict):
    code = "device-exists"
    title = "The device already exists"


class ServiceGroupExists(Conflict):
    code = "service-group-exists"
    title = "A service group with this API key already exists"


class InvalidProvisioning(BadRequest):
    code = "invalid-provisioning"
    title = "The provisioning request is not valid"


class InvalidCsv(BadRequest):
    code = "invalid-csv"
    title = "The CSV file is not valid"


class WrongApiKey(PermissionDenied):
    code = "wrong-api-key"
    title = "The API key is unknown or does not belong to this device"


class WrongDeviceToken(PermissionDenied):
    code = "wrong-device-token"
    title = "The device token is missing or wrong"


class UnknownDevice(NotFound):
    code = "unknown-device"
    title = "No device with this id is provisioned for this API key"


class MalformedPayload(BadRequest):
    code = "malformed-payload"
    title = "The payload cannot be parsed"


class IngestUnavailable(DomainError):
    code = "ingest-unavailable"
    status = 503
    title = "Measures cannot be stored now; send them again later"
