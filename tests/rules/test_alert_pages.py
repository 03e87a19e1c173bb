"""Console pages of the alerts: the list with filters, an alert with its timeline and the acknowledge and
clear forms, one's alert subscriptions and the on-duty roster."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from saola.core.auth.models import User
from saola.core.db import unit_of_work, utcnow
from saola.rules import alerts
from saola.rules.alert_models import Alert

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def seed(app, *, rule_id: int, severity: str = "major", cleared: bool = False) -> int:
    with unit_of_work(app.state.session_factory) as session:
        subject = f"urn:ngsi-ld:Streetlight:bn-09190-{rule_id:04d}"
        alert = alerts.raise_alert(
            session, rule_id=rule_id, rule_version=1, tenant="", subject=subject,
            entity_type="https://uri.etsi.org/ngsi-ld/default-context/Streetlight", severity=severity,
            title_vi=f"Đèn hỏng {rule_id}", title_en=f"Broken lamp {rule_id}", value="defectiveLamp", details={},
            at=T0, owner_agency="SXD", location=None, incident_type=None)
        if cleared:
            alerts.clear_alert(session, rule_id=rule_id, subject=subject, at=T0 + timedelta(minutes=1), reason="ok")
        return alert.id


def state_of(app, pk: int) -> str:
    with unit_of_work(app.state.session_factory) as session:
        alert = session.get(Alert, pk)
        assert alert is not None
        return alerts.display_state(alert)


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-alert="(\d+)"', html)


def test_the_list_shows_open_alerts_with_counts_and_filters(app, login) -> None:
    critical = seed(app, rule_id=1, severity="critical")
    minor = seed(app, rule_id=2, severity="minor")
    cleared = seed(app, rule_id=3, cleared=True)
    browser = login("operator")
    page = browser.client.get("/console/alerts")
    assert page.status_code == 200
    assert rows(page.text) == [str(critical), str(minor), str(cleared)]  # needing attention: open, then cleared-unack
    assert 'data-count="critical">1<' in page.text and 'data-count="minor">1<' in page.text
    assert "Cảnh báo" in page.text and "Đèn hỏng 1" in page.text  # Vietnamese first
    assert rows(browser.client.get("/console/alerts?severity=critical").text) == [str(critical)]
    assert rows(browser.client.get("/console/alerts?state=cleared-unacknowledged").text) == [str(cleared)]
    english = browser.client.get("/console/alerts?lang=en")
    assert "Broken lamp 1" in english.text and "Needing attention" in english.text
    assert browser.client.get("/console/alerts?severity=urgent").status_code == 422


def test_an_operator_acknowledges_from_the_list(app, login) -> None:
    pk = seed(app, rule_id=1)
    browser = login("operator")
    assert f'data-testid="ack-{pk}"' in browser.client.get("/console/alerts").text
    done = browser.post_form(f"/console/alerts/{pk}/acknowledge", {"back": "list"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/alerts?done=acknowledged"
    assert state_of(app, pk) == "acknowledged"


def test_the_alert_page_shows_the_timeline_and_refuses_illegal_moves(app, login) -> None:
    pk = seed(app, rule_id=1)
    browser = login("operator")
    page = browser.client.get(f"/console/alerts/{pk}")
    assert page.status_code == 200
    assert 'data-kind="raised"' in page.text and 'data-testid="ack-form"' in page.text
    assert f'href="/console/incidents/new?alert={pk}"' in page.text
    acked = browser.post_form(f"/console/alerts/{pk}/acknowledge", {"note": "đã cử đội"}, follow_redirects=True)
    assert acked.status_code == 200 and "đã cử đội" in acked.text and 'data-testid="ack-form"' not in acked.text
    again = browser.post_form(f"/console/alerts/{pk}/acknowledge", {})
    assert again.status_code == 409 and 'data-code="alert-already-acknowledged"' in again.text
    no_reason = browser.post_form(f"/console/alerts/{pk}/clear", {"reason": "  "})
    assert no_reason.status_code == 422 and 'data-code="alert-reason-required"' in no_reason.text
    assert state_of(app, pk) == "acknowledged"
    cleared = browser.post_form(f"/console/alerts/{pk}/clear", {"reason": "đã thay bóng"}, follow_redirects=True)
    assert cleared.status_code == 200 and 'data-testid="cleared"' in cleared.text and "đã thay bóng" in cleared.text
    assert state_of(app, pk) == "cleared"
    assert browser.client.get("/console/alerts/999999").status_code == 404


def test_a_viewer_sees_alerts_without_the_buttons_and_cannot_post(app, login) -> None:
    pk = seed(app, rule_id=1)
    viewer = login("viewer")
    assert rows(viewer.client.get("/console/alerts").text) == [str(pk)]
    page = viewer.client.get(f"/console/alerts/{pk}")
    assert page.status_code == 200 and 'data-testid="ack-form"' not in page.text
    assert viewer.post_form(f"/console/alerts/{pk}/acknowledge", {}).status_code == 403
    assert viewer.client.get("/console/alerts/subscriptions").status_code == 403
    assert state_of(app, pk) == "active"


def test_my_subscriptions_page(app, login) -> None:
    with unit_of_work(app.state.session_factory) as session:
        session.execute(update(User).where(User.username == "operator").values(email="op@ioc.bacninh.gov.vn"))
    browser = login("operator")
    made = browser.post_form("/console/alerts/subscriptions", {
        "name": "Đèn đường", "min_severity": "minor", "channels": "email", "entity_types": "Streetlight, Camera",
        "quiet_start": "22:00", "quiet_end": "06:00"}, follow_redirects=True)
    assert made.status_code == 200 and 'data-testid="notice"' in made.text
    assert "Đèn đường" in made.text and "Streetlight, Camera" in made.text and "22:00–06:00" in made.text
    sub_id = re.search(r'data-subscription="(\d+)"', made.text).group(1)  # type: ignore[union-attr]
    refused = browser.post_form("/console/alerts/subscriptions", {"channels": "sms"})  # no phone number
    assert refused.status_code == 422 and 'data-code="alert-contact-missing"' in refused.text
    empty = browser.post_form("/console/alerts/subscriptions", {"quiet_start": "25:99"})
    assert empty.status_code == 422 and 'data-code="validation-failed"' in empty.text
    gone = browser.post_form(f"/console/alerts/subscriptions/{sub_id}/delete", {}, follow_redirects=True)
    assert gone.status_code == 200 and "data-subscription=" not in gone.text


def test_the_on_duty_roster_page(app, login) -> None:
    browser = login("operator")
    local = utcnow().astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)
    added = browser.post_form("/console/alerts/on-duty", {
        "starts_at": (local - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M"), "note": "Ca đêm"},
        follow_redirects=True)
    assert added.status_code == 200 and 'data-testid="notice"' in added.text
    assert re.search(r'data-testid="on-duty-now">\s*<li data-user="operator"', added.text)
    backwards = browser.post_form("/console/alerts/on-duty", {"starts_at": "2026-11-25T07:00",
                                                               "ends_at": "2026-11-25T06:00"})
    assert backwards.status_code == 422 and 'data-code="alert-invalid-shift"' in backwards.text
    shift_id = re.search(r'data-shift="(\d+)"', added.text).group(1)  # type: ignore[union-attr]
    viewer = login("viewer")
    assert 'data-user="operator"' in viewer.client.get("/console/alerts/on-duty").text
    assert viewer.post_form(f"/console/alerts/on-duty/{shift_id}/delete", {}).status_code == 403
    removed = browser.post_form(f"/console/alerts/on-duty/{shift_id}/delete", {}, follow_redirects=True)
    assert removed.status_code == 200 and "data-shift=" not in removed.text
