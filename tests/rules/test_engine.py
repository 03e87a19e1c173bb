"""The engine's pure core on recorded event sequences: each rule kind fires exactly when it should,
no flapping (hysteresis, clear_after, cooldown), active windows, filters, errors, restarts."""

from __future__ import annotations

from datetime import UTC, datetime

from saola.rules.engine import Engine
from saola.rules.state import dumps, loads
from tests.rules.engine_support import (
    INSIDE,
    OUTSIDE,
    T0,
    WARD,
    V,
    actions,
    at,
    engine_with,
    replay,
    rule,
    update,
)

PM25 = {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55}


def test_threshold_raises_once_and_clears_when_the_value_falls():
    engine = engine_with(rule(PM25))
    got = replay(engine, [(0, 40), (10, 60), (20, 70), (30, 80), (40, 50)])
    assert got == [(10, "raise"), (40, "clear")]


def test_update_refreshes_an_open_alert_at_most_once_per_interval():
    engine = engine_with(rule(PM25), update_every=60)
    got = replay(engine, [(0, 60), (30, 61), (60, 62), (90, 63), (130, 64)])
    assert got == [(0, "raise"), (60, "update"), (130, "update")]


def test_raise_carries_the_alert_fields():
    engine = engine_with(rule(PM25, message_vi="PM2.5 tại {entity} là {value}", message_en="PM2.5 {value}",
                              owner_agency="STNMT", open_incident={"incident_type": "air_pollution"}))
    topic, payload = update("urn:a", {"pm25": 80}, location=INSIDE)
    (decision,) = engine.on_event(topic, payload, now=T0)
    assert decision.action == "raise" and decision.subject == "urn:a" and decision.severity == "major"
    assert decision.title_vi == "PM2.5 tại urn:a là 80" and decision.title_en == "PM2.5 80"
    assert decision.entity_type == V + "AirQualityObserved" and decision.value == 80
    assert decision.location == INSIDE and decision.owner_agency == "STNMT"
    assert decision.incident_type == "air_pollution" and decision.at == T0


def test_titles_name_the_entity_and_fill_only_the_plain_placeholders():
    engine = engine_with(rule(PM25, message_vi="{entity} ({id}): {value} {value.__class__} {0} {", message_en=""))
    topic, payload = update("urn:a", {"pm25": 80, "name": "Trạm Kinh Bắc"})
    (decision,) = engine.on_event(topic, payload, now=T0)
    # Attribute access and positional fields are left as written: a rule's author cannot reach into objects.
    assert decision.title_vi == "Trạm Kinh Bắc (urn:a): 80 {value.__class__} {0} {"
    assert decision.title_en == decision.title_vi  # no English text: the Vietnamese one


def test_for_seconds_raises_only_once_the_condition_has_held_long_enough():
    engine = engine_with(rule({**PM25, "for_seconds": 900}))
    got = replay(engine, [(0, 60), (300, 70), (600, "tick"), (700, 50),  # dips: timer starts again
                          (800, 60), (1600, "tick"), (1700, "tick"), (1710, 65)])
    assert got == [(1700, "raise")]


def test_hysteresis_stops_a_noisy_signal_from_flapping():
    engine = engine_with(rule({**PM25, "clear_value": 45}))
    noisy = [(0, 50), (10, 56), (20, 54), (30, 57), (40, 53), (50, 56), (60, 46), (70, 44), (80, 54), (90, 56)]
    assert replay(engine, noisy) == [(10, "raise"), (70, "clear"), (90, "raise")]
    plain = engine_with(rule(PM25))
    assert len(replay(plain, noisy)) == 7  # without hysteresis every crossing flaps


def test_clear_after_waits_for_the_condition_to_stay_false():
    engine = engine_with(rule(PM25, clear_after_seconds=120))
    got = replay(engine, [(0, 60), (10, 50), (60, 60), (70, 50), (150, "tick"), (190, "tick"), (200, 50)])
    assert got == [(0, "raise"), (190, "clear")]


def test_cooldown_holds_back_a_new_alert_after_a_clear():
    engine = engine_with(rule(PM25, cooldown_seconds=600))
    got = replay(engine, [(0, 60), (10, 50), (20, 60), (300, "tick"), (610, "tick"), (620, 70)])
    assert got == [(0, "raise"), (10, "clear"), (610, "raise")]


def test_active_window_during_the_day():
    window = [{"start": "08:00", "end": "17:00"}]  # Hanoi time; T0 is 10:00 there
    engine = engine_with(rule(PM25, active_windows=window))
    assert replay(engine, [(0, 60)]) == [(0, "raise")]
    night = engine_with(rule(PM25, active_windows=window))
    eight_hours = 8 * 3600  # 18:00 local: outside, held until the window opens the next morning
    got = replay(night, [(eight_hours, 60), (eight_hours + 3600, "tick"), (22 * 3600 + 60, "tick")])
    assert got == [(22 * 3600 + 60, "raise")]


