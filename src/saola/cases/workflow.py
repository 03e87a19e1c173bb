"""Workflows as data: states, the allowed moves between them, who may make each move, and its guards and effects.

A :class:`WorkflowDefinition` is checked when it is built (every state named, terminal states
without a way out); :func:`register_workflow` makes it available to the engine by name
(:func:`get_workflow`). The engine (:func:`saola.cases.service.transition`) reads the
:class:`Rule` of a move and enforces it; nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from saola.cases.errors import UnknownWorkflow

ROLES = frozenset({"admin", "operator", "agency_staff", "clerk", "viewer", "system"})

# Guards: checked before anything is saved.
REASON_REQUIRED = "reason_required"  # a non-blank reason (shown in the history; to the citizen when public)
RESOLUTION_REQUIRED = "resolution_required"  # the case's resolution text is given or already set
ASSIGNEE_REQUIRED = "assignee_required"  # the case has (or is given) an assignee
AT_MOST_ONCE = "at_most_once"  # the case never entered the target status before
TARGET_AGENCY_REQUIRED = "target_agency_required"  # another existing agency is named
NEW_DEADLINE_REQUIRED = "new_deadline_required"  # a new deadline later than the current one
EXTENSION_NOTICE = "extension_notice"  # requested no later than one working day before the deadline
GUARDS = frozenset({REASON_REQUIRED, RESOLUTION_REQUIRED, ASSIGNEE_REQUIRED, AT_MOST_ONCE, TARGET_AGENCY_REQUIRED,
                    NEW_DEADLINE_REQUIRED, EXTENSION_NOTICE})

# Effects: applied, in this order, once every guard passed.
PAUSE_CLOCK = "pause_clock"  # the deadline stops running (supplement requested)
RESUME_CLOCK = "resume_clock"  # the deadline moves by the working time paused
CHANGE_AGENCY = "change_agency"  # the target agency becomes the owner; the assignee is cleared
EXTEND_DEADLINE = "extend_deadline"  # the new deadline replaces the current one
FINISH = "finish"  # closed_at and the outcome (early / on_time / late) are set
REOPEN = "reopen"  # closed_at and the outcome are cleared
EFFECTS = (PAUSE_CLOCK, RESUME_CLOCK, CHANGE_AGENCY, EXTEND_DEADLINE, FINISH, REOPEN)


@dataclass(frozen=True)
class Rule:
    """One allowed move: the roles that may make it, its guards and its effects."""

    roles: frozenset[str]
    guards: frozenset[str] = frozenset()
    effects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.roles or not self.roles <= ROLES:
            raise ValueError(f"unknown roles in rule: {sorted(self.roles - ROLES)}")
        if not self.guards <= GUARDS:
            raise ValueError(f"unknown guards: {sorted(self.guards - GUARDS)}")
        if not set(self.effects) <= set(EFFECTS):
            raise ValueError(f"unknown effects: {sorted(set(self.effects) - set(EFFECTS))}")


def rule(*roles: str, guards: Iterable[str] = (), effects: Iterable[str] = ()) -> Rule:
    """``rule("admin", "operator", guards=[REASON_REQUIRED])`` — effects keep the engine's order."""
    wanted = set(effects)
    if not wanted <= set(EFFECTS):
        raise ValueError(f"unknown effects: {sorted(wanted - set(EFFECTS))}")
    return Rule(frozenset(roles), frozenset(guards), tuple(e for e in EFFECTS if e in wanted))


@dataclass(frozen=True)
class WorkflowDefinition:
    """A case type's workflow; ``code_prefix`` starts its case codes (``PA`` → ``PA-2026-000123``)."""

    name: str
    states: tuple[str, ...]
    initial: str
    terminal: frozenset[str]
    transitions: Mapping[str, Mapping[str, Rule]]
    code_prefix: str = "CS"
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = set(self.states)
        if len(known) != len(self.states):
            raise ValueError(f"{self.name}: duplicate states")
        if self.initial not in known or not self.terminal <= known:
            raise ValueError(f"{self.name}: initial or terminal states are not among the states")
        for source, moves in self.transitions.items():
            if source not in known or not set(moves) <= known:
                raise ValueError(f"{self.name}: transition from or to an unknown state at {source!r}")
            if source in self.terminal and moves:
                raise ValueError(f"{self.name}: terminal state {source!r} has transitions")
            if source in moves:
                raise ValueError(f"{self.name}: {source!r} moves to itself")
        if not 1 <= len(self.code_prefix) <= 10 or not self.code_prefix.isalnum():
            raise ValueError(f"{self.name}: code prefix must be 1-10 letters or digits")

    def moves_from(self, state: str) -> Mapping[str, Rule]:
        return self.transitions.get(state, {})

    def rule_for(self, source: str, target: str) -> Rule | None:
        return self.moves_from(source).get(target)

    def reachable(self) -> set[str]:
        """The states reachable from the initial state (including it)."""
        seen, todo = {self.initial}, [self.initial]
        while todo:
            for target in self.moves_from(todo.pop()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    def pairs(self) -> list[tuple[str, str]]:
        """Every allowed ``(from, to)`` move."""
        return [(s, t) for s in self.states for t in self.moves_from(s)]


_REGISTRY: dict[str, WorkflowDefinition] = {}


def register_workflow(definition: WorkflowDefinition) -> WorkflowDefinition:
    """Make ``definition`` available by name; registering the same name twice is an error."""
    existing = _REGISTRY.get(definition.name)
    if existing is not None and existing is not definition:
        raise ValueError(f"workflow {definition.name!r} is already registered")
    _REGISTRY[definition.name] = definition
    return definition


def get_workflow(name: str) -> WorkflowDefinition:
    import saola.cases.definitions  # noqa: F401  (registers the built-in definitions)

    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownWorkflow("Unknown case workflow '{name}'", field="case_type", name=name) from None


def registered_workflows() -> tuple[WorkflowDefinition, ...]:
    import saola.cases.definitions  # noqa: F401

    return tuple(_REGISTRY.values())
