"""``saola demo``: load the demo province (idempotent, deterministic).

Loads the administrative units (current and former, from ``vietnamadminunits``), the
province's agencies (from ``data/demo/agencies.json`` plus one People's Committee per
ward/commune) and one demo user per role.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.auth import service as auth
from saola.core.auth.models import User
from saola.core.directory.models import Agency
from saola.core.settings import Settings

SEED = 20250701

# username, role, agency code
DEMO_USERS: list[tuple[str, str, str | None]] = [
    ("admin", "admin", None),
    ("operator", "operator", "IOC"),
    ("staff", "agency_staff", "SXD"),
    ("clerk", "clerk", "TTPVHCC"),
    ("viewer", "viewer", "SKHCN"),
]


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def summary(self) -> str:
        if not any(self.created.values()):
            return "Demo city already loaded; nothing to add."
        return "Demo city loaded: " + ", ".join(f"{n} {what}" for what, n in self.created.items() if n)


def _load_agencies(session: Session, report: DemoReport) -> None:
    data = json.loads(resources.files("saola.data.demo").joinpath("agencies.json").read_text("utf-8"))
    existing = set(session.scalars(select(Agency.code)))
    added = 0
    for row in data["agencies"]:
        if row["code"] not in existing:
            session.add(Agency(**row))
            added += 1
    session.flush()
    report.add("agencies", added)


def _load_users(session: Session, settings: Settings, report: DemoReport) -> None:
    existing = set(session.scalars(select(User.username)))
    codes = {a.code: a.id for a in session.scalars(select(Agency))}
    added = 0
    for username, role, agency_code in DEMO_USERS:
        if username in existing:
            continue
        auth.create_user(session, username=username, password=settings.demo_password, role=role,
                         agency_id=codes.get(agency_code) if agency_code else None,
                         full_name=f"Demo {username}")
        added += 1
    report.add("users", added)


def load_demo(session: Session, *, settings: Settings) -> DemoReport:
    """Load everything the demo city needs; running it again adds nothing."""
    random.seed(SEED)
    report = DemoReport()
    _load_agencies(session, report)
    _load_users(session, settings, report)
    return report
