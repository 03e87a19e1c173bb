"""Properties of the dossier statistics over random dossier sets (Hypothesis): every resolved dossier is
exactly one of early / on time / late, the groups add up to the total, and open + resolved covers what was
received. The working-day round trip (add then count) is tested in tests/core/test_calendar.py."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saola.core.auth import service as auth
from saola.core.db import unit_of_work
from saola.egov import dossiers, stats
from saola.egov.dossiers import Applicant

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOW = 60  # days each example gets to itself (its dossiers finish within 46 days)
dossier_sets = st.lists(st.tuples(
    st.integers(min_value=0, max_value=20),  # received, days into the window
    st.integers(min_value=7, max_value=18),  # at this hour
    st.one_of(st.none(), st.integers(min_value=0, max_value=25)),  # finished this many days later, or open
    st.sampled_from(["counter", "online"]),
), min_size=1, max_size=8)
windows = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dossier_sets)
def test_early_on_time_and_late_add_up_to_resolved(app, procedure_id, dossier_set) -> None:
    start = datetime(2026, 1, 5, tzinfo=TZ) + timedelta(days=WINDOW * next(windows))
    end = start + timedelta(days=15)
    received = resolved = 0
    with unit_of_work(app.state.session_factory) as session:
        clerk = auth.principal_for(auth.get_user(session, username="clerk"))
        staff = auth.principal_for(auth.get_user(session, username="staff"))
        for day, hour, finished_after, channel in dossier_set:
            at = start + timedelta(days=day, hours=hour)
            dossier, _case = dossiers.receive(session, procedure_id=procedure_id, applicant=Applicant(name="P"),
                                              actor=clerk, now=at, channel=channel)
            dossiers.move(session, dossier_id=dossier.id, to="in_processing", actor=clerk, now=at)
            received += at < end
            if finished_after is not None:
                done = at + timedelta(days=finished_after, minutes=30)
                dossiers.move(session, dossier_id=dossier.id, to="result_ready", actor=staff, now=done)
                resolved += done < end
        admin = auth.principal_for(auth.get_user(session, username="admin"))
        for by in ("procedure", "agency", "level", "month"):
            rows, total = stats.dossier_stats(session, actor=admin, start=start, end=end, by=by)
            counts = total.counts
            assert counts.early + counts.on_time + counts.late == total.resolved == resolved
            assert total.received == received
            assert sum(r.resolved for r in rows) == total.resolved
            assert sum(r.counts.late for r in rows) == counts.late
            assert total.open_overdue <= total.open
            assert 0 <= (total.official_late_rate or 0) <= 100
