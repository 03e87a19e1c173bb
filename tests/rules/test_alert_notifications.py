"""Alert notifications reach real servers: an SMTP mailbox, an HTTP SMS gateway and a webhook receiver that
checks the HMAC-SHA256 signature; quiet hours, subscription filters and the escalation of critical alerts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from saola.app import create_app
from saola.core.auth.models import User
from saola.core.db import unit_of_work
from saola.core.directory.models import Agency, AgencyContact
from saola.core.messaging.backends import DeliveryError
from saola.core.messaging.gateways import SIGNATURE_HEADER, signature_matches
from saola.core.messaging.models import OutboxMessage
from saola.core.messaging.webhooks import HttpWebhookSender
from saola.core.messaging.worker import MessagingWorker
from saola.rules import alert_subscriptions, alerts
from saola.rules.alert_models import Alert, DutyShift
from saola.rules.alert_schemas import SubscriptionIn
from saola.rules.alert_worker import AlertWorker
from tests.messaging_servers import messaging_settings, wait_for

SECRET = "alerts-webhook-secret-0123456789"
T = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 23:00 in Bắc Ninh
FLOOD = "https://uri.etsi.org/ngsi-ld/default-context/FloodMonitoring"


class WebhookReceiver:
    """A small HTTP server receiving webhooks; it answers 401 to a bad signature and 503 while ``down``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.down = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                if not signature_matches(SECRET, body, self.headers.get(SIGNATURE_HEADER, "")):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.received.append({"body": json.loads(body), "event": self.headers.get("X-Saola-Event")})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ioc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def notify_app(settings, mailbox, sms_gateway):
    _box, port = mailbox
    app = create_app(messaging_settings(settings, port, sms_gateway.url, webhook_secret=SECRET,
                                        alerts_escalate_after_seconds=60.0, messaging_retry_seconds=0.05,
                                        alerts_poll_seconds=0.2))
    with unit_of_work(app.state.session_factory) as session:
        ids = {u.username: u.id for u in session.scalars(select(User))}
        session.execute(update(User).where(User.username == "operator").values(
            email="operator@ioc.bacninh.gov.vn", phone="0912000001"))
        session.execute(update(User).where(User.username == "staff2").values(
            email="staff2@syt.bacninh.gov.vn", phone="0912000002"))
        session.execute(update(User).where(User.username == "staff").values(email="staff@sxd.bacninh.gov.vn"))
        sxd = session.scalar(select(Agency).where(Agency.code == "SXD"))
        session.add_all([
            AgencyContact(agency_id=sxd.id, name="Trực ban Sở Xây dựng", position="Trực ban", phone="0912000003",
                          email="trucban@sxd.bacninh.gov.vn", on_duty=True),
            AgencyContact(agency_id=sxd.id, name="Nguyễn Văn Giám", position="Giám đốc Sở", phone="0912000004",
                          email="giamdoc@sxd.bacninh.gov.vn", on_duty=False),
            DutyShift(user_id=ids["operator"], starts_at=T - timedelta(hours=4), ends_at=T + timedelta(hours=4),
                      created_by="admin")])
    app.state.user_ids = ids
    return app


def subscribe(app, username: str, **data: Any) -> None:
    with unit_of_work(app.state.session_factory) as session:
        user = session.scalar(select(User).where(User.username == username))
        alert_subscriptions.create_subscription(session, user=user, data=SubscriptionIn(**data), now=T,
                                                settings=app.state.settings)


def raise_(app, *, rule_id: int = 1, severity: str = "major", owner: str | None = "SXD",
           entity_type: str = FLOOD, at: datetime = T) -> int:
    with unit_of_work(app.state.session_factory) as session:
        return alerts.raise_alert(
            session, rule_id=rule_id, rule_version=1, tenant="", subject=f"urn:ngsi-ld:FloodMonitoring:bn-{rule_id}",
            entity_type=entity_type, severity=severity, title_vi="Nước dâng tại cống Đặng Xá",
            title_en="Rising water at Dang Xa sluice", value=3.4, details={}, at=at, owner_agency=owner,
            location=None, incident_type=None).id


