"""Every registered workflow definition is sound: reachable states, no dead ends, closed terminal states."""

from __future__ import annotations

import pytest

from saola.cases.errors import UnknownWorkflow
from saola.cases.workflow import (
    REASON_REQUIRED,
    WorkflowDefinition,
    get_workflow,
    register_workflow,
    registered_workflows,
    rule,
)

DEFINITIONS = {d.name: d for d in registered_workflows()}


def test_the_hotline_and_the_one_stop_shop_register_their_workflows() -> None:
    assert {"feedback_report", "admin_dossier"} <= set(DEFINITIONS)
    assert get_workflow("feedback_report").code_prefix == "PA"
    assert get_workflow("admin_dossier").code_prefix == "HS"


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_state_is_reachable_from_the_initial_state(name: str) -> None:
    definition = DEFINITIONS[name]
    assert definition.reachable() == set(definition.states)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_non_terminal_state_has_a_way_out_and_terminal_states_have_none(name: str) -> None:
    definition = DEFINITIONS[name]
    for state in definition.states:
        assert bool(definition.moves_from(state)) is (state not in definition.terminal), state
    assert definition.terminal


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_state_has_a_vietnamese_label(name: str) -> None:
    definition = DEFINITIONS[name]
    assert set(definition.labels) == set(definition.states)


def test_reasons_are_required_where_the_issues_ask_for_them() -> None:
    feedback, dossier = get_workflow("feedback_report"), get_workflow("admin_dossier")
    for source, moves in feedback.transitions.items():
        for target in ("rejected", "forwarded", "reopened"):
            if target in moves:
                assert REASON_REQUIRED in moves[target].guards, (source, target)
    for source, moves in dossier.transitions.items():
        for target in ("refused", "stopped", "extended", "supplement_requested"):
            if target in moves:
                assert REASON_REQUIRED in moves[target].guards, (source, target)


def test_an_unknown_workflow_is_a_stable_error() -> None:
    with pytest.raises(UnknownWorkflow) as err:
        get_workflow("parking_ticket")
    assert err.value.code == "unknown-workflow"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"initial": "nowhere"}, "initial"),
    ({"terminal": frozenset({"b"}), "transitions": {"a": {"b": rule("admin")}, "b": {"a": rule("admin")}}},
     "terminal state"),
    ({"transitions": {"a": {"zzz": rule("admin")}}}, "unknown state"),
    ({"transitions": {"a": {"a": rule("admin")}}}, "itself"),
    ({"code_prefix": "P-A"}, "prefix"),
])
def test_a_broken_definition_is_refused_when_built(kwargs: dict, message: str) -> None:
    base = {"name": "broken", "states": ("a", "b"), "initial": "a", "terminal": frozenset({"b"}),
            "transitions": {"a": {"b": rule("admin")}}}
    with pytest.raises(ValueError, match=message):
        WorkflowDefinition(**(base | kwargs))


@pytest.mark.parametrize(("roles", "guards", "effects"), [
    (("superuser",), (), ()), (("admin",), ("be_nice",), ()), (("admin",), (), ("explode",)), ((), (), ()),
])
def test_rules_name_only_known_roles_guards_and_effects(roles: tuple, guards: tuple, effects: tuple) -> None:
    with pytest.raises(ValueError):
        rule(*roles, guards=guards, effects=effects)


def test_a_name_cannot_be_registered_twice() -> None:
    copy = WorkflowDefinition(name="feedback_report", states=("a",), initial="a", terminal=frozenset({"a"}),
                              transitions={})
    with pytest.raises(ValueError, match="already registered"):
        register_workflow(copy)
    assert register_workflow(get_workflow("feedback_report")) is get_workflow("feedback_report")
