"""Use cases of dossiers: receive (counter or online), read, list, move through the lifecycle, look up, rate.

A dossier is a case of the engine's ``admin_dossier`` workflow (:mod:`saola.cases.definitions`):
the engine checks the move, the role and the guards (supplement once, extension once and no later
than one working day before the due date), locks the row, records the history and the outcome.
This module adds the one-stop shop's rules (Decree 118/2025/NĐ-CP, Circular 03/2025/TT-VPCP):

* **Who sees a dossier**: the staff of the receiving centre (``receiving_agency_id``, the
  provincial Public Administration Service Centre) and of the agency currently processing it
  (the case's owner agency); users with ``agencies:all`` see all. Anyone else gets "not found".
* **Who moves it**: the receiving centre hands it over, asks for a supplement at the counter,
  refuses, and returns the result; the processing agency asks for a supplement, extends (form 04),
  finishes, refuses or stops it; both may take in a supplement. The engine's role rules apply on top.
* **Deadlines**: the legal processing time of the procedure, counted from the receipt day (after
  office hours: the next working day) — the appointment date printed on the slip (form 01). A
  supplement pauses the clock or restarts it, as the procedure says; an extension sets a new
  appointment and records the apology letter (form 04).
* **Steps across agencies**: when the procedure's steps name several agencies, the processing
  agency passes the dossier on (:func:`advance_step`); the case's owner becomes the next step's
  agency, and the control sheet (form 06) shows each step's deadline and when it was done.

The public side (lookup by code, the rating) is :mod:`saola.egov.public`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.actors import SYSTEM, role_of
from saola.cases.deadlines import DeadlineRule, compute_deadline, status_of_open
from saola.cases.engine import lock_case
from saola.cases.errors import TransitionNotAllowed
from saola.cases.models import Case, CaseAttachment, CaseEvent
from saola.cases.workflow import get_workflow
from saola.core.calendar import WorkingCalendar, default_calendar
from saola.core.db import queue_event
from saola.core.directory.models import Agency
from saola.core.errors import BadRequest
from saola.egov import files
from saola.egov.errors import (
    DossierNotFound,
    ExtensionNotAllowed,
    NoNextStep,
    NotReceivingCentre,
    ProcedureNotFound,
    ProcedureNotRoutable,
    WrongAgency,
)
from saola.egov.models import Dossier, Procedure

WORKFLOW = "admin_dossier"
CENTRE_CODE = "TTPVHCC"  # the provincial Public Administration Service Centre receives online dossiers
RECEIVERS = frozenset({"admin", "clerk"})
PIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper
# Moves made by the receiving centre; moves out of in_processing/extended belong to the processing agency.
CENTRE_MOVES = frozenset({("received", "in_processing"), ("received", "supplement_requested"),
                          ("received", "refused"), ("received", "stopped"), ("result_ready", "returned")})


@dataclass(frozen=True)
class Applicant:
    name: str
    id_number: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(frozen=True)
class _Cleared:
    """The caller, once this module has checked its agency: the engine need not scope it again."""

    principal: Any

    @property
    def role(self) -> str:
        return role_of(self.principal)

    @property
    def id(self) -> int | None:
        return getattr(self.principal, "id", None)

    @property
    def user(self) -> Any:
        return self.principal.user

    @property
    def agency_id(self) -> int | None:
        return self.principal.agency_id

    def sees_all_agencies(self) -> bool:
        return True


def _cleared(actor: Any) -> Any:
    return actor if actor is SYSTEM else _Cleared(actor)


# --- reading ----------------------------------------------------------------------------------


def visible_to(actor: Any) -> Any:
    """The SQL condition on dossiers (joined with their case) that ``actor`` may see."""
    if actor.sees_all_agencies():
        return true()
    if actor.agency_id is None:
        return Dossier.id.is_(None)
    return or_(Dossier.receiving_agency_id == actor.agency_id, Case.agency_id == actor.agency_id)


def get_dossier(session: Session, *, dossier_id: int, actor: Any) -> tuple[Dossier, Case]:
    """The dossier and its case, or :class:`DossierNotFound` when missing or not visible to ``actor``."""
    row = session.execute(select(Dossier, Case).join(Case, Case.id == Dossier.case_id)
                          .where(Dossier.id == dossier_id, visible_to(actor))).first()
    if row is None:
        raise DossierNotFound("No dossier with id {dossier_id}", dossier_id=dossier_id)
    return row[0], row[1]


def list_dossiers(session: Session, *, actor: Any, status: Sequence[str] | None = None, open_only: bool = False,
                  procedure_id: int | None = None, limit: int = 50,
                  offset: int = 0) -> list[tuple[Dossier, Case, Procedure]]:
    """Dossiers the actor may see, newest first."""
    stmt = (select(Dossier, Case, Procedure).join(Case, Case.id == Dossier.case_id)
            .join(Procedure, Procedure.id == Dossier.procedure_id).where(visible_to(actor)))
    if status:
        stmt = stmt.where(Case.status.in_(list(status)))
    if open_only:
        stmt = stmt.where(Case.closed_at.is_(None))
    if procedure_id is not None:
        stmt = stmt.where(Dossier.procedure_id == procedure_id)
    stmt = stmt.order_by(Case.received_at.desc(), Dossier.id.desc()).limit(min(max(limit, 1), 500))
    return [(d, c, p) for d, c, p in session.execute(stmt.offset(max(offset, 0)))]


def timeline(session: Session, *, case_id: int) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.at, CaseEvent.id)))


def open_status(case: Case, now: datetime, calendar: WorkingCalendar | None = None) -> str | None:
    """``within`` | ``due_soon`` | ``overdue`` for an open dossier (``paused`` while waiting for a
    supplement); ``None`` once closed (see its outcome)."""
    if case.closed_at is not None:
        return None
    if case.paused_at is not None:
        return "paused"
    return status_of_open(now, case.deadline_at, calendar or default_calendar())


def needs_apology(dossier: Dossier, case: Case, now: datetime) -> bool:
    """Overdue, still open, running, and no apology letter (form 04) sent: flagged to the centre."""
    return (case.closed_at is None and case.paused_at is None and case.deadline_at is not None
            and now > case.deadline_at and dossier.apology_at is None)


def count_needing_apology(session: Session, *, actor: Any, now: datetime) -> int:
    """How many open dossiers the actor sees are overdue with no apology letter (see :func:`needs_apology`)."""
    stmt = (select(func.count()).select_from(Dossier).join(Case, Case.id == Dossier.case_id)
            .where(visible_to(actor), Case.closed_at.is_(None), Case.paused_at.is_(None), Case.deadline_at < now,
                   Dossier.apology_at.is_(None)))
    return int(session.scalar(stmt) or 0)


def allowed_moves(dossier: Dossier, case: Case, actor: Any, procedure: Procedure) -> list[str]:
    """The statuses ``actor`` could move the dossier to now (guards aside), for the action buttons."""
    out = []
    for to, rule in get_workflow(WORKFLOW).moves_from(case.status).items():
        if role_of(actor) not in rule.roles or not _may_act(actor, dossier, case, case.status, to):
            continue
        if to == "extended" and not procedure.extension_allowed:
            continue
        out.append(to)
    return out


# --- receiving -------------------------------------------------------------------------------------


def _rule(procedure: Procedure) -> DeadlineRule:
    if procedure.day_kind == "calendar":
        return DeadlineRule(calendar_days=procedure.processing_days)
    return DeadlineRule(working_days=procedure.processing_days)


def processing_agency(session: Session, procedure: Procedure) -> Agency:
    """The agency of the procedure's first step (who processes what the centre receives)."""
    code = procedure.steps[0]["agency"] if procedure.steps else None
    agency = session.scalar(select(Agency).where(Agency.code == code)) if code else None
    if agency is None:
        raise ProcedureNotRoutable("No agency with code '{code}' processes procedure {procedure}",
                                   code=code or "", procedure=procedure.code)
    return agency


