"""The demo city's telemetry models and injected events: daily cycles, faults, determinism (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from saola.sim import sun, telemetry
from saola.sim.city import build_city
from saola.sim.scenario import Scenario, river_rise
from saola.sim.telemetry import Conditions, Subject

SEED = 7
KINH_BAC = (106.07, 21.19)  # lon, lat


def at_local(hour: int, minute: int = 0, day: int = 25) -> datetime:
    """A Wednesday of November 2026 at a local (UTC+7) time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


def subject(entity_type: str, entity_id: str = "urn:ngsi-ld:X:bn-09187-0001", ward: str = "09187",
            **params: object) -> Subject:
    return Subject(entity_id.replace("X", entity_type), entity_type, ward, *KINH_BAC, params)


def test_sunrise_and_sunset_in_bac_ninh_match_the_almanac() -> None:
    rise, down = sun.sunrise_sunset(date(2026, 11, 24), 21.19, 106.07)
    local_rise, local_set = rise + timedelta(hours=7), down + timedelta(hours=7)
    # published times for Bắc Ninh on 24 Nov: sunrise 06:12, sunset 17:14 (± a couple of minutes)
    assert abs((local_rise - local_rise.replace(hour=6, minute=12)).total_seconds()) < 240
    assert abs((local_set - local_set.replace(hour=17, minute=14)).total_seconds()) < 240
    rise_june, set_june = sun.sunrise_sunset(date(2026, 6, 21), 21.19, 106.07)
    assert (set_june - rise_june) > (down - rise) + timedelta(hours=2)  # summer days are longer


def test_lamps_burn_from_dusk_to_dawn_and_dim_after_eleven() -> None:
    lamp = subject("Streetlight", ratedPower=120)
    night = telemetry.values(SEED, lamp, at_local(21))
    late = telemetry.values(SEED, lamp, at_local(2))
    noon = telemetry.values(SEED, lamp, at_local(12))
    dusk = telemetry.values(SEED, lamp, at_local(17, 40))
    assert (night["powerState"], late["powerState"], dusk["powerState"]) == ("on", "on", "on")
    assert noon == {"powerState": "off", "status": "ok", "illuminanceLevel": 0.0, "powerConsumption": 0.0}
    assert night["illuminanceLevel"] == 1.0 and late["illuminanceLevel"] == 0.6
    assert 110 < night["powerConsumption"] < 130 and late["powerConsumption"] < night["powerConsumption"]


def test_a_faulty_lamp_reports_its_fault_and_an_outage_switches_the_ward_off() -> None:
    lamp = subject("Streetlight", ratedPower=120)
    faulty = telemetry.values(SEED, lamp, at_local(21), Conditions(faulty_lamps={lamp.id: "defectiveLamp"}))
    assert faulty["status"] == "defectiveLamp" and faulty["illuminanceLevel"] == 0
    down = telemetry.values(SEED, lamp, at_local(21), Conditions(faulty_lamps={lamp.id: "columnIssue"}))
    assert down == {"powerState": "off", "status": "columnIssue", "illuminanceLevel": 0.0, "powerConsumption": 0.0}
    dark = telemetry.values(SEED, lamp, at_local(21), Conditions(outage_wards=frozenset({"09187"})))
    assert dark["powerState"] == "off" and dark["powerConsumption"] == 0
    station = subject("Substation")
    assert telemetry.values(SEED, station, at_local(21))["status"] == "energized"
    assert telemetry.values(SEED, station, at_local(21), Conditions(outage_wards=frozenset({"09187"}))) == {
        "status": "outage", "loadPercent": 0.0, "voltage": 0.0}


def test_traffic_peaks_in_the_rush_hours_and_is_light_at_three_in_the_morning() -> None:
    road = subject("TrafficFlowObserved", capacity=640, freeSpeed=50)
    by_hour = {h: telemetry.values(SEED, road, at_local(h)) for h in (3, 8, 12, 17)}
    assert by_hour[8]["intensity"] > 4 * by_hour[3]["intensity"]
    assert by_hour[17]["intensity"] > 4 * by_hour[3]["intensity"]
    assert by_hour[8]["intensity"] > by_hour[12]["intensity"]
    assert by_hour[3]["averageVehicleSpeed"] > by_hour[8]["averageVehicleSpeed"]
    assert by_hour[3]["congestionLevel"] == "free" and by_hour[3]["congested"] is False
    assert telemetry.traffic_demand(at_local(8)) > telemetry.traffic_demand(at_local(8, day=28))  # a Saturday
    roads = [subject("TrafficFlowObserved", f"urn:ngsi-ld:X:bn-09187-{n:04}", capacity=640, freeSpeed=50)
             for n in range(200)]
    congested = sum(telemetry.values(SEED, r, at_local(8))["congested"] for r in roads)
    assert 0.15 * len(roads) < congested < 0.75 * len(roads)  # the busiest roads, not every road, at the peak
    jammed = telemetry.values(SEED, road, at_local(3), Conditions(jammed_segments=frozenset({road.id})))
    assert jammed["congestionLevel"] == "jam" and jammed["congested"] is True and jammed["averageVehicleSpeed"] < 15


