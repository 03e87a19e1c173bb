"""Error codes of the one-stop shop; every title has its Vietnamese text in ``locales/vi/egov.po``."""

from __future__ import annotations

from saola.core.errors import BadRequest, Conflict, DomainError, NotFound, PermissionDenied


class ProcedureNotFound(NotFound):
    code = "procedure-not-found"
    title = "No such procedure"


class ProcedureExists(Conflict):
    code = "procedure-exists"
    title = "A procedure with this code already exists"


class InvalidProcedure(DomainError):
    code = "invalid-procedure"
    status = 422
    title = "The procedure record is not valid"


class InvalidCatalogue(BadRequest):
    code = "invalid-catalogue"
    title = "The catalogue file cannot be read"


class ProcedureNotRoutable(DomainError):
    code = "procedure-not-routable"
    status = 422
    title = "The procedure's processing agency does not exist in this province"


class DossierNotFound(NotFound):
    code = "dossier-not-found"
    title = "No such dossier"


class WrongAgency(PermissionDenied):
    code = "wrong-agency"
    title = "Only the receiving centre or the processing agency of the dossier may do this"


class NotReceivingCentre(PermissionDenied):
    code = "not-receiving-centre"
    title = "Dossiers are received by the staff of the public administration service centre"


class ExtensionNotAllowed(Conflict):
    code = "extension-not-allowed"
    title = "The procedure does not allow extending the processing time"


class UnsupportedFile(DomainError):
    code = "unsupported-file"
    status = 422
    title = "Attach PDF, JPEG or PNG files within the size limit"


class RatingNotAllowed(Conflict):
    code = "rating-not-allowed"
    title = "A dossier can be rated once, after its result was returned"


class WrongPin(PermissionDenied):
    code = "wrong-pin"
    title = "The security code does not match the dossier"


class NoNextStep(Conflict):
    code = "no-next-step"
    title = "The dossier is at its last processing step or not in processing"