def _clean_applicant(applicant: Applicant) -> Applicant:
    name = " ".join(applicant.name.split())
    if not name:
        raise BadRequest("The applicant's name is empty", field="applicant_name")
    if len(name) > 200:
        raise BadRequest("The applicant's name is too long", field="applicant_name")
    return Applicant(name=name, id_number=applicant.id_number.strip()[:20], phone=applicant.phone.strip()[:20],
                     email=applicant.email.strip()[:200], address=" ".join(applicant.address.split())[:300])


def receive(session: Session, *, procedure_id: int, applicant: Applicant, actor: Any, now: datetime,
            channel: str = "counter", calendar: WorkingCalendar | None = None) -> tuple[Dossier, Case]:
    """A new dossier of ``procedure_id``: received at the counter by a clerk of the centre
    (``actor``), or online (``actor`` = :data:`SYSTEM`, ``channel="online"``) for the centre."""
    procedure = session.get(Procedure, procedure_id)
    if procedure is None or not procedure.active:
        raise ProcedureNotFound(field="procedure_id")
    if actor is not SYSTEM and role_of(actor) not in RECEIVERS:
        raise NotReceivingCentre()
    # A clerk receives for their own centre; online dossiers and an administrator without an agency
    # are received for the provincial centre.
    receiving_id = None if actor is SYSTEM else actor.agency_id
    if receiving_id is None:
        receiving_id = session.scalar(select(Agency.id).where(Agency.code == CENTRE_CODE))
    if receiving_id is None:
        raise ProcedureNotRoutable("No public administration service centre ({code}) is set up", code=CENTRE_CODE)
    applicant = _clean_applicant(applicant)
    agency = processing_agency(session, procedure)
    case = cases.open_case(session, case_type=WORKFLOW, title=procedure.name_vi[:300], agency_id=agency.id,
                           actor=_cleared(actor), now=now, deadline_rule=_rule(procedure), calendar=calendar,
                           metadata={"procedure": procedure.code, "channel": channel})
    dossier = Dossier(case_id=case.id, code=case.code, procedure_id=procedure.id, channel=channel,
                      receiving_agency_id=receiving_id, applicant_name=applicant.name,
                      applicant_id_number=applicant.id_number, applicant_phone=applicant.phone,
                      applicant_email=applicant.email, applicant_address=applicant.address,
                      pin="".join(secrets.choice(PIN_ALPHABET) for _ in range(6)),
                      appointment_at=case.deadline_at, created_at=now)
    session.add(dossier)
    session.flush()
    return dossier, case