def test_pollution_follows_traffic_and_night_inversions_and_the_aqi_uses_the_vietnamese_breakpoints() -> None:
    station = subject("AirQualityObserved", basePm25=38)
    pm = {h: telemetry.values(SEED, station, at_local(h))["pm25"] for h in (8, 14, 23)}
    assert pm[8] > pm[14] and pm[23] > pm[14]
    assert telemetry.vn_aqi(25, 0) == 50 and telemetry.vn_aqi(50, 0) == 100 and telemetry.vn_aqi(0, 250) == 150
    assert telemetry.aqi_level(45) == "good" and telemetry.aqi_level(160) == "bad"
    assert telemetry.aqi_level(420) == "hazardous"
    smog = telemetry.values(SEED, station, at_local(14), Conditions(smog_wards={"09187": 2.4}))
    assert smog["pm25"] > 55 and smog["airQualityIndex"] > telemetry.values(SEED, station, at_local(14))[
        "airQualityIndex"]


def test_temperature_peaks_in_the_afternoon_and_rain_only_comes_with_an_event() -> None:
    station = subject("WeatherObserved")
    afternoon, dawn = telemetry.values(SEED, station, at_local(14)), telemetry.values(SEED, station, at_local(5))
    assert afternoon["temperature"] > dawn["temperature"] + 5
    assert dawn["relativeHumidity"] > afternoon["relativeHumidity"]
    assert afternoon["precipitation"] == 0
    assert telemetry.values(SEED, station, at_local(14), Conditions(rain_wards={"09187": 55.0}))["precipitation"] > 30


def test_a_rising_river_passes_the_alert_level() -> None:
    sensor = subject("FloodMonitoring", baseLevel=2.5, alertLevel=4.0)
    normal = telemetry.values(SEED, sensor, at_local(10))
    assert normal["floodState"] == "normal" and 2.3 < normal["waterLevel"] < 2.7
    assert river_rise(60, 720) == pytest.approx(0.6) and river_rise(0, 720) == 0
    assert river_rise(719.9, 720) == pytest.approx(0, abs=0.01)
    high = telemetry.values(SEED, sensor, at_local(10), Conditions(river_rise={sensor.id: 2.2}))
    assert high["floodState"] == "flood" and high["waterLevel"] > 4.5


def test_readings_are_a_function_of_seed_entity_and_time() -> None:
    station = subject("AirQualityObserved", basePm25=30)
    t = at_local(9, 30)
    assert telemetry.payload(SEED, station, t) == telemetry.payload(SEED, station, t)
    assert telemetry.payload(SEED, station, t) != telemetry.payload(SEED + 1, station, t)
    assert telemetry.payload(SEED, station, t) != telemetry.payload(SEED, station, t + timedelta(minutes=1))
    assert set(telemetry.payload(SEED, station, t)) == {a.object_id for a in telemetry.ATTRIBUTES["AirQualityObserved"]}


def test_the_first_wave_of_events_starts_within_seconds_and_the_timeline_is_deterministic() -> None:
    city = build_city(seed=3, ward_codes=["09169", "09187", "09190"], lamps=150)
    scenario = Scenario(city, seed=11)
    first = scenario.wave(0)
    assert {e.kind for e in first} == {"lamp_failure", "congestion", "camera_offline", "power_outage", "heavy_rain",
                                       "river_rise", "smog"}
    assert max(e.start for e in first) <= 10
    by_kind = {e.kind: e for e in first}
    assert by_kind["power_outage"].ward == "09190" and by_kind["river_rise"].ward == "09169"
    assert by_kind["heavy_rain"].ward == by_kind["river_rise"].ward
    conditions = scenario.conditions(30)
    assert conditions.outage_wards == {"09190"} and conditions.rain_wards == {"09169": 55.0}
    assert set(conditions.river_rise) == set(by_kind["river_rise"].targets)
    assert Scenario(city, seed=11).wave(3) == scenario.wave(3)
    assert Scenario(city, seed=12).wave(3) != scenario.wave(3)
    later = scenario.wave(1)
    assert all(scenario.wave_seconds <= e.start < 2 * scenario.wave_seconds for e in later)
    assert not Scenario(city, seed=11, enabled=False).active(30)
    assert by_kind["lamp_failure"].detail == "defectiveLamp"
    assert {e.detail for n in range(1, 30) for e in scenario.wave(n) if e.kind == "lamp_failure"} == {
        "defectiveLamp", "brokenLantern", "columnIssue"}
    assert scenario.silent(30) == set(by_kind["camera_offline"].targets)
