"""The demo's ``feedback reports`` step: a few hundred 1022 reports over the last four months, in every state.

The texts are the demo's labelled reports (``data/feedback/demo_reports.json``, written for the demo by
the Saola team, not citizen data); each report is placed at a point inside a ward of the province (the
shipped boundaries), received at a time of the last 120 days, seven in ten with the category the
"citizen" chose and the rest left to the classifier and the triage queue. Everything goes through
:func:`saola.feedback.reports.submit`, :func:`saola.feedback.triage.categorise` and the case engine
at the report's own times, acting as the demo ``operator``: older reports were triaged, the Construction
department's were assigned to its demo ``staff``, started and mostly resolved (some late), a few others
rejected as duplicates, and the rest are still open. Deterministic (seeded); skipped when any report
exists, so a second run adds nothing.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.models import Case
from saola.core.auth import service as auth
from saola.core.auth.models import User
from saola.core.db import utcnow
from saola.core.settings import Settings
from saola.feedback import reports, triage
from saola.feedback.intake import Submission
from saola.feedback.training_data import active_codes, demo_document

if TYPE_CHECKING:
    from saola.core.auth.service import Principal
    from saola.sim.demo import DemoContext

DEMO_REPORTS = 300
SEED = 1022
DAYS = 120
WITH_CATEGORY = 0.7
ANSWERS = {"street-lighting": {"lamp_state": "off"}, "traffic-signal": {"signal_state": "off"}}


@dataclass(frozen=True)
class People:
    operator: Principal
    handlers: dict[int, tuple[Principal, int]]  # agency id -> (a handler acting there, the user to assign)


def ward_points() -> list[tuple[float, float]]:
    """One point inside each shipped ward (lat, lon), in code order."""
    text = resources.files("saola.data.geo").joinpath("bac_ninh_wards.geojson").read_text("utf-8")
    features = sorted(json.loads(text)["features"], key=lambda f: f["properties"]["code"])
    points = [shape(f["geometry"]).representative_point() for f in features]
    return [(round(p.y, 6), round(p.x, 6)) for p in points]


def _people(session: Session) -> People | None:
    users = {u.username: u for u in session.scalars(select(User).where(User.active.is_(True)))}
    if "operator" not in users:
        return None
    operator = auth.principal_for(users["operator"])
    handlers = {u.agency_id: (operator, u.id) for u in users.values()
                if u.role == "agency_staff" and u.agency_id is not None}
    return People(operator=operator, handlers=handlers)


def _progress(session: Session, item: reports.Report, *, code: str, at: datetime, now: datetime, people: People,
              rng: random.Random) -> None:
    """Move the report on as staff would have, at plausible times after ``at`` (never after ``now``)."""
    age = (now - at).total_seconds() / 86400
    when = at + timedelta(hours=rng.uniform(0.5, 20))
    if when >= now:
        return
    case_id = item.case.id
    if item.case.status == "received":
        if age < 2:
            return  # still in the triage queue
        triage.categorise(session, case_id=case_id, service_code=code, actor=people.operator, now=when)
    case = session.get(Case, case_id)
    assert case is not None
    if case.status != "triaged":
        return
    if rng.random() < 0.06:
        cases.transition(session, case_id=case_id, to="rejected", actor=people.operator, now=when,
                         reason="Trùng với phản ánh đã tiếp nhận trước đó")
        return
    handler = people.handlers.get(case.agency_id)
    if handler is None or age < 3:
        return
    actor, assignee = handler
    steps = [("assigned", {"assignee_id": assignee}), ("in_progress", {}),
             ("resolved", {"resolution": "Đơn vị đã kiểm tra và khắc phục xong."})]
    for to, extra in steps[: 3 if age > 7 else rng.randint(1, 2)]:
        when += timedelta(hours=rng.uniform(2, 60))
        if when >= now:
            return
        cases.transition(session, case_id=case_id, to=to, actor=actor, now=when, **extra)


def load_reports(session: Session, *, settings: Settings, now: datetime, count: int = DEMO_REPORTS) -> int:
    """Add ``count`` demo reports unless any report exists; how many were added."""
    if session.scalar(select(Case.id).where(Case.case_type == reports.CASE_TYPE).limit(1)) is not None:
        return 0
    people = _people(session)
    texts = {code: items for code, items in demo_document()["reports"].items() if code in active_codes(session)}
    if people is None or not texts:
        return 0
    rng = random.Random(SEED)
    points = ward_points()
    codes = sorted(texts)
    anchor = now.replace(minute=0, second=0, microsecond=0)
    times = sorted(anchor - timedelta(days=rng.uniform(0, DAYS)) for _ in range(count))
    for n, at in enumerate(times):
        code = rng.choice(codes)
        lat, lon = rng.choice(points)
        chosen = rng.random() < WITH_CATEGORY
        submission = Submission(channel=rng.choice(("web", "phone", "app", "sms")), description=rng.choice(texts[code]),
                                service_code=code if chosen else None, lat=lat, lon=lon,
                                answers=ANSWERS.get(code, {}) if chosen else {})
        item = reports.submit(session, submission=submission, actor=None, now=at, settings=settings)
        _progress(session, item, code=code, at=at, now=anchor, people=people, rng=random.Random(SEED + n))
    session.flush()
    return count


def demo_step(ctx: DemoContext) -> None:
    """Load the demo reports (after the categories, the users and the classifier)."""
    added = load_reports(ctx.session, settings=ctx.settings, now=utcnow())
    ctx.report.add("1022 demo reports", added)