# --- moving ----------------------------------------------------------------------------------------


def _may_act(actor: Any, dossier: Dossier, case: Case, source: str, to: str) -> bool:
    if actor is SYSTEM or actor.sees_all_agencies():
        return True
    at_centre = actor.agency_id is not None and actor.agency_id == dossier.receiving_agency_id
    at_agency = actor.agency_id is not None and actor.agency_id == case.agency_id
    if (source, to) in CENTRE_MOVES:
        return at_centre
    if source == "supplement_requested":
        return at_centre or at_agency
    return at_agency


def move(session: Session, *, dossier_id: int, to: str, actor: Any, now: datetime, reason: str | None = None,
         new_appointment: datetime | None = None, calendar: WorkingCalendar | None = None) -> tuple[Dossier, Case]:
    """Move the dossier to ``to`` (checked: visibility, agency, then the engine's role and guards)."""
    dossier, case = get_dossier(session, dossier_id=dossier_id, actor=actor)
    exists = get_workflow(WORKFLOW).rule_for(case.status, to) is not None  # else the engine says invalid-transition
    if exists and not _may_act(actor, dossier, case, case.status, to):
        raise WrongAgency()
    procedure = session.get(Procedure, dossier.procedure_id)
    assert procedure is not None
    if to == "extended" and not procedure.extension_allowed and case.status in ("in_processing",):
        raise ExtensionNotAllowed()
    calendar = calendar or default_calendar()
    was_paused = case.paused_at is not None
    case = cases.transition(session, case_id=case.id, to=to, actor=_cleared(actor), now=now, reason=reason,
                            new_deadline=new_appointment, calendar=calendar)
    if was_paused and case.paused_at is None and procedure.supplement_clock == "restart" and case.closed_at is None:
        restarted = compute_deadline(_rule(procedure), now, calendar)
        session.add(CaseEvent(case_id=case.id, at=now, actor_id=getattr(actor, "id", None),
                              actor_name=_name(actor), kind="deadline-changed", reason="supplement: clock restarted",
                              data={"deadline_from": case.deadline_at.isoformat() if case.deadline_at else None,
                                    "deadline_to": restarted.isoformat()}))
        case.deadline_at = restarted
    if to == "extended":
        dossier.apology_at = now
    dossier.appointment_at = case.deadline_at
    session.flush()
    return dossier, case


