"""The dossier lifecycle of Circular 03/2025/TT-VPCP on the case engine: appointment dates on the working-day
calendar, every allowed move, and the moves that must be refused (twice, too late, wrong agency or role)."""

from __future__ import annotations

from datetime import datetime

import pytest

from saola.cases.definitions import ADMIN_DOSSIER
from saola.cases.errors import ExtensionTooLate, TransitionNotAllowed, TransitionRepeated
from saola.egov import dossiers
from saola.egov.dossiers import CENTRE_MOVES, Applicant
from saola.egov.errors import DossierNotFound, ExtensionNotAllowed, WrongAgency
from tests.core.helpers import problem_code
from tests.egov.conftest import local

MONDAY = local("2026-03-02 09:00")  # 5 working days → due Monday 9 March 17:00


def _receive(db, actor, procedure_id: int, now: datetime = MONDAY):
    dossier, _case = dossiers.receive(db, procedure_id=procedure_id, applicant=Applicant(name="Phạm Thu Hà"),
                                     actor=actor(db, "clerk"), now=now)
    return dossier


@pytest.mark.parametrize(("received", "days", "due"), [
    ("2026-04-29 10:00", 3, "2026-05-06 17:00"),  # 30/4 and 1/5 are holidays, then a weekend
    ("2026-03-06 17:30", 1, "2026-03-10 17:00"),  # Friday after office hours: counted from Monday
    ("2026-03-06 16:59", 1, "2026-03-09 17:00"),  # Friday within office hours: counted from Friday
    ("2026-03-07 10:00", 1, "2026-03-10 17:00"),  # a Saturday: counted from Monday
    ("2026-02-13 10:00", 2, "2026-02-24 17:00"),  # Tết: 16-20 February 2026 are days off
    ("2026-01-09 10:00", 1, "2026-01-10 17:00"),  # Saturday 10/1/2026 is a make-up working day (for 2/1)
])
def test_the_appointment_follows_the_working_day_calendar(db, actor, make_procedure, received, days, due) -> None:
    procedure_id = make_procedure(processing_days=days, steps=[{"agency": "SXD", "days": days, "title": "x"}])
    dossier = _receive(db, actor, procedure_id, local(received))
    assert dossier.appointment_at == local(due)


def test_calendar_days_procedures_count_every_day(db, actor, make_procedure) -> None:
    procedure_id = make_procedure(processing_days=10, day_kind="calendar")
    dossier = _receive(db, actor, procedure_id, local("2026-04-29 10:00"))
    assert dossier.appointment_at == local("2026-05-09 10:00")


# --- every allowed move -------------------------------------------------------------------------------------

PATHS = {
    "received": [],
    "supplement_requested": ["supplement_requested"],
    "in_processing": ["in_processing"],
    "extended": ["in_processing", "extended"],
    "result_ready": ["in_processing", "result_ready"],
}


def _who(source: str, to: str) -> str:
    return "clerk" if (source, to) in CENTRE_MOVES or source == "supplement_requested" else "staff"


def _move(db, actor, dossier_id: int, source: str, to: str, now: datetime):
    return dossiers.move(db, dossier_id=dossier_id, to=to, actor=actor(db, _who(source, to)), now=now,
                         reason="Lý do cụ thể", new_appointment=local("2026-03-13 17:00") if to == "extended" else None)


@pytest.mark.parametrize(("source", "to"), ADMIN_DOSSIER.pairs())
def test_every_allowed_move_is_made_by_the_right_side(db, actor, procedure_id, source: str, to: str) -> None:
    dossier = _receive(db, actor, procedure_id)
    status, now = "received", local("2026-03-03 09:00")
    for step in PATHS[source]:
        _move(db, actor, dossier.id, status, step, now)
        status = step
    dossier, case = _move(db, actor, dossier.id, source, to, local("2026-03-04 09:00"))
    assert case.status == to
    assert (case.closed_at is not None) == (to in ("result_ready", "refused", "stopped") or to == "returned")


