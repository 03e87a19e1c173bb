"""The demo steps that store the demo city: its entities, its devices and its rules.

* ``city entities``: every entity of :func:`saola.sim.city.build_city` not stored yet, written
  through the context broker's store (:func:`saola.context.entities.new_entity` then
  :func:`saola.context.store.insert_entities`, the bulk insert of batch upsert), so types, attribute
  indexes, geo boxes and history rows are those of any NGSI-LD create. Telemetry attributes start
  with the models' values at load time.
* ``city devices``: the service group ``saola-demo-key`` (MQTT, IoT Agent JSON) and one device per
  telemetry entity, device id = the entity id's last part, with the attribute mappings of its type
  (:data:`saola.sim.telemetry.ATTRIBUTES`), as :func:`saola.devices.service.create_devices` makes
  them (see :func:`provision_devices`).
* ``city rules``: the rules of ``data/demo/rules.json`` created enabled through
  :func:`saola.rules.service.create_rule` (checked with its ``parse_definition``).

Each step adds only what is missing. The city is drawn with :data:`CITY_SEED`, not with the shared
``ctx.rng``, so that it does not change when an earlier step draws more or fewer numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.context import store
from saola.context.entities import new_entity
from saola.context.models import NgsiEntity
from saola.core.db import utcnow
from saola.devices import service as devices
from saola.devices.measures import core_terms
from saola.devices.models import Device, ServiceGroup
from saola.devices.schemas import DeviceIn, ServiceIn
from saola.sim import telemetry
from saola.sim.city import City, build_city

if TYPE_CHECKING:
    from saola.sim.demo import DemoContext

CITY_SEED = 20250701  # = saola.sim.demo.SEED; kept here so the simulator needs no import of the demo
API_KEY = "saola-demo-key"
TENANT = ""
CHUNK = 500
OFFLINE_AFTER_REPORTS = 3  # a device is expected to report at least every 3 nominal intervals


@cache
def demo_city() -> City:
    """The full demo city (all 99 wards of Bắc Ninh), built once per process."""
    return build_city(seed=CITY_SEED)


def _existing(session: Session, model_column: Any, where: Any, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        found.update(session.scalars(select(model_column).where(where, model_column.in_(ids[start:start + CHUNK]))))
    return found


def store_entities(session: Session, city: City) -> int:
    """Insert the city's entities that are not stored yet; how many were added."""
    ids = [e.id for e in city.entities]
    present = _existing(session, NgsiEntity.entity_id, NgsiEntity.tenant == TENANT, ids)
    missing = [e for e in city.entities if e.id not in present]
    tm = core_terms()
    now = utcnow()
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start:start + CHUNK]
        store.insert_entities(session, TENANT, [new_entity(e.body(now, city.seed), tm) for e in chunk])
    return len(missing)


def service_group(api_key: str = API_KEY) -> ServiceIn:
    return ServiceIn(apikey=api_key, entity_type="Device", transport="MQTT", protocol="IoTA-JSON",
                     expected_interval=OFFLINE_AFTER_REPORTS * 60)


def device_specs(city: City, api_key: str = API_KEY) -> list[DeviceIn]:
    specs = []
    for e in city.entities:
        if not e.has_device:
            continue
        specs.append(DeviceIn(device_id=e.device_id, entity_name=e.id, entity_type=e.type, apikey=api_key,
                              transport="MQTT", protocol="IoTA-JSON",
                              attributes=[a.mapping() for a in telemetry.ATTRIBUTES[e.type]],
                              expected_interval=OFFLINE_AFTER_REPORTS * telemetry.REPORT_SECONDS[e.type]))
    return specs


def provision_devices(session: Session, city: City, *, api_key: str = API_KEY) -> tuple[int, int]:
    """The demo service group and the devices not provisioned yet: (groups added, devices added).
    (``api_key``: another group's key, for tests that share one MQTT broker.)

    The group goes through :func:`saola.devices.service.create_groups`. The devices are checked with
    the provisioning schema (:class:`DeviceIn`) and inserted in bulk with the columns
    :func:`saola.devices.service.create_devices` gives them: its per-device entity sync (one entity
    rewrite per device, ~2 ms each, 3,000 devices) is skipped because :func:`store_entities` already
    wrote each entity with its type and location, all that the sync would merge."""
    groups = 0
    group = session.scalar(select(ServiceGroup).where(ServiceGroup.apikey == api_key))
    if group is None:
        group = devices.create_groups(session, tenant=TENANT, service_path="/", services=[service_group(api_key)])[0]
        groups = 1
    specs = device_specs(city, api_key)
    present = _existing(session, Device.device_id, Device.tenant == TENANT, [s.device_id for s in specs])
    missing = [s for s in specs if s.device_id not in present]
    session.add_all([Device(group_id=group.id, api_key=api_key, tenant=TENANT, service_path="/",
                            device_id=spec.device_id,
                            entity_id=devices.entity_id_for(spec.entity_name, spec.entity_type or "", spec.device_id),
                            entity_type=spec.entity_type, protocol=spec.protocol, transport=spec.transport,
                            attributes=[a.stored() for a in spec.attributes], static_attributes=[], commands=[],
                            token_hash=None, expected_interval=spec.expected_interval) for spec in missing])
    session.flush()
    return groups, len(missing)


def provisioned_devices(session: Session, api_key: str = API_KEY) -> set[str]:
    """The ids of the devices provisioned with ``api_key`` (the simulator sends for these only)."""
    return set(session.scalars(select(Device.device_id).where(Device.api_key == api_key)))


def demo_group_provisioned(session: Session) -> bool:
    """True when the demo service group (``saola-demo-key``) exists: ``saola demo`` has run."""
    return session.scalar(select(ServiceGroup.id).where(ServiceGroup.apikey == API_KEY)) is not None


def demo_rules() -> list[dict[str, Any]]:
    """The rule definitions of ``data/demo/rules.json`` (JSON objects, validated by the rules package)."""
    text = resources.files("saola.data.demo").joinpath("rules.json").read_text("utf-8")
    return list(json.loads(text)["rules"])


def create_rules(session: Session, definitions: Iterable[dict[str, Any]]) -> int:
    """Create the demo rules that do not exist yet (by name), enabled; how many were added."""
    from saola.cases.actors import SystemActor
    from saola.rules import service as rules
    from saola.rules.models import Rule

    existing = set(session.scalars(select(Rule.name)))
    actor = SystemActor(name="demo")
    added = 0
    for raw in definitions:
        definition = rules.parse_definition(raw)
        if definition.name in existing:
            continue
        rules.create_rule(session, definition=definition, actor=actor, enabled=True, now=utcnow())
        existing.add(definition.name)
        added += 1
    return added


# --- the demo steps (registered in saola.sim.demo) -----------------------------------------------


def city_entities_step(ctx: DemoContext) -> None:
    ctx.report.add("city entities (lamps, roads, cameras, stations, substations, schools)",
                   store_entities(ctx.session, demo_city()))


def city_devices_step(ctx: DemoContext) -> None:
    groups, added = provision_devices(ctx.session, demo_city())
    ctx.report.add("device service groups", groups)
    ctx.report.add("city devices", added)


def city_rules_step(ctx: DemoContext) -> None:
    ctx.report.add("rules", create_rules(ctx.session, demo_rules()))