def test_active_window_across_midnight():
    window = [{"start": "22:00", "end": "06:00", "weekdays": [1]}]  # Tuesday night to Wednesday morning
    engine = engine_with(rule(PM25, active_windows=window))
    assert replay(engine, [(0, 60), (60, "tick")]) == []  # Tuesday 10:00: not active
    # Tuesday 23:30 local = 16:30 UTC, Wednesday 05:00 local = 22:00 UTC
    assert replay(engine, [(13.5 * 3600, "tick")]) == [(13.5 * 3600, "raise")]
    morning = engine_with(rule(PM25, active_windows=window))
    assert replay(morning, [(19 * 3600, 60)]) == [(19 * 3600, "raise")]  # Wed 05:00 local: still Tuesday's night
    later = engine_with(rule(PM25, active_windows=window))
    assert replay(later, [(21 * 3600, 60)]) == []  # Wed 07:00 local: over
    wednesday = engine_with(rule(PM25, active_windows=window))
    assert replay(wednesday, [(36 * 3600, 60)]) == []  # Wed 22:00 local: Wednesday is not listed


def test_rate_of_change_uses_the_observation_time():
    roc = {"kind": "rate_of_change", "attribute": "waterLevel", "per_seconds": 600, "op": ">", "value": 0.3}
    engine = engine_with(rule(roc, entity_type="FloodMonitoring"))
    out = []
    for seconds, level in [(0, 1.0), (600, 1.1), (1200, 1.5), (1800, 1.55)]:
        topic, payload = update("urn:f1", {"waterLevel": level}, type_="FloodMonitoring", observed=at(seconds))
        out += [(seconds, d.action, d.details.get("rate")) for d in engine.on_event(topic, payload, now=at(5000))]
    assert [(s, a) for s, a, _r in out] == [(1200, "raise"), (1800, "clear")]
    assert out[0][2] == 0.4000000000000001 or abs(out[0][2] - 0.4) < 1e-9


def test_anomaly_fires_on_an_outlier_of_the_recent_distribution():
    engine = engine_with(rule({"kind": "anomaly", "attribute": "pm25", "window": 50, "min_samples": 20}))
    steps = [(i, 30 + (i % 5)) for i in range(30)] + [(30, 95), (31, 31)]
    assert replay(engine, steps) == [(30, "raise"), (31, "clear")]


def test_no_data_is_judged_by_the_tick():
    engine = engine_with(rule({"kind": "no_data", "attribute": "pm25", "after_seconds": 600}))
    engine.seed_seen(1, {V + "AirQualityObserved": {"urn:silent": (T0.timestamp(), {})}})
    got = replay(engine, [(0, 30), (300, "tick"), (650, "tick"), (700, 31), (1250, "tick"), (1400, "tick")])
    # urn:silent was seeded at T0: due at 650; the replayed entity raises at 650, clears at 700, raises at 1400
    assert got == [(650, "raise"), (650, "raise"), (700, "clear"), (1400, "raise")]
    assert engine.subjects(1)["urn:silent"]["active"] is True


def test_device_offline_and_online():
    engine = engine_with(rule({"kind": "device_offline"}, entity_type="Streetlight"))
    payload = {"tenant": "", "device_id": "bn-07210-1", "entity_id": "urn:s1", "entity_type": "Streetlight"}
    assert actions(engine.on_event("device.offline", payload, now=T0)) == [("raise", "urn:s1")]
    assert actions(engine.on_event("device.offline", payload, now=at(5))) == []
    assert actions(engine.on_event("device.online", payload, now=at(10))) == [("clear", "urn:s1")]
    other = {**payload, "entity_type": "Camera"}
    assert engine.on_event("device.offline", other, now=at(20)) == []


def test_geofence_enter_raises_when_an_entity_moves_in():
    engine = engine_with(rule({"kind": "geofence", "area": {"ward_code": WARD}, "on": "enter"},
                              entity_type="Vehicle"))
    out = []
    for seconds, where in [(0, OUTSIDE), (10, INSIDE), (20, INSIDE), (30, OUTSIDE)]:
        topic, payload = update("urn:v1", {}, type_="Vehicle", ward=None, location=where)
        out += [(seconds, d.action) for d in engine.on_event(topic, payload, now=at(seconds))]
    assert out == [(10, "raise"), (30, "clear")]