def deliver(app) -> None:
    MessagingWorker(app).run_once()


def mail_to(mailbox) -> list[str]:
    box, _ = mailbox
    return sorted(r for rcpts in box.recipients for r in rcpts)


def sms_to(sms_gateway) -> list[str]:
    return sorted(m["to"] for m in sms_gateway.received)


def timeline(app, pk: int) -> list[tuple[str, dict[str, Any]]]:
    with unit_of_work(app.state.session_factory) as session:
        return [(e.kind, e.data) for e in alerts.timeline(session, alert_id=pk)]


def test_a_new_alert_reaches_the_on_duty_operator_the_agency_and_subscribers(notify_app, mailbox, sms_gateway,
                                                                            webhook) -> None:
    subscribe(notify_app, "staff2", channels=["email", "webhook"], webhook_url=webhook.url, min_severity="minor")
    pk = raise_(notify_app)
    run = AlertWorker(notify_app).run_once(now=T + timedelta(seconds=5))
    assert (run.notified, run.escalated) == (1, 0)
    deliver(notify_app)
    assert mail_to(mailbox) == ["operator@ioc.bacninh.gov.vn", "staff2@syt.bacninh.gov.vn",
                                "trucban@sxd.bacninh.gov.vn"]
    assert sms_to(sms_gateway) == ["0912000001", "0912000003"]
    box, _ = mailbox
    mail = next(m for m in box.mails if m["To"] == "trucban@sxd.bacninh.gov.vn")
    assert "Nước dâng tại cống Đặng Xá" in str(mail["Subject"])
    assert f"https://saola.bacninh.gov.vn/console/alerts/{pk}" in mail.get_content()
    assert webhook.bad_signatures == 0
    (hook,) = webhook.received
    assert hook["event"] == "alert.raised"
    assert (hook["body"]["event"], hook["body"]["alert"]["id"], hook["body"]["alert"]["severity"]) == (
        "alert.raised", pk, "major")
    assert ("notified", {"event": "alert.raised", "recipients": 6, "channels": {"email": 3, "sms": 2, "webhook": 1}}) \
        in timeline(notify_app, pk)
    # Sent once: the next run finds nothing new, even for a repeated firing of the same alert.
    raise_(notify_app, at=T + timedelta(minutes=1))
    assert AlertWorker(notify_app).run_once(now=T + timedelta(minutes=2)).messages == 0


def test_quiet_hours_hold_back_all_but_critical_alerts(notify_app, mailbox, sms_gateway) -> None:
    subscribe(notify_app, "staff2", channels=["email", "sms"], min_severity="info",
              quiet_start=time(22, 0), quiet_end=time(6, 0))  # crosses midnight; T is 23:00 local
    minor = raise_(notify_app, rule_id=1, severity="minor", owner=None)
    critical = raise_(notify_app, rule_id=2, severity="critical", owner=None)
    AlertWorker(notify_app).run_once(now=T)
    deliver(notify_app)
    assert ("suppressed", {"event": "alert.raised", "recipients": 2}) in timeline(notify_app, minor)
    assert not any(kind == "suppressed" for kind, _ in timeline(notify_app, critical))
    box, _ = mailbox
    to_staff2 = [m for m in box.mails if m["To"] == "staff2@syt.bacninh.gov.vn"]
    assert len(to_staff2) == 1 and "Nước dâng" in str(to_staff2[0]["Subject"])
    assert sms_to(sms_gateway).count("0912000002") == 1
    # Outside the quiet hours (07:00 local) a minor alert does reach them.
    raise_(notify_app, rule_id=3, severity="minor", owner=None, at=T + timedelta(hours=8))
    AlertWorker(notify_app).run_once(now=T + timedelta(hours=8))
    deliver(notify_app)
    assert len([m for m in box.mails if m["To"] == "staff2@syt.bacninh.gov.vn"]) == 2


