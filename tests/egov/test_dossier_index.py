"""The Decision 766/QĐ-TTg index: group maxima from the decision, criteria computable from Saola's data or
marked not computable, estimated points from a pure calculator; the API and the console page."""

from __future__ import annotations

import pytest

from saola.egov.index import GROUPS, IndexInputs, compute_index
from tests.egov.test_dossier_exports import PERIOD, _march, bearer


def test_the_groups_carry_the_decisions_maxima_summing_to_100() -> None:
    assert {g.key: g.maximum for g in GROUPS} == {"transparency": 18, "timeliness": 20, "digitisation": 22,
                                                  "online": 22, "satisfaction": 18}
    assert sum(g.maximum for g in GROUPS) == 100


def test_every_group_says_which_criteria_saola_cannot_compute() -> None:
    not_computable = {c.key for g in GROUPS for c in g.criteria if not c.computable}
    assert {"online_payment", "electronic_results", "synced_to_national_portal", "feedback_on_time"} <= not_computable
    assert all(c.formula for g in GROUPS for c in g.criteria if c.computable)


def _rates(data: IndexInputs) -> dict[str, float | None]:
    groups, _points, _out_of = compute_index(data)
    return {c.criterion.key: c.rate for g in groups for c in g.criteria}


@pytest.mark.parametrize(("data", "key", "rate"), [
    (IndexInputs(resolved=8, late=1, open=2, open_overdue=1), "on_time", 80.0),
    (IndexInputs(resolved=10, late=0, open=0), "on_time", 100.0),
    (IndexInputs(resolved=0, open=4, open_overdue=4), "on_time", 0.0),
    (IndexInputs(), "on_time", None),
    (IndexInputs(received=8, online=2), "online_dossiers", 25.0),
    (IndexInputs(received=3, digitised=3), "digitised_dossiers", 100.0),
    (IndexInputs(procedures=40, online_procedures=30), "online_procedures", 75.0),
    (IndexInputs(procedures=40, complete_procedures=10), "complete_procedures", 25.0),
    (IndexInputs(resolved=20, dissatisfied=1), "dossier_satisfaction", 95.0),
    (IndexInputs(resolved=20), "online_payment", None),
], ids=["overdue-open-counts-late", "all-on-time", "only-overdue", "nothing", "online", "digitised",
        "online-procedures", "complete-procedures", "satisfaction", "payment-not-computable"])
def test_criterion_rates(data: IndexInputs, key: str, rate: float | None) -> None:
    assert _rates(data)[key] == rate


@pytest.mark.parametrize(("data", "points", "out_of"), [
    (IndexInputs(), 0.0, 0),
    (IndexInputs(resolved=10), 20 + 18.0, 38),  # all on time, none dissatisfied: timeliness and satisfaction
    (IndexInputs(resolved=10, late=5), 10.0 + 18.0, 38),
    (IndexInputs(resolved=4, received=4, online=2, procedures=2, online_procedures=2, complete_procedures=2,
                 digitised=1), 18 + 20 + 5.5 + 16.5 + 18, 100),
], ids=["no-data", "perfect-timeliness", "half-late", "every-group"])
def test_estimated_points_are_maximum_times_mean_rate_of_the_computable_criteria(
        data: IndexInputs, points: float, out_of: int) -> None:
    _groups, reached, maximum = compute_index(data)
    assert (reached, maximum) == (points, out_of)


def test_a_group_without_computable_data_scores_none_not_zero() -> None:
    groups, _points, _out_of = compute_index(IndexInputs(resolved=5))
    by_key = {g.group.key: g for g in groups}
    assert by_key["digitisation"].points is None and by_key["timeliness"].points == 20.0


def test_the_index_api_reports_the_period(app, client, token, procedure_id, tmp_path) -> None:
    _march(app, procedure_id, tmp_path)
    body = client.get(f"/api/v1/dossiers/index?{PERIOD}", headers=bearer(token("clerk"))).json()
    assert body["decision"] == "766/QĐ-TTg" and body["maximum"] == 100
    groups = {g["key"]: g for g in body["groups"]}
    timeliness = {c["key"]: c["rate"] for c in groups["timeliness"]["criteria"]}
    assert timeliness["on_time"] == 40.0  # 100 − official late rate 60
    assert groups["timeliness"]["points"] == 8.0
    satisfaction = {c["key"]: c for c in groups["satisfaction"]["criteria"]}
    assert satisfaction["dossier_satisfaction"]["rate"] == 50.0  # one of two resolved rated timeliness 2/5
    assert satisfaction["feedback_on_time"]["computable"] is False and satisfaction["feedback_on_time"]["rate"] is None


def test_the_index_page_shows_groups_and_marks_what_is_not_computable(app, login, procedure_id, tmp_path) -> None:
    _march(app, procedure_id, tmp_path)
    page = login("clerk").client.get(f"/console/dossiers/index?{PERIOD}")
    assert page.status_code == 200
    assert page.text.count('<tr data-group="') == 5
    assert 'data-criterion="online_payment" data-computable="no"' in page.text
    assert "Tiến độ, kết quả giải quyết" in page.text


def test_the_index_needs_the_read_permission_and_a_forward_period(client, token) -> None:
    assert client.get(f"/api/v1/dossiers/index?{PERIOD}").status_code == 401
    backwards = client.get("/api/v1/dossiers/index?start=2026-03-31&end=2026-03-01", headers=bearer(token("clerk")))
    assert backwards.status_code == 400


def test_every_computable_criterion_explains_its_formula_in_both_languages() -> None:
    computable = [c for g in GROUPS for c in g.criteria if c.computable]
    assert computable and all(c.formula and c.formula_vi for c in computable)


def test_the_index_page_speaks_english_when_asked(login) -> None:
    page = login("clerk").client.get(f"/console/dossiers/index?{PERIOD}&lang=en")
    assert page.status_code == 200
    assert "Progress and results of processing" in page.text and "Not computable from Saola&#39;s data" in page.text
    assert "online submissions / received dossiers" in page.text