def test_composite_all_over_the_entities_of_a_ward():
    composite = {"kind": "composite", "mode": "all", "parts": [
        {"entity_type": "FloodMonitoring", "min_entities": 2,
         "condition": {"kind": "threshold", "attribute": "waterLevel", "op": ">", "value": 2.0}},
        {"entity_type": "WeatherObserved",
         "condition": {"kind": "threshold", "attribute": "precipitation", "op": ">", "value": 30}}]}
    engine = engine_with(rule(composite, entity_type="Ward", area={"ward_code": WARD}, severity="critical"))
    seq = [("urn:f1", "FloodMonitoring", "waterLevel", 2.5, WARD), ("urn:w1", "WeatherObserved", "precipitation", 40,
                                                                     WARD),
           ("urn:f9", "FloodMonitoring", "waterLevel", 3.0, "07228"),  # another ward: not counted
           ("urn:f2", "FloodMonitoring", "waterLevel", 2.2, WARD),  # now 2 sensors and rain: raise
           ("urn:f2", "FloodMonitoring", "waterLevel", 2.4, WARD),
           ("urn:f1", "FloodMonitoring", "waterLevel", 1.0, WARD)]  # one sensor left: clear
    out = []
    for i, (eid, type_, attr, value, ward) in enumerate(seq):
        topic, payload = update(eid, {attr: value}, type_=type_, ward=ward)
        out += [(i, d.action, d.subject, d.value) for d in engine.on_event(topic, payload, now=at(i))]
    assert out == [(3, "raise", f"area:{WARD}", [2, 1]), (5, "clear", f"area:{WARD}", [1, 1])]
    assert out and engine.subjects(1)[f"area:{WARD}"]["members"][0] == {"urn:f2"}


def test_id_pattern_and_area_narrow_the_entities():
    engine = engine_with(rule(PM25, id_pattern=r":bn-07210-", area={"ward_code": WARD}))
    for eid, ward, expected in [("urn:x:bn-07210-1", WARD, [("raise", "urn:x:bn-07210-1")]),
                                ("urn:x:bn-07228-1", WARD, []), ("urn:x:bn-07210-2", "07228", [])]:
        topic, payload = update(eid, {"pm25": 99}, ward=ward)
        assert actions(engine.on_event(topic, payload, now=T0)) == expected
    polygon = engine_with(rule(PM25, area={"geometry": {"type": "Polygon", "coordinates": [
        [[106.0, 21.0], [106.5, 21.0], [106.5, 21.5], [106.0, 21.5], [106.0, 21.0]]]}}))
    topic, payload = update("urn:in", {"pm25": 99}, ward=None, location=INSIDE)
    assert len(polygon.on_event(topic, payload, now=T0)) == 1
    topic, payload = update("urn:out", {"pm25": 99}, ward=None, location=OUTSIDE)
    assert polygon.on_event(topic, payload, now=T0) == []


def test_an_event_touches_only_the_rules_it_can_affect():
    engine = engine_with(rule(PM25, 1), rule({**PM25, "attribute": "no2"}, 2),
                         rule(PM25, 3, entity_type="WeatherObserved"), rule(PM25, 4, tenant="other"))
    topic, payload = update("urn:a", {"pm25": 60})
    assert actions(engine.on_event(topic, payload, now=T0)) == [("raise", "urn:a")]
    assert engine.counters.evaluations == 1
    topic, payload = update("urn:a", {"temperature": 30})
    assert engine.on_event(topic, payload, now=T0) == [] and engine.counters.evaluations == 1


def test_an_evaluation_error_is_recorded_and_other_rules_still_run():
    engine = engine_with(rule(PM25, 1), rule({**PM25, "value": 10}, 2))
    topic, payload = update("urn:a", {"pm25": "n/a"})
    assert engine.on_event(topic, payload, now=T0) == []
    assert set(engine.errors) == {(1, "urn:a"), (2, "urn:a")}
    topic, payload = update("urn:b", {"pm25": 30})
    assert actions(engine.on_event(topic, payload, now=at(1))) == [("raise", "urn:b")]
    topic, payload = update("urn:a", {"pm25": "n/a"})
    engine.on_event(topic, payload, now=at(2))
    taken = engine.take_errors()
    assert taken[(1, "urn:a")].count == 2 and "not a number" in taken[(1, "urn:a")].message
    assert engine.take_errors() == {}


def test_deleting_the_entity_clears_its_alert():
    engine = engine_with(rule(PM25))
    topic, payload = update("urn:a", {"pm25": 60})
    engine.on_event(topic, payload, now=T0)
    deleted = {"tenant": "", "id": "urn:a", "types": [V + "AirQualityObserved"], "changed": [], "entity": None}
    decisions = engine.on_event("ngsi.entity.deleted", deleted, now=at(5))
    assert [(d.action, d.reason) for d in decisions] == [("clear", "entity deleted")]
    assert "urn:a" not in engine.subjects(1)


