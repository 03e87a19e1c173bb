"""The demo step of the queue: the centre's usual services and ten counters, loaded once."""

from __future__ import annotations

import random

from saola.core.db import unit_of_work
from saola.egov.queue import setup
from saola.egov.queue.demo import DEMO_COUNTERS, DEMO_SERVICES, load_queue_demo
from saola.sim.demo import DEMO_STEPS, DemoContext, DemoReport


def _load(app, settings) -> DemoReport:  # type: ignore[no-untyped-def]
    with unit_of_work(app.state.session_factory) as session:
        ctx = DemoContext(session=session, settings=settings, report=DemoReport(), rng=random.Random(1))
        load_queue_demo(ctx)
        return ctx.report


def test_the_demo_loads_the_centres_services_and_ten_counters_once(app, settings) -> None:
    assert "queue" in [step.name for step in DEMO_STEPS]
    assert _load(app, settings).created == {"queue services": 9, "queue counters": 10}
    assert _load(app, settings).created == {"queue services": 0, "queue counters": 0}
    with unit_of_work(app.state.session_factory) as session:
        services = setup.list_services(session)
        assert [s.prefix for s in services] == [p for p, *_rest in DEMO_SERVICES]
        assert {s.name_en for s in services} >= {"Land", "Business registration", "Construction",
                                                 "Justice and civil status", "Social insurance"}
        counters = setup.list_counters(session)
        links = setup.services_by_counter(session)
    assert len(counters) == len(DEMO_COUNTERS) == 10
    assert len(links[counters[-1].id]) == 9  # counter 10 serves every service
    assert all(links.get(c.id) for c in counters)
