"""The demo city: deterministic, plausible (lamps inside their ward, denser in towns), stored as NGSI-LD entities
with their devices and the demo rules, and loaded once."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import func, select

from saola.core.db import unit_of_work
from saola.devices.models import Device, ServiceGroup
from saola.sim import demo, load
from saola.sim.city import CORE_WARDS, RIVER_WARDS, build_city
from saola.sim.telemetry import ATTRIBUTES

WARDS = ["09169", "09187", "09190", "09202"]  # three town wards and a rural commune on the Cầu river
ID = re.compile(r"^urn:ngsi-ld:([A-Za-z]+):bn-(\d{5})-(\d{4})$")
NGSI = "/ngsi-ld/v1/entities"


@pytest.fixture(scope="module")
def small():
    return build_city(seed=42, ward_codes=WARDS, lamps=400)


@pytest.fixture(scope="module")
def whole():
    return load.demo_city()


def test_the_same_seed_gives_the_same_city_and_another_seed_another(small) -> None:
    again = build_city(seed=42, ward_codes=WARDS, lamps=400)
    assert [(e.id, e.name, e.geometry, e.static) for e in again.entities] == \
        [(e.id, e.name, e.geometry, e.static) for e in small.entities]
    other = build_city(seed=43, ward_codes=WARDS, lamps=400)
    assert [e.geometry for e in other.entities] != [e.geometry for e in small.entities]


def test_every_lamp_stands_inside_its_ward_along_a_street(small) -> None:
    lamps = small.of_type("Streetlight")
    assert len(lamps) == pytest.approx(400, abs=4)
    for lamp in lamps:
        assert small.wards[lamp.ward].polygon.contains(Point(lamp.point)), lamp.id
        assert lamp.static["streetAddress"] in lamp.name.replace("Đèn đ", "Đ")
    for segment in small.of_type("TrafficFlowObserved"):
        line = LineString(segment.geometry["coordinates"])
        assert small.wards[segment.ward].polygon.contains(line), segment.id
        assert 0.001 < line.length < 0.012  # 100 m to ~1 km
    per_ward = Counter(lamp.ward for lamp in lamps)
    assert per_ward["09187"] > 5 * per_ward["09202"] > 0  # a town centre is far denser than a commune


def test_ids_names_wards_and_devices_follow_the_contract(small) -> None:
    ids = [e.id for e in small.entities]
    assert len(set(ids)) == len(ids)
    for e in small.entities:
        kind, ward, _n = ID.match(e.id).groups()  # type: ignore[union-attr]
        assert (kind, ward) == (e.type, e.ward) and e.name and e.geometry["type"] in ("Point", "LineString")
        body = e.body()
        assert body["refWard"] == {"type": "Property", "value": e.ward}
        assert body["location"]["type"] == "GeoProperty"
    devices = [e.device_id for e in small.entities if e.has_device]
    assert len(set(devices)) == len(devices)
    assert not any(e.has_device for e in small.of_type("School"))
    cameras = small.of_type("Camera")
    roads = {e.id for e in small.of_type("TrafficFlowObserved")}
    assert cameras and all(c.relationships["refRoadSegment"] in roads for c in cameras)
    substations = {e.id: e.ward for e in small.of_type("Substation")}
    fed = [lamp for lamp in small.of_type("Streetlight") if "refSubstation" in lamp.relationships]
    assert fed and all(substations[lamp.relationships["refSubstation"]] == lamp.ward for lamp in fed)
    assert {lamp.ward for lamp in fed} == {ward for ward in WARDS if small.wards[ward].urban}
    for sensor in small.of_type("FloodMonitoring"):
        assert sensor.ward in RIVER_WARDS and sensor.static["alertLevel"] > sensor.static["baseLevel"]


def test_the_whole_province_has_thousands_of_lamps_and_every_kind_of_entity(whole) -> None:
    assert whole.seed == load.CITY_SEED == demo.SEED
    counts = whole.counts()
    assert 2800 <= counts["Streetlight"] <= 3200
    assert counts["TrafficFlowObserved"] >= 100 and counts["Camera"] >= 40 and counts["School"] >= 150
    assert counts["AirQualityObserved"] >= 10 and counts["WeatherObserved"] >= 8
    assert counts["FloodMonitoring"] >= 10 and counts["Substation"] >= 40
    assert len({e.ward for e in whole.entities}) == 99
    lamps = Counter(e.ward for e in whole.of_type("Streetlight"))
    town = sum(lamps[w] for w in CORE_WARDS) / len(CORE_WARDS)
    rural = sum(n for w, n in lamps.items() if not whole.wards[w].urban) / sum(
        1 for w in whole.wards.values() if not w.urban)
    assert town > 10 * rural
    assert whole.subset(["09187"]).entities == [e for e in whole.entities if e.ward == "09187"]


def test_loading_stores_entities_devices_and_rules_once(app, client, token, whole) -> None:
    city = whole.subset(["09187", "09169"])
    with unit_of_work(app.state.session_factory) as session:
        assert load.store_entities(session, city) == len(city.entities)
        assert load.provision_devices(session, city) == (1, sum(1 for e in city.entities if e.has_device))
        assert load.create_rules(session, load.demo_rules()) == len(load.demo_rules())
    with unit_of_work(app.state.session_factory) as session:  # a second run adds nothing
        assert load.store_entities(session, city) == 0
        assert load.provision_devices(session, city) == (0, 0)
        assert load.create_rules(session, load.demo_rules()) == 0
        assert session.scalar(select(func.count()).select_from(ServiceGroup)
                              .where(ServiceGroup.apikey == load.API_KEY, ServiceGroup.transport == "MQTT")) == 1
        lamp_device = session.scalar(select(Device).where(Device.device_id == "bn-09187-0001"))
        assert lamp_device.entity_id == "urn:ngsi-ld:Streetlight:bn-09187-0001"
        assert [a["name"] for a in lamp_device.attributes] == [a.name for a in ATTRIBUTES["Streetlight"]]
        assert lamp_device.transport == "MQTT" and lamp_device.api_key == load.API_KEY
    headers = {"Authorization": f"Bearer {token('operator')}"}
    lamps = client.get(NGSI, params={"type": "Streetlight", "q": 'refWard=="09187"', "count": "true", "limit": 1,
                                     "options": "keyValues"}, headers=headers)
    assert lamps.status_code == 200, lamps.text
    assert int(lamps.headers["NGSILD-Results-Count"]) == len([e for e in city.of_type("Streetlight")
                                                                if e.ward == "09187"])
    lamp = lamps.json()[0]
    assert lamp["powerState"] in ("on", "off") and lamp["status"] == "ok" and lamp["name"].startswith("Đèn ")
    # geo-queries work on the stored locations: the flood sensors near Vũ Ninh's river bank
    sensor = next(e for e in city.of_type("FloodMonitoring") if e.ward == "09169")
    lon, lat = sensor.point
    near = client.get(NGSI, params={"type": "FloodMonitoring", "georel": "near;maxDistance==50", "geometry": "Point",
                                    "coordinates": f"[{lon},{lat}]", "options": "keyValues"}, headers=headers)
    assert near.status_code == 200, near.text
    assert sensor.id in [e["id"] for e in near.json()]
    history = client.get(f"/ngsi-ld/v1/temporal/entities/{sensor.id}", params={"attrs": "waterLevel"},
                         headers=headers)
    assert history.status_code == 200, history.text
    rules = client.get("/api/v1/rules", headers=headers)
    assert rules.status_code == 200, rules.text