@pytest.mark.parametrize(("subscription", "told"), [
    ({"min_severity": "critical"}, False),
    ({"min_severity": "major"}, True),
    ({"entity_types": ["AirQualityObserved"]}, False),
    ({"entity_types": ["FloodMonitoring"]}, True),
    ({"entity_types": [FLOOD]}, True),
    ({"agencies": ["SYT"]}, False),
    ({"agencies": ["SXD", "SYT"]}, True),
    ({"active": False}, False),
])
def test_each_subscription_filters_what_its_user_hears(notify_app, mailbox, subscription: dict[str, Any],
                                                       told: bool) -> None:
    subscribe(notify_app, "staff", channels=["email"], **({"min_severity": "minor"} | subscription))
    raise_(notify_app, severity="major")
    AlertWorker(notify_app).run_once(now=T)
    deliver(notify_app)
    assert ("staff@sxd.bacninh.gov.vn" in mail_to(mailbox)) is told


def test_an_unacknowledged_critical_alert_escalates_to_the_agency_leadership(notify_app, mailbox) -> None:
    critical = raise_(notify_app, rule_id=1, severity="critical")
    acknowledged = raise_(notify_app, rule_id=2, severity="critical")
    major = raise_(notify_app, rule_id=3, severity="major")
    with unit_of_work(notify_app.state.session_factory) as session:
        alerts.acknowledge(session, alert_id=acknowledged, actor="operator", now=T + timedelta(seconds=10))
    worker = AlertWorker(notify_app)
    assert worker.run_once(now=T + timedelta(seconds=30)).escalated == 0
    run = worker.run_once(now=T + timedelta(seconds=61))
    assert run.escalated == 1
    assert [(t, b["id"], b["escalation_level"]) for t, b in worker.pending_events] == [
        ("alert.escalated", critical, 1)]
    with unit_of_work(notify_app.state.session_factory) as session:
        levels = {a.id: (a.escalation_level, a.escalated_at) for a in session.scalars(select(Alert))}
    assert levels[critical] == (1, T + timedelta(seconds=61))
    assert levels[acknowledged][0] == levels[major][0] == 0
    assert worker.run_once(now=T + timedelta(hours=1)).escalated == 0  # level 1 once
    deliver(notify_app)
    with unit_of_work(notify_app.state.session_factory) as session:
        sent = [(m.channel, m.recipient) for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if m.data.get("event") == "alert.escalated"]
    assert sent == [("email", "giamdoc@sxd.bacninh.gov.vn"), ("sms", "0912000004")]
    assert mail_to(mailbox).count("giamdoc@sxd.bacninh.gov.vn") == 1
    assert ("escalated", {"level": 1}) in timeline(notify_app, critical)


def test_a_webhook_receiver_that_is_down_gets_the_alert_later(notify_app, webhook) -> None:
    subscribe(notify_app, "staff2", channels=["webhook"], webhook_url=webhook.url, min_severity="info")
    webhook.down = True
    raise_(notify_app, owner=None)
    AlertWorker(notify_app).run_once(now=T)
    messenger = MessagingWorker(notify_app)
    assert messenger.run_once().retried == 1
    webhook.down = False
    wait_for(lambda: messenger.run_once().sent == 1, 5)
    assert len(webhook.received) == 1 and webhook.bad_signatures == 0
    with unit_of_work(notify_app.state.session_factory) as session:
        (row,) = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
        assert (row.status, row.attempts) == ("sent", 2)


def test_webhooks_are_never_sent_unsigned(webhook) -> None:
    with pytest.raises(DeliveryError, match="SAOLA_WEBHOOK_SECRET"):
        HttpWebhookSender(secret="").send_webhook(url=webhook.url, body="{}")
    with pytest.raises(DeliveryError, match="401"):
        HttpWebhookSender(secret="another-secret-0123456789").send_webhook(url=webhook.url, body="{}")
    assert webhook.bad_signatures == 1 and webhook.received == []


def test_the_running_app_notifies_in_the_background(notify_app, mailbox) -> None:
    subscribe(notify_app, "staff2", channels=["email"], min_severity="critical")
    with TestClient(notify_app):
        raise_(notify_app, severity="critical", owner=None, at=datetime.now(UTC))
        wait_for(lambda: "staff2@syt.bacninh.gov.vn" in mail_to(mailbox), 10)
