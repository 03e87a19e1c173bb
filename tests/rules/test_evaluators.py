"""The pure evaluators, one per condition kind, on recorded value sequences."""

from __future__ import annotations

import math

import pytest

from saola.rules.definitions import Anomaly, Area, Geofence, NoData, RateOfChange, Threshold
from saola.rules.evaluators import EvaluationError, combine, make_evaluator, no_data_due, robust_score
from saola.rules.state import dumps, for_storage, from_storage
from tests.rules.engine_support import INSIDE, OUTSIDE, WARD


def run(condition, values, times=None):
    evaluate = make_evaluator(condition)
    st: dict = {}
    times = times or list(range(len(values)))
    return [evaluate(st, v, float(t)) for v, t in zip(values, times, strict=True)], st


@pytest.mark.parametrize(("op", "value", "samples", "expected"), [
    (">", 55, [50, 55, 56, 80], [False, False, True, True]),
    (">=", 55, [54.9, 55], [False, True]),
    ("<", 0.2, [0.5, 0.1], [False, True]),
    ("<=", 10, [10, 11], [True, False]),
    ("==", "jam", ["free", "jam"], [False, True]),
    ("!=", "ok", ["ok", "defectiveLamp"], [False, True]),
    ("==", 1, [1.0, 2], [True, False]),
])
def test_threshold_compares_each_value(op, value, samples, expected):
    holds, _st = run(Threshold(attribute="pm25", op=op, value=value), samples)
    assert holds == expected


def test_threshold_with_clear_value_holds_until_the_value_passes_back():
    cond = Threshold(attribute="pm25", op=">", value=55, clear_value=45)
    holds, _st = run(cond, [50, 56, 50, 46, 45, 44.9, 50, 56])
    assert holds == [False, True, True, True, True, False, False, True]


def test_threshold_below_with_clear_value_mirrors():
    cond = Threshold(attribute="level", op="<", value=10, clear_value=15)
    holds, _st = run(cond, [12, 9, 14, 15, 15.1])
    assert holds == [False, True, True, True, False]


def test_threshold_on_text_with_an_ordering_is_an_error():
    evaluate = make_evaluator(Threshold(attribute="pm25", op=">", value=55))
    with pytest.raises(EvaluationError, match="not a number"):
        evaluate({}, "high", 0.0)
    with pytest.raises(EvaluationError):
        evaluate({}, True, 0.0)


def test_rate_of_change_per_period():
    cond = RateOfChange(attribute="waterLevel", per_seconds=60, op=">", value=0.5)
    # +0.2 m per minute, then +1 m in one minute
    holds, st = run(cond, [1.0, 1.2, 1.4, 2.4], [0, 60, 120, 180])
    assert holds == [False, False, False, True]
    assert st["rate"] == pytest.approx(1.0)


def test_rate_of_change_falling():
    cond = RateOfChange(attribute="voltage", per_seconds=10, op="<", value=-5)
    holds, _st = run(cond, [22.0, 21.0, 10.0], [0, 10, 20])
    assert holds == [False, False, True]


def test_robust_score_is_the_mad_z_score():
    samples = [10.0, 11, 9, 10, 12, 8, 10]
    # median 10, deviations 0,1,1,0,2,2,0 → MAD 1
    assert robust_score(14, samples) == pytest.approx(0.6745 * 4)
    assert robust_score(5, [5.0] * 10) == 0
    assert math.isinf(robust_score(6, [5.0] * 10))


def test_anomaly_needs_min_samples_then_flags_outliers():
    cond = Anomaly(attribute="pm25", window=20, min_samples=10, score=3.5)
    normal = [30, 31, 29, 30, 32, 28, 30, 31, 29, 30]
    holds, st = run(cond, [*normal, 31, 90, 30])
    assert holds == [False] * 10 + [False, True, False]
    assert len(st["history"]) == 13


def test_anomaly_window_keeps_only_recent_samples():
    cond = Anomaly(attribute="pm25", window=10, min_samples=5)
    _holds, st = run(cond, list(range(25)))
    assert st["history"] == list(range(15, 25))


def test_no_data_is_due_after_silence():
    cond = NoData(attribute="pm25", after_seconds=600)
    evaluate = make_evaluator(cond)
    st: dict = {}
    assert evaluate(st, 30, 1000.0) is False
    assert not no_data_due(cond, st, 1599.0)
    assert no_data_due(cond, st, 1600.0)
    assert not no_data_due(cond, {}, 10_000.0)  # never heard of: nothing to judge


@pytest.mark.parametrize(("on", "path", "expected"), [
    ("inside", [OUTSIDE, INSIDE, INSIDE, OUTSIDE], [False, True, True, False]),
    ("outside", [INSIDE, OUTSIDE], [False, True]),
    ("enter", [OUTSIDE, INSIDE, INSIDE, OUTSIDE, INSIDE], [False, True, True, False, True]),
    ("enter", [INSIDE, INSIDE], [False, False]),  # first seen inside is not an entry
    ("leave", [INSIDE, OUTSIDE, OUTSIDE, INSIDE], [False, True, True, False]),
    ("leave", [OUTSIDE, OUTSIDE], [False, False]),
])
def test_geofence_on_a_ward(on, path, expected):
    holds, _st = run(Geofence(area=Area(ward_code=WARD), on=on), path)
    assert holds == expected


def test_geofence_on_a_polygon_and_bad_locations():
    square = {"type": "Polygon", "coordinates": [[[106.0, 21.0], [106.5, 21.0], [106.5, 21.5], [106.0, 21.5],
                                                  [106.0, 21.0]]]}
    holds, _st = run(Geofence(area=Area(geometry=square), on="inside"), [INSIDE, OUTSIDE])
    assert holds == [True, False]
    evaluate = make_evaluator(Geofence(area=Area(geometry=square)))
    with pytest.raises(EvaluationError):
        evaluate({}, "here", 0.0)


def test_composite_combination():
    assert combine("all", [2, 1], [2, 1])
    assert not combine("all", [2, 0], [2, 1])
    assert combine("any", [0, 1], [2, 1])
    assert not combine("any", [1, 0], [2, 1])


def test_state_round_trips_through_json():
    st = {"active": True, "members": [{"b", "a"}, set()], "samples": [[1.0, 2.0]], "history": [1.0]}
    stored = for_storage(st)
    assert stored["members"] == [["a", "b"], []]
    assert from_storage(dumps(stored)) == st
