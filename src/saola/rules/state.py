"""Per-subject evaluation state of the rule engine: a plain dict, JSON-serialisable, checkpointed to the database.

One state per (rule, subject). The subject is an entity id, ``area:<ward code or name>`` for a
composite rule, and ``<entity id>#<part>`` for one entity's standing in a composite rule's part.
Times are seconds since the epoch (floats) so that the state round-trips through JSON unchanged.

Keys (all optional; a fresh state is ``{}``):

======================  ============================================================================
``active``              an alert is raised for this subject (so a restart does not raise it twice)
``true_since``          the condition has held since then and no alert is raised yet (``for_seconds``,
                        cooldown or an inactive window hold it back); the tick looks at it again
``false_since``         the alert is active but the condition has not held since then (``clear_after``)
``cleared_at``          when the last alert was cleared (``cooldown_seconds``)
``raised_at``           when the active alert was raised
``updated_at``          when the alert was last updated with a new value
``value``               the last value judged
``cond``                the last raw condition (the evaluator's answer)
``entity_type``         the subject's type IRI (for alerts raised by the tick)
``location``            the subject's last GeoJSON location (for alerts)
``latched``             evaluator: threshold hysteresis / geofence transition latch
``samples``             evaluator: ``[[t, value], ...]`` of the last ``per_seconds`` (rate of change)
``history``             evaluator: the last ``window`` values (anomaly)
``seen``                evaluator: when a value last arrived (no data)
``inside``              evaluator: the last geofence answer
``members``             composite: per part, the entity ids that satisfy it
======================  ============================================================================
"""

from __future__ import annotations

import json
from typing import Any

State = dict[str, Any]

# keys that say where an alert stands: kept when a rule's new version changes its condition kind
LIFECYCLE_KEYS = ("active", "cleared_at", "raised_at", "updated_at", "entity_type", "location")


def new_state() -> State:
    return {}


def dumps(state: State) -> str:
    """The state as compact JSON (infinite numbers are not JSON: stored as null)."""
    return json.dumps(state, separators=(",", ":"), allow_nan=False, default=str)


def loads(text: str | dict[str, Any] | None) -> State:
    """A state from its JSON text (or the already decoded dict a JSON column returns)."""
    if text is None:
        return {}
    if isinstance(text, dict):
        return dict(text)
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def lifecycle_only(state: State) -> State:
    """What survives a change of the rule's condition kind: whether an alert is raised, and when."""
    return {key: state[key] for key in LIFECYCLE_KEYS if key in state}


def is_pending(state: State) -> bool:
    """A timer is running: the condition holds without an alert yet, or an active alert waits to clear."""
    return ("true_since" in state and not state.get("active")) or ("false_since" in state and bool(state.get("active")))


def is_idle(state: State) -> bool:
    """Nothing worth keeping: no alert, no timer, no evaluator memory (the state can be forgotten)."""
    return not any(key in state for key in ("active", "true_since", "false_since", "cleared_at", "samples",
                                              "history", "seen", "latched", "inside", "members"))


def for_storage(state: State) -> dict[str, Any]:
    """A copy fit for a JSON column: composite member sets become sorted lists."""
    stored = dict(state)
    members = stored.get("members")
    if members is not None:
        stored["members"] = [sorted(group) for group in members]
    for key in ("samples", "history"):
        if key in stored:
            stored[key] = list(stored[key])
    return stored


def from_storage(stored: dict[str, Any] | str | None) -> State:
    """A working state from its stored JSON: member lists become sets again."""
    state = loads(stored)
    members = state.get("members")
    if members is not None:
        state["members"] = [set(group) for group in members]
    return state