def test_disabling_a_rule_clears_its_alerts_and_a_new_kind_resets_its_state():
    engine = engine_with(rule(PM25))
    topic, payload = update("urn:a", {"pm25": 60})
    engine.on_event(topic, payload, now=T0)
    other = rule({**PM25, "kind": "threshold", "attribute": "no2"})
    assert engine.set_rules([other], now=at(1)) == []
    assert engine.subjects(1)["urn:a"]["active"] is True and "latched" not in engine.subjects(1)["urn:a"]
    decisions = engine.set_rules([], now=at(2))
    assert [(d.action, d.reason) for d in decisions] == [("clear", "rule disabled")]


def test_state_survives_a_restart_without_raising_twice_and_timers_go_on():
    rules = [rule(PM25, 1), rule({**PM25, "for_seconds": 600}, 2)]
    first = engine_with(*rules)
    topic, payload = update("urn:a", {"pm25": 60})
    assert actions(first.on_event(topic, payload, now=T0)) == [("raise", "urn:a")]  # rule 1; rule 2 waits
    changed, _deleted = first.take_dirty()
    saved = {key: loads(dumps(st)) for key, st in changed.items()}  # through JSON, as the database keeps it
    second = Engine(update_every_seconds=60)
    assert second.load(rules, saved, now=at(300)) == []
    topic, payload = update("urn:a", {"pm25": 65})
    assert actions(second.on_event(topic, payload, now=at(310))) == [("update", "urn:a")]  # not raised again
    assert [(d.rule_id, d.action) for d in second.tick(now=at(600))] == [(2, "raise")]  # timer from T0


def test_rules_of_a_stopped_engine_that_are_gone_are_cleared_at_load():
    saved = {(7, "urn:a"): {"active": True, "entity_type": V + "AirQualityObserved"}}
    decisions = Engine().load([rule(PM25)], saved, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert [(d.rule_id, d.action, d.subject) for d in decisions] == [(7, "clear", "urn:a")]


def test_an_entity_that_leaves_the_area_has_its_alert_cleared():
    engine = engine_with(rule(PM25, area={"ward_code": WARD}))
    topic, payload = update("urn:a", {"pm25": 80})
    assert actions(engine.on_event(topic, payload, now=T0)) == [("raise", "urn:a")]
    topic, payload = update("urn:a", {"pm25": 80}, ward="07228")
    payload["changed"].append(V + "refWard")
    decisions = engine.on_event(topic, payload, now=at(10))
    assert [(d.action, d.reason) for d in decisions] == [("clear", "outside the rule's area")]


def test_a_new_version_that_no_longer_covers_an_entity_clears_its_alert():
    engine = engine_with(rule(PM25))
    topic, payload = update("urn:a", {"pm25": 80})
    engine.on_event(topic, payload, now=T0)
    narrower = rule(PM25, area={"ward_code": "07228"})
    narrower = type(narrower)(rule_id=1, version=2, definition=narrower.definition)
    decisions = engine.set_rules([narrower], now=at(5))
    assert [(d.action, d.subject, d.reason) for d in decisions] == [("clear", "urn:a", "outside the rule's area")]


def test_composite_any_with_a_no_data_part_is_judged_by_the_tick():
    composite = {"kind": "composite", "mode": "any", "parts": [
        {"entity_type": "Substation", "condition": {"kind": "no_data", "attribute": "loadPercent",
                                                    "after_seconds": 600}},
        {"entity_type": "Substation", "condition": {"kind": "threshold", "attribute": "loadPercent", "op": ">",
                                                    "value": 110}}]}
    engine = engine_with(rule(composite, entity_type="Ward", area={"ward_code": WARD}))
    out = []
    for seconds, value in [(0, 50), (300, "tick"), (700, "tick"), (800, 60), (900, 115), (950, 90)]:
        if value == "tick":
            decisions = engine.tick(now=at(seconds))
        else:
            topic, payload = update("urn:sub1", {"loadPercent": value}, type_="Substation")
            decisions = engine.on_event(topic, payload, now=at(seconds))
        out += [(seconds, d.action, d.value) for d in decisions]
    # silent from 0 to 700: raise; a value at 800 clears; an overload at 900 raises again; 950 clears
    assert out == [(700, "raise", [1, 0]), (800, "clear", [0, 0]), (900, "raise", [0, 1]), (950, "clear", [0, 0])]


def test_tenants_are_kept_apart():
    engine = engine_with(rule(PM25, tenant="hcm"))
    topic, payload = update("urn:a", {"pm25": 80})
    assert engine.on_event(topic, payload, now=T0) == []
    payload["tenant"] = "hcm"
    assert actions(engine.on_event(topic, payload, now=T0)) == [("raise", "urn:a")]