def test_a_full_lifecycle_ends_returned_early_with_the_history_kept(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    for source, step, now in (("received", "in_processing", "2026-03-02 10:00"),
                              ("in_processing", "result_ready", "2026-03-04 15:00"),
                              ("result_ready", "returned", "2026-03-05 09:00")):
        dossier, case = _move(db, actor, dossier.id, source, step, local(now))
    assert case.status == "returned"
    assert case.outcome == "early"
    kinds = [(e.kind, e.to_status) for e in dossiers.timeline(db, case_id=case.id)]
    assert kinds == [("created", None), ("transition", "in_processing"), ("transition", "result_ready"),
                     ("transition", "returned")]


def test_a_supplement_pauses_the_clock_by_the_working_time_waited(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    _move(db, actor, dossier.id, "received", "in_processing", local("2026-03-02 10:00"))
    _move(db, actor, dossier.id, "in_processing", "supplement_requested", local("2026-03-03 09:00"))
    dossier, _case = _move(db, actor, dossier.id, "supplement_requested", "in_processing", local("2026-03-05 09:00"))
    assert dossier.appointment_at == local("2026-03-11 17:00")  # two working days later than 9 March


def test_a_supplement_restarts_the_clock_when_the_procedure_says_so(db, actor, make_procedure) -> None:
    dossier = _receive(db, actor, make_procedure(supplement_clock="restart"))
    _move(db, actor, dossier.id, "received", "in_processing", local("2026-03-02 10:00"))
    _move(db, actor, dossier.id, "in_processing", "supplement_requested", local("2026-03-03 09:00"))
    dossier, _case = _move(db, actor, dossier.id, "supplement_requested", "in_processing", local("2026-03-05 09:00"))
    assert dossier.appointment_at == local("2026-03-12 17:00")  # five working days from 5 March


def test_an_extension_sets_a_new_appointment_and_records_the_apology(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    _move(db, actor, dossier.id, "received", "in_processing", local("2026-03-02 10:00"))
    dossier, case = _move(db, actor, dossier.id, "in_processing", "extended", local("2026-03-05 09:00"))
    assert dossier.appointment_at == local("2026-03-13 17:00") == case.deadline_at
    assert dossier.apology_at == local("2026-03-05 09:00")


# --- refused moves ----------------------------------------------------------------------------------------


def test_a_supplement_can_be_requested_only_once(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    _move(db, actor, dossier.id, "received", "supplement_requested", local("2026-03-02 10:00"))
    _move(db, actor, dossier.id, "supplement_requested", "in_processing", local("2026-03-02 11:00"))
    with pytest.raises(TransitionRepeated):
        _move(db, actor, dossier.id, "in_processing", "supplement_requested", local("2026-03-03 10:00"))


def test_an_extension_on_the_due_day_is_too_late(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    _move(db, actor, dossier.id, "received", "in_processing", local("2026-03-02 10:00"))
    with pytest.raises(ExtensionTooLate):
        _move(db, actor, dossier.id, "in_processing", "extended", local("2026-03-09 08:00"))


def test_an_extension_is_refused_when_the_procedure_does_not_allow_it(db, actor, make_procedure) -> None:
    dossier = _receive(db, actor, make_procedure(extension_allowed=False))
    _move(db, actor, dossier.id, "received", "in_processing", local("2026-03-02 10:00"))
    with pytest.raises(ExtensionNotAllowed):
        _move(db, actor, dossier.id, "in_processing", "extended", local("2026-03-03 10:00"))


def test_the_receiving_centre_cannot_decide_for_the_processing_agency(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    _move(db, actor, dossier.id, "received", "in_processing", local("2026-03-02 10:00"))
    with pytest.raises(WrongAgency):
        dossiers.move(db, dossier_id=dossier.id, to="result_ready", actor=actor(db, "clerk"),
                      now=local("2026-03-03 10:00"))


def test_the_processing_agency_cannot_make_the_centres_moves(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    with pytest.raises(WrongAgency):
        dossiers.move(db, dossier_id=dossier.id, to="in_processing", actor=actor(db, "staff"),
                      now=local("2026-03-02 10:00"))


def test_another_agency_does_not_even_see_the_dossier(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    _move(db, actor, dossier.id, "received", "in_processing", local("2026-03-02 10:00"))
    with pytest.raises(DossierNotFound):
        dossiers.move(db, dossier_id=dossier.id, to="result_ready", actor=actor(db, "staff2"),
                      now=local("2026-03-03 10:00"))


def test_the_engines_role_rules_still_apply_to_users_who_see_every_agency(db, actor, procedure_id) -> None:
    dossier = _receive(db, actor, procedure_id)
    _move(db, actor, dossier.id, "received", "in_processing", local("2026-03-02 10:00"))
    with pytest.raises(TransitionNotAllowed):  # an IOC operator sees all dossiers but is not in the workflow
        dossiers.move(db, dossier_id=dossier.id, to="result_ready", actor=actor(db, "operator"),
                      now=local("2026-03-03 10:00"))


def test_refused_moves_answer_with_stable_codes_and_change_nothing(client, token, procedure_id) -> None:
    clerk = {"Authorization": f"Bearer {token('clerk')}"}
    staff = {"Authorization": f"Bearer {token('staff')}"}
    created = client.post("/api/v1/dossiers", headers=clerk, json={"procedure_code": "9.000001",
                                                                   "applicant_name": "Phạm Thu Hà"}).json()
    url = f"/api/v1/dossiers/{created['id']}/transitions"
    wrong = client.post(url, headers=staff, json={"to": "in_processing"})
    assert (wrong.status_code, problem_code(wrong)) == (403, "wrong-agency")
    assert client.post(url, headers=clerk, json={"to": "supplement_requested"}).status_code == 422  # reason needed
    assert client.post(url, headers=clerk, json={"to": "returned"}).status_code == 409
    viewer = client.post(url, headers={"Authorization": f"Bearer {token('viewer')}"}, json={"to": "in_processing"})
    assert (viewer.status_code, problem_code(viewer)) == (403, "permission-denied")
    assert client.get(f"/api/v1/dossiers/{created['id']}", headers=clerk).json()["status"] == "received"
    moved = client.post(url, headers=clerk, json={"to": "in_processing"})
    assert moved.status_code == 200 and moved.json()["status"] == "in_processing"
    late = client.post(url, headers=staff, json={"to": "extended", "reason": "Cần thẩm định thực địa",
                                                 "new_appointment": "2020-01-01"})
    assert (late.status_code, problem_code(late)) == (422, "invalid-deadline")


# --- steps across agencies ------------------------------------------------------------------------------


def test_a_dossier_passes_from_agency_to_agency_along_the_procedures_steps(client, token, make_procedure) -> None:
    make_procedure(code="9.000010", steps=[{"agency": "SXD", "days": 2, "title": "Thẩm định"},
                                           {"agency": "SYT", "days": 3, "title": "Cho ý kiến"}])
    clerk, staff, staff2 = (bearer(token(u)) for u in ("clerk", "staff", "staff2"))
    created = client.post("/api/v1/dossiers", headers=clerk, json={"procedure_code": "9.000010",
                                                                   "applicant_name": "Phạm Thu Hà"}).json()
    base = f"/api/v1/dossiers/{created['id']}"
    early = client.post(base + "/next-step", headers=staff, json={})
    assert (early.status_code, problem_code(early)) == (409, "no-next-step")  # still at the centre
    assert client.post(base + "/transitions", headers=clerk, json={"to": "in_processing"}).status_code == 200
    assert client.post(base + "/next-step", headers=clerk, json={}).status_code == 403  # not the clerk's step
    passed = client.post(base + "/next-step", headers=staff, json={"note": "Đã thẩm định, đề nghị cho ý kiến"})
    assert passed.status_code == 200, passed.text
    assert passed.json()["agency_id"] == 3  # Sở Y tế now holds it
    assert client.get(base, headers=staff).status_code == 404  # the previous agency no longer sees it
    last = client.post(base + "/next-step", headers=staff2, json={})
    assert (last.status_code, problem_code(last)) == (409, "no-next-step")
    done = client.post(base + "/transitions", headers=staff2, json={"to": "result_ready"})
    assert done.status_code == 200
    kinds = [e["kind"] for e in client.get(base, headers=clerk).json()["timeline"]]
    assert kinds == ["created", "transition", "step", "transition"]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
