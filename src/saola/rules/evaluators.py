"""Pure evaluators of rule conditions: one per condition kind, no database, no clock of their own.

:func:`make_evaluator` turns a condition of :mod:`saola.rules.definitions` into a function
``(state, value, t) -> bool`` that decides whether the condition holds for one subject given a new
value of the watched attribute at time ``t`` (seconds since the epoch). The function keeps what it
needs between calls in ``state`` (a plain JSON-serialisable dict, see :mod:`saola.rules.state`):
the hysteresis latch of a threshold, recent samples for a rate of change or an anomaly score, the
last known inside/outside of a geofence. It raises :class:`EvaluationError` when the value cannot be
judged (text compared with a number, a location that is not a point); the engine records that
error for the rule and subject and goes on with the other rules.

The timing behaviour common to every kind (``for_seconds``, ``clear_after_seconds``,
``cooldown_seconds``, active windows) is the engine's, not the evaluators'. ``no_data`` is judged on
a schedule by :func:`no_data_due`. Areas (a ward by its official code or a GeoJSON polygon) become
shapely geometries through :func:`area_shape`, read once from the shipped ward boundaries.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

import shapely
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry

from saola.rules.definitions import (
    Anomaly,
    Area,
    Condition,
    DeviceOffline,
    Geofence,
    NoData,
    RateOfChange,
    Threshold,
)
from saola.rules.state import State

Evaluator = Callable[[State, Any, float], bool]
WARDS_FILE = "bac_ninh_wards.geojson"
MAD_SCALE = 0.6745  # makes the MAD of a normal distribution comparable with its standard deviation
MEAN_AD_SCALE = 1.2533  # sqrt(pi/2): mean absolute deviation → standard deviation, when the MAD is 0

_ORDER: dict[str, Callable[[Any, Any], bool]] = {">": operator.gt, ">=": operator.ge, "<": operator.lt,
                                                  "<=": operator.le}


class EvaluationError(ValueError):
    """A value the condition cannot judge; recorded for the rule and subject, never swallowed."""


# --- values ----------------------------------------------------------------------------------------


def as_number(value: Any, what: str = "value") -> float:
    """A finite number from a value (bools are not numbers); :class:`EvaluationError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvaluationError(f"the {what} {value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise EvaluationError(f"the {what} {value!r} is not a finite number")
    return number


def compare(op: str, value: Any, reference: Any) -> bool:
    """``value op reference``: ordering needs two numbers; equality compares numbers as numbers."""
    if op in _ORDER:
        return _ORDER[op](as_number(value), as_number(reference, "threshold"))
    if isinstance(reference, (int, float)) and not isinstance(reference, bool) \
            and isinstance(value, (int, float)) and not isinstance(value, bool):
        equal = float(value) == float(reference)
    else:
        equal = value == reference
    return equal if op == "==" else not equal


# --- threshold -------------------------------------------------------------------------------------


def _threshold(cond: Threshold) -> Evaluator:
    op, reference, clear_value = cond.op, cond.value, cond.clear_value
    if op not in _ORDER:
        def equality(st: State, value: Any, t: float) -> bool:
            return compare(op, value, reference)

        return equality
    order = _ORDER[op]
    limit = as_number(reference, "threshold")
    hysteresis = clear_value is not None
    rising = op in (">", ">=")

    def evaluate(st: State, value: Any, t: float) -> bool:
        kind = value.__class__
        number = value if kind is float or kind is int else as_number(value)  # the fast path: a plain number
        holds = order(number, limit)
        if hysteresis:
            if not holds and st.get("latched"):
                # raised past the threshold: clear only once the value passes clear_value back
                holds = number >= clear_value if rising else number <= clear_value  # type: ignore[operator]
            if holds:
                st["latched"] = True
            else:
                st.pop("latched", None)
        return holds

    return evaluate


# --- rate of change --------------------------------------------------------------------------------


def _rate_of_change(cond: RateOfChange) -> Evaluator:
    per, op, limit = float(cond.per_seconds), cond.op, cond.value

    def evaluate(st: State, value: Any, t: float) -> bool:
        number = as_number(value)
        samples: list[list[float]] = st.setdefault("samples", [])
        # keep the samples of the last per_seconds, plus the newest one before them as the reference
        while len(samples) > 1 and t - samples[1][0] >= per:
            samples.pop(0)
        rate = None
        if samples and t > samples[0][0]:
            first_t, first_v = samples[0]
            rate = (number - first_v) / (t - first_t) * per
        samples.append([t, number])
        st["rate"] = rate
        if rate is None:
            return False
        return rate > limit if op == ">" else rate < limit

    return evaluate


# --- anomaly -----------------------------------------------------------------------------------------


def robust_score(value: float, samples: list[float]) -> float:
    """0.6745·|x − median| / MAD over ``samples`` (mean absolute deviation when the MAD is 0)."""
    ordered = sorted(samples)
    n = len(ordered)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    deviations = sorted(abs(s - median) for s in ordered)
    mad = deviations[mid] if n % 2 else (deviations[mid - 1] + deviations[mid]) / 2
    distance = abs(value - median)
    if mad > 0:
        return MAD_SCALE * distance / mad
    mean_ad = sum(deviations) / n
    if mean_ad > 0:
        return distance / (MEAN_AD_SCALE * mean_ad)
    return 0.0 if distance == 0 else math.inf


def _anomaly(cond: Anomaly) -> Evaluator:
    window, min_samples, limit = cond.window, cond.min_samples, cond.score

    def evaluate(st: State, value: Any, t: float) -> bool:
        number = as_number(value)
        history: list[float] = st.setdefault("history", [])
        anomalous = False
        if len(history) >= min_samples:
            score = robust_score(number, history)
            st["score"] = None if math.isinf(score) else round(score, 3)
            anomalous = score > limit
        history.append(number)
        if len(history) > window:
            del history[: len(history) - window]
        return anomalous

    return evaluate


# --- no data, device offline -------------------------------------------------------------------------


def _no_data(cond: NoData) -> Evaluator:
    def evaluate(st: State, value: Any, t: float) -> bool:
        st["seen"] = t  # a new value: the data is there
        return False

    return evaluate


def no_data_due(cond: NoData, st: State, now: float) -> bool:
    """True when the subject's last value is older than ``after_seconds`` (judged on a schedule)."""
    seen = st.get("seen")
    return seen is not None and now - seen >= cond.after_seconds


def _device_offline(cond: DeviceOffline) -> Evaluator:
    def evaluate(st: State, value: Any, t: float) -> bool:
        return bool(value)  # the engine passes True on device.offline, False on device.online

    return evaluate


# --- geofence ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _ward_shapes() -> dict[str, BaseGeometry]:
    text = resources.files("saola.data.geo").joinpath(WARDS_FILE).read_text("utf-8")
    return {f["properties"]["code"]: shape(f["geometry"]) for f in json.loads(text)["features"]}


def ward_shape(code: str) -> BaseGeometry | None:
    """The boundary of a shipped ward or commune by its official code."""
    return _ward_shapes().get(code)


def area_shape(area: Area) -> BaseGeometry:
    """The area as a (prepared) shapely geometry; :class:`EvaluationError` for an unknown ward."""
    if area.ward_code is not None:
        geom = ward_shape(area.ward_code)
        if geom is None:
            raise EvaluationError(f"no shipped ward has the code {area.ward_code}")
    else:
        geom = shape(area.geometry)
    shapely.prepare(geom)
    return geom


def area_location(area: Area) -> dict[str, Any]:
    """A GeoJSON point for an alert about an area (its representative point)."""
    geom = area_shape(area)
    return mapping(geom.representative_point())


def point_of(value: Any) -> Point:
    """The point of a GeoJSON geometry value (a Point, or the centroid of anything else)."""
    if not isinstance(value, dict) or "type" not in value:
        raise EvaluationError("the location is not a GeoJSON geometry")
    if value["type"] == "Point":
        coords = value.get("coordinates")
        if not isinstance(coords, (list, tuple)) or len(coords) < 2:
            raise EvaluationError("the location is not a valid GeoJSON Point")
        return Point(as_number(coords[0], "longitude"), as_number(coords[1], "latitude"))
    try:
        return shape(value).centroid
    except Exception as exc:  # shapely raises several kinds for malformed coordinates
        raise EvaluationError(f"the location cannot be read: {exc}") from exc


def _geofence(cond: Geofence) -> Evaluator:
    geom = area_shape(cond.area)
    on = cond.on

    def evaluate(st: State, value: Any, t: float) -> bool:
        inside = bool(geom.covers(point_of(value)))
        if on == "inside":
            return inside
        if on == "outside":
            return not inside
        before = st.get("inside")
        st["inside"] = inside  # enter/leave need the previous answer
        held = bool(st.get("latched"))
        # enter: moved in from outside (first seen inside is not an entry), holds while inside; leave: the reverse
        entered = inside and (held or before is False)
        left = not inside and (held or before is True)
        holds = entered if on == "enter" else left
        if holds:
            st["latched"] = True
        else:
            st.pop("latched", None)
        return holds

    return evaluate


# --- dispatch ----------------------------------------------------------------------------------------

_FACTORIES: dict[str, Callable[[Any], Evaluator]] = {
    "threshold": _threshold, "rate_of_change": _rate_of_change, "anomaly": _anomaly, "no_data": _no_data,
    "device_offline": _device_offline, "geofence": _geofence,
}


def make_evaluator(condition: Condition) -> Evaluator:
    """The evaluator of a simple condition (a composite is evaluated part by part by the engine)."""
    factory = _FACTORIES.get(condition.kind)
    if factory is None:
        raise ValueError(f"no evaluator for condition kind {condition.kind!r}")
    return factory(condition)


def combine(mode: str, counts: list[int], minimums: list[int]) -> bool:
    """A composite's truth: ``all``/``any`` of its parts, a part true with ≥ min_entities entities."""
    parts = [count >= minimum for count, minimum in zip(counts, minimums, strict=True)]
    return all(parts) if mode == "all" else any(parts)