def _name(actor: Any) -> str:
    return "system" if actor is SYSTEM else str(actor.user.username)


# --- files -----------------------------------------------------------------------------------------


def attach_files(session: Session, *, dossier_id: int, actor: Any, uploads: list[Any], data_dir: Any,
                 now: datetime) -> list[Any]:
    """Check (type by content, size) and store files on a dossier the actor may see."""
    if actor is not SYSTEM:
        get_dossier(session, dossier_id=dossier_id, actor=actor)
    dossier = session.get(Dossier, dossier_id)
    assert dossier is not None
    return files.attach(session, case_id=dossier.case_id, uploads=uploads, data_dir=data_dir, actor=_cleared(actor),
                        now=now)


def attachments(session: Session, *, case_id: int) -> list[CaseAttachment]:
    return list(session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case_id)
                                .order_by(CaseAttachment.id)))


def get_attachment(session: Session, *, dossier_id: int, attachment_id: int, actor: Any) -> CaseAttachment:
    _dossier, case = get_dossier(session, dossier_id=dossier_id, actor=actor)
    found = session.get(CaseAttachment, attachment_id)
    if found is None or found.case_id != case.id:
        raise DossierNotFound("No such file on this dossier")
    return found


def register(session: Session, *, actor: Any, start: datetime, end: datetime,
             limit: int = 2000) -> list[tuple[Dossier, Case, Procedure]]:
    """The register book (form 07): dossiers received in ``[start, end)`` the actor may see, oldest first."""
    stmt = (select(Dossier, Case, Procedure).join(Case, Case.id == Dossier.case_id)
            .join(Procedure, Procedure.id == Dossier.procedure_id).where(visible_to(actor))
            .where(Case.received_at >= start, Case.received_at < end)
            .order_by(Case.received_at, Dossier.id).limit(limit))
    return [(d, c, p) for d, c, p in session.execute(stmt)]


# --- steps across agencies -------------------------------------------------------------------------


def next_step(procedure: Procedure, dossier: Dossier) -> dict[str, Any] | None:
    """The step after the current one, or ``None`` at the last step."""
    index = dossier.step_index + 1
    return procedure.steps[index] if index < len(procedure.steps) else None


def advance_step(session: Session, *, dossier_id: int, actor: Any, now: datetime,
                 note: str = "") -> tuple[Dossier, Case]:
    """The current agency finished its step: the dossier passes to the next step's agency (form 06 records it).

    Only the agency processing the dossier (or an administrator) does this, while it is in processing;
    at the last step the agency marks the result ready instead (:class:`NoNextStep`).
    """
    dossier, case = get_dossier(session, dossier_id=dossier_id, actor=actor)
    if role_of(actor) not in ("admin", "agency_staff"):
        raise TransitionNotAllowed("The role '{role}' may not pass a dossier to the next step", role=role_of(actor))
    if not (actor.sees_all_agencies() or actor.agency_id == case.agency_id):
        raise WrongAgency()
    case = lock_case(session, case_id=case.id, actor=_cleared(actor))
    procedure = session.get(Procedure, dossier.procedure_id)
    assert procedure is not None
    step = next_step(procedure, dossier)
    if case.status not in ("in_processing", "extended") or step is None:
        raise NoNextStep()
    agency = session.scalar(select(Agency).where(Agency.code == step["agency"]))
    if agency is None:
        raise ProcedureNotRoutable("No agency with code '{code}' processes procedure {procedure}",
                                   code=step["agency"], procedure=procedure.code)
    session.add(CaseEvent(case_id=case.id, at=now, actor_id=getattr(actor, "id", None), actor_name=_name(actor),
                          kind="step", reason=note.strip()[:2000],
                          data={"step": dossier.step_index + 1, "agency_from": case.agency_id,
                                "agency_to": agency.id}))
    case.agency_id, case.assignee_id, case.updated_at = agency.id, None, now
    dossier.step_index += 1
    session.flush()
    queue_event(session, "dossier.step", {"dossier_id": dossier.id, "code": dossier.code, "step": dossier.step_index,
                                          "agency_id": agency.id})
    return dossier, case
