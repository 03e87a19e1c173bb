"""The incident workflow as data: statuses, the allowed moves, their guards and effects, and one check.

Why not the shared case engine (:mod:`saola.cases`)? It is built for citizen reports and dossiers:
every case needs an owner agency (an incident opened by a rule may have none yet), a deadline and an
outcome counted in Vietnamese working days (an incident runs 24/7 and has no legal deadline), and its
``case.*`` events feed the hotline's reminders, citizen notices and on-time statistics, where an
incident does not belong. The pattern is the same: moves as data, guards checked before anything is
saved, ``TERMINAL`` defined once.

``open → dispatched → in_progress → resolved → closed``; an incident may also be resolved or closed
early (a false alarm) and a resolved one reopened (back to ``in_progress``, with a reason). Resolving
and closing need a resolution note, given with the move or already recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from saola.ioc.errors import InvalidIncidentTransition, ReasonRequired, ResolutionRequired

STATUSES = ("open", "dispatched", "in_progress", "resolved", "closed")
INITIAL = "open"
TERMINAL = frozenset({"closed"})
OPEN_STATUSES = frozenset({"open", "dispatched", "in_progress"})  # the incident still needs work (map, KPIs)
ACTIVE_STATUSES = frozenset(STATUSES) - TERMINAL  # not closed: units may still be dispatched and notes added

STATUS_LABELS = {"open": "Open", "dispatched": "Units dispatched", "in_progress": "In progress",
                 "resolved": "Resolved", "closed": "Closed"}
ACTION_LABELS = {"dispatched": "Mark units dispatched", "in_progress": "Start work on site", "resolved": "Resolve",
                 "closed": "Close", "reopen": "Reopen"}

# Guards and effects of a move.
RESOLUTION = "resolution_required"
REASON = "reason_required"
SET_DISPATCHED = "set_dispatched_at"
SET_RESOLVED = "set_resolved_at"
SET_CLOSED = "set_closed_at"
REOPEN = "reopen"


@dataclass(frozen=True)
class Move:
    guards: frozenset[str] = frozenset()
    effects: tuple[str, ...] = ()


def _move(*guards: str, effects: tuple[str, ...] = ()) -> Move:
    return Move(frozenset(guards), effects)


TRANSITIONS: Mapping[str, Mapping[str, Move]] = {
    "open": {"dispatched": _move(effects=(SET_DISPATCHED,)), "in_progress": _move(),
             "resolved": _move(RESOLUTION, effects=(SET_RESOLVED,)),
             "closed": _move(RESOLUTION, effects=(SET_RESOLVED, SET_CLOSED))},
    "dispatched": {"in_progress": _move(), "resolved": _move(RESOLUTION, effects=(SET_RESOLVED,))},
    "in_progress": {"resolved": _move(RESOLUTION, effects=(SET_RESOLVED,))},
    "resolved": {"closed": _move(RESOLUTION, effects=(SET_CLOSED,)),
                 "in_progress": _move(REASON, effects=(REOPEN,))},
    "closed": {},
}


def moves_from(status: str) -> tuple[str, ...]:
    return tuple(TRANSITIONS.get(status, {}))


def is_reopen(source: str, target: str) -> bool:
    move = TRANSITIONS.get(source, {}).get(target)
    return move is not None and REOPEN in move.effects


def check(source: str, target: str, *, resolution: str, reason: str) -> Move:
    """The move ``source → target`` if it is allowed and its guards pass; raises otherwise (nothing saved yet)."""
    move = TRANSITIONS.get(source, {}).get(target)
    if move is None:
        raise InvalidIncidentTransition("An incident in status '{status}' cannot move to '{to}'", status=source,
                                        to=target)
    if RESOLUTION in move.guards and not resolution.strip():
        raise ResolutionRequired(field="resolution")
    if REASON in move.guards and not reason.strip():
        raise ReasonRequired(field="reason")
    return move


def reachable() -> set[str]:
    seen, todo = {INITIAL}, [INITIAL]
    while todo:
        for target in TRANSITIONS[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


assert set(TRANSITIONS) == set(STATUSES) and all(not TRANSITIONS[s] for s in TERMINAL)
