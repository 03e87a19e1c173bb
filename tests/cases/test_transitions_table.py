"""Table-driven over every (from, to) pair and every role: the engine does exactly what the definitions say.

An allowed move by an allowed role succeeds and appends one transition event; a move not in the
table is ``invalid-transition`` and a role not in the rule is ``transition-not-allowed``; a
rejected move saves nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from saola.cases import service
from saola.cases.actors import SYSTEM
from saola.cases.errors import InvalidTransition, TransitionNotAllowed
from saola.cases.workflow import ROLES, get_workflow, registered_workflows
from tests.cases.conftest import NOW
from tests.cases.helpers import new_case, saved

ACTOR_OF_ROLE = {"admin": "admin", "operator": "operator", "agency_staff": "staff", "clerk": "clerk",
                 "viewer": "viewer"}
AGENCY_OF_ROLE = {"admin": "SXD", "operator": "IOC", "agency_staff": "SXD", "clerk": "TTPVHCC", "viewer": "SXD",
                  "system": "SXD"}
ASSIGNEE_IN = {"SXD": "staff", "IOC": "operator", "TTPVHCC": "clerk"}
PAIRS = [(d.name, s) for d in registered_workflows() for s in d.states]


def test_the_table_covers_every_role() -> None:
    assert set(AGENCY_OF_ROLE) == ROLES


@pytest.mark.parametrize(("name", "source"), PAIRS)
def test_every_move_from_a_state_is_allowed_or_rejected_as_the_table_says(
        db: Session, people: dict, agencies: dict, name: str, source: str) -> None:
    definition = get_workflow(name)
    for target in definition.states:
        rule = definition.rule_for(source, target)
        roles = sorted(ROLES) if rule is not None else ["admin"]
        for role in roles:
            actor = SYSTEM if role == "system" else people[ACTOR_OF_ROLE[role]]
            agency = AGENCY_OF_ROLE[role]
            case = new_case(db, name, agencies[agency], status=source)
            before = saved(db, case.id)
            args = dict(case_id=case.id, to=target, actor=actor, now=NOW + timedelta(hours=1), reason="Lý do",
                        resolution="Đã thay bóng đèn", assignee_id=people[ASSIGNEE_IN[agency]].id,
                        target_agency_id=agencies["SYT"], new_deadline=case.deadline_at + timedelta(days=5))
            where = f"{name}: {source} → {target} by {role}"
            if rule is None:
                with pytest.raises(InvalidTransition) as err:
                    service.transition(db, **args)
                assert err.value.code == "invalid-transition" and err.value.status == 409, where
                assert saved(db, case.id) == before, where
            elif role not in rule.roles:
                with pytest.raises(TransitionNotAllowed) as denied:
                    service.transition(db, **args)
                assert denied.value.code == "transition-not-allowed" and denied.value.status == 403, where
                assert saved(db, case.id) == before, where
            else:
                moved = service.transition(db, **args)
                assert moved.status == target, where
                status, count = saved(db, case.id)
                assert status == target and count > before[1], where
                last = [e for e in service.history(db, case_id=case.id, actor=SYSTEM) if e.kind == "transition"][-1]
                assert (last.from_status, last.to_status, last.reason) == (source, target, "Lý do"), where
