"""``saola demo``: load the demo province (idempotent, deterministic).

The demo is a list of steps, run in order in one transaction; each adds only what is missing,
so a second run adds nothing. Today's steps:

1. ``units``: the administrative units of the whole country, current and former, with their
   successions (from ``vietnamadminunits``, see :mod:`saola.core.directory.units_source`);
2. ``agencies``: the province's departments and centres (``data/demo/agencies.json``);
3. ``communes``: one People's Committee per current ward/commune of the configured province
   (``SAOLA_PROVINCE_CODE``, Bắc Ninh ``24`` by default): ``UBND-<ward code>``;
4. ``users``: one demo user per role (:data:`DEMO_USERS`);
5. ``queue``: the service centre's queue services and ten counters (:mod:`saola.egov.queue.demo`);
6. ``procedures``: 30 real administrative procedures with their legal processing times (:mod:`saola.egov.demo`).
7. ``city entities``, ``city devices``, ``city rules``: the living demo city — street lights, road segments,
   cameras, stations, substations, schools as NGSI-LD entities, their devices and the demo rules
   (:mod:`saola.sim.load`).

A later feature adds its own loader with :func:`register_step` (e.g. street lights after the
agencies that own them). Steps draw any randomness from ``ctx.rng``, seeded with :data:`SEED`,
so two runs on empty databases produce the same rows.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from saola.core.auth import service as auth
from saola.core.auth.models import User
from saola.core.directory import service as directory
from saola.core.directory.models import AdminUnit, Agency
from saola.core.settings import Settings
from saola.egov.demo import load_procedures_demo
from saola.egov.queue.demo import load_queue_demo
from saola.feedback.demo import demo_step as load_feedback_demo
from saola.feedback.demo_reports import demo_step as load_feedback_reports
from saola.feedback.demo_training import demo_step as load_feedback_classifier
from saola.sim import load as city_load

SEED = 20250701

# username, role, agency code
DEMO_USERS: list[tuple[str, str, str | None]] = [
    ("admin", "admin", None),
    ("operator", "operator", "IOC"),
    ("staff", "agency_staff", "SXD"),
    ("clerk", "clerk", "TTPVHCC"),
    ("viewer", "viewer", "SKHCN"),
]

COMMUNE_KIND = "commune"
COMMUNE_PREFIX = "UBND-"


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def summary(self) -> str:
        if not any(self.created.values()):
            return "Demo city already loaded; nothing to add."
        return "Demo city loaded: " + ", ".join(f"{n} {what}" for what, n in self.created.items() if n)


@dataclass
class DemoContext:
    """What a demo step works with: the session (never committed by a step), settings, a seeded RNG."""

    session: Session
    settings: Settings
    report: DemoReport
    rng: random.Random


@dataclass(frozen=True, slots=True)
class DemoStep:
    name: str
    run: Callable[[DemoContext], None]


DEMO_STEPS: list[DemoStep] = []


def register_step(name: str, run: Callable[[DemoContext], None], *, after: str | None = None) -> None:
    """Add a demo step (at the end, or right after the step named ``after``); a name is added once."""
    if any(step.name == name for step in DEMO_STEPS):
        return
    position = len(DEMO_STEPS)
    if after is not None:
        position = next(i + 1 for i, step in enumerate(DEMO_STEPS) if step.name == after)
    DEMO_STEPS.insert(position, DemoStep(name, run))


# --- the steps ----------------------------------------------------------------


def _load_units(ctx: DemoContext) -> None:
    loaded = directory.load_units(ctx.session)
    ctx.report.add("administrative units", loaded.units)
    ctx.report.add("unit successions", loaded.successions)


def _load_agencies(ctx: DemoContext) -> None:
    data = json.loads(resources.files("saola.data.demo").joinpath("agencies.json").read_text("utf-8"))
    existing = set(ctx.session.scalars(select(Agency.code)))
    rows = [row for row in data["agencies"] if row["code"] not in existing]
    if rows:
        ctx.session.execute(insert(Agency), rows)
    ctx.report.add("agencies", len(rows))


def commune_agency(ward: AdminUnit) -> dict[str, str]:
    """The People's Committee of a current ward/commune, as an ``agencies`` row."""
    return {
        "code": f"{COMMUNE_PREFIX}{ward.code}",
        "name": f"UBND {ward.full_name}",
        "name_en": f"People's Committee of {ward.name_en}",
        "kind": COMMUNE_KIND,
        "unit_code": ward.code,
    }


def _load_communes(ctx: DemoContext) -> None:
    wards, _total = directory.list_units(ctx.session, province_code=ctx.settings.province_code, level="ward",
                                        limit=1000)
    existing = set(ctx.session.scalars(select(Agency.code).where(Agency.kind == COMMUNE_KIND)))
    rows = [commune_agency(w) for w in wards if f"{COMMUNE_PREFIX}{w.code}" not in existing]
    if rows:
        ctx.session.execute(insert(Agency), rows)
    ctx.report.add("commune People's Committees", len(rows))


def _load_users(ctx: DemoContext) -> None:
    session = ctx.session
    existing = set(session.scalars(select(User.username)))
    codes = {code: agency_id for code, agency_id in session.execute(select(Agency.code, Agency.id))}
    added = 0
    for username, role, agency_code in DEMO_USERS:
        if username in existing:
            continue
        auth.create_user(session, username=username, password=ctx.settings.demo_password, role=role,
                         agency_id=codes.get(agency_code) if agency_code else None,
                         full_name=f"Demo {username}")
        added += 1
    ctx.report.add("users", added)


register_step("units", _load_units)
register_step("agencies", _load_agencies)
register_step("communes", _load_communes)
register_step("users", _load_users)
register_step("queue", load_queue_demo)  # the service centre's queue services and counters
register_step("procedures", load_procedures_demo)  # the one-stop shop's procedures catalogue
register_step("feedback categories", load_feedback_demo)  # the 1022 hotline's category tree
register_step("feedback classifier", load_feedback_classifier)  # its initial model, from demo labelled reports
register_step("feedback reports", load_feedback_reports)  # 300 reports of the last months, in every state
register_step("city entities", city_load.city_entities_step)  # the living city: lamps, roads, stations (saola.sim)
register_step("city devices", city_load.city_devices_step)  # its devices, API key saola-demo-key
register_step("city rules", city_load.city_rules_step)  # the demo rules (data/demo/rules.json), enabled


def load_demo(session: Session, *, settings: Settings) -> DemoReport:
    """Load everything the demo city needs; running it again adds nothing."""
    ctx = DemoContext(session=session, settings=settings, report=DemoReport(), rng=random.Random(SEED))
    for step in DEMO_STEPS:
        step.run(ctx)
        session.flush()
    return ctx.report
