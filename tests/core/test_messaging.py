"""Outbound messaging: a real SMTP server and a real HTTP SMS gateway on 127.0.0.1 receive what the outbox
sends; a gateway that is down gets the message later, nothing is lost; bad settings are refused at start."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from saola.app import create_app
from saola.core.db import unit_of_work, utcnow
from saola.core.messaging import outbox
from saola.core.messaging.backends import DeliveryError, HttpSmsSender, SmtpMailSender
from saola.core.messaging.models import OutboxMessage
from saola.core.messaging.worker import MessagingWorker
from saola.core.settings import load_settings
from tests.conftest import free_port
from tests.messaging_servers import API_KEY, messaging_settings, wait_for


@pytest.fixture
def worker_app(settings, mailbox, sms_gateway):
    return create_app(messaging_settings(settings, mailbox[1], sms_gateway.url, messaging_max_attempts=3))


def _queue(app, **fields: Any) -> int:
    values = {"channel": "email", "recipient": "an@example.vn", "subject": "Chào", "body": "Nội dung thư"} | fields
    with unit_of_work(app.state.session_factory) as session:
        message = outbox.enqueue(session, **values)
        session.flush()
        return message.id


def _row(app, pk: int) -> OutboxMessage:
    with app.state.session_factory() as session:
        row = session.get(OutboxMessage, pk)
        assert row is not None
        return row


def test_the_smtp_sender_delivers_a_utf8_mail_to_a_real_server(mailbox) -> None:
    box, port = mailbox
    sender = SmtpMailSender(host="127.0.0.1", port=port, starttls=False, user="", password="",
                            sender="saola@bacninh.gov.vn")
    sender.send_mail(to="ha@example.vn", subject="Hồ sơ HS-1: Đã có kết quả", body="Xin mời nhận kết quả.")
    assert box.recipients == [["ha@example.vn"]]
    mail = box.mails[0]
    assert mail["Subject"] == "Hồ sơ HS-1: Đã có kết quả" and mail["From"] == "saola@bacninh.gov.vn"
    assert mail.get_content().strip() == "Xin mời nhận kết quả."


def test_the_smtp_sender_reports_an_unreachable_server() -> None:
    sender = SmtpMailSender(host="127.0.0.1", port=free_port(), starttls=False, user="", password="", sender="a@b.vn")
    with pytest.raises(DeliveryError):
        sender.send_mail(to="x@example.vn", subject="s", body="b")


def test_the_sms_sender_posts_json_with_the_api_key(sms_gateway) -> None:
    HttpSmsSender(url=sms_gateway.url, api_key=API_KEY, api_key_header="X-API-Key", timeout=5).send_sms(
        to="0912345678", text="Phản ánh PA-1: Đang xử lý")
    assert sms_gateway.received == [{"to": "0912345678", "text": "Phản ánh PA-1: Đang xử lý"}]
    assert sms_gateway.keys == [API_KEY]


def test_the_sms_sender_reports_a_gateway_error(sms_gateway) -> None:
    sms_gateway.down = True
    sender = HttpSmsSender(url=sms_gateway.url, api_key=API_KEY, api_key_header="X-API-Key", timeout=5)
    with pytest.raises(DeliveryError, match="503"):
        sender.send_sms(to="0912345678", text="x")


def test_a_queued_message_is_delivered_after_commit(worker_app, mailbox, sms_gateway) -> None:
    mail_id = _queue(worker_app)
    sms_id = _queue(worker_app, channel="sms", recipient="0912345678", subject="", body="Tin nhắn")
    run = MessagingWorker(worker_app).run_once()
    assert (run.sent, run.retried, run.failed) == (2, 0, 0)
    assert [m["Subject"] for m in mailbox[0].mails] == ["Chào"]
    assert sms_gateway.received == [{"to": "0912345678", "text": "Tin nhắn"}]
    assert _row(worker_app, mail_id).status == "sent" and _row(worker_app, sms_id).sent_at is not None
    assert MessagingWorker(worker_app).run_once().sent == 0  # never sent twice


def test_a_rolled_back_change_sends_nothing(worker_app) -> None:
    with pytest.raises(RuntimeError), unit_of_work(worker_app.state.session_factory) as session:
        outbox.enqueue(session, channel="email", recipient="an@example.vn", subject="s", body="b")
        raise RuntimeError("the change failed")
    with worker_app.state.session_factory() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_a_gateway_that_is_down_gets_the_message_later(worker_app, sms_gateway) -> None:
    pk = _queue(worker_app, channel="sms", recipient="0912345678", subject="", body="Tin nhắn")
    sms_gateway.down = True
    worker = MessagingWorker(worker_app)
    assert worker.run_once().retried == 1
    row = _row(worker_app, pk)
    assert (row.status, row.attempts) == ("pending", 1) and "503" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)  # backoff: not tried again at once
    assert worker.run_once().retried == 0 and sms_gateway.received == []
    sms_gateway.down = False
    later = row.next_attempt_at + timedelta(seconds=1)
    run = outbox.deliver_due(worker_app.state.session_factory, mail=worker.mail, sms=worker.sms,
                             policy=worker.policy, now=later)
    assert run.sent == 1 and sms_gateway.received == [{"to": "0912345678", "text": "Tin nhắn"}]
    row = _row(worker_app, pk)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def test_a_message_is_marked_failed_after_the_last_attempt_and_kept(worker_app, sms_gateway) -> None:
    pk = _queue(worker_app, channel="sms", recipient="0912345678", subject="", body="x")
    sms_gateway.down = True
    worker = MessagingWorker(worker_app)
    now = utcnow()
    for _ in range(3):
        outbox.deliver_due(worker_app.state.session_factory, mail=worker.mail, sms=worker.sms, policy=worker.policy,
                           now=now)
        now += timedelta(days=2)
    row = _row(worker_app, pk)
    assert (row.status, row.attempts) == ("failed", 3) and row.body == "x"


def test_two_workers_running_at_once_send_each_message_once(worker_app, sms_gateway) -> None:
    for n in range(6):
        _queue(worker_app, channel="sms", recipient=f"09123456{n:02d}", subject="", body=f"Tin {n}")
    workers = [MessagingWorker(worker_app), MessagingWorker(worker_app)]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m["text"] for m in sms_gateway.received) == [f"Tin {n}" for n in range(6)]
    with worker_app.state.session_factory() as session:
        assert {(m.status, m.attempts) for m in session.scalars(select(OutboxMessage))} == {("sent", 1)}


def test_the_backoff_doubles_up_to_a_day() -> None:
    rule = outbox.Policy(max_attempts=20, retry_seconds=30)
    assert [rule.delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert rule.delay(15) == timedelta(days=1)


def test_the_app_delivers_in_the_background(worker_app, mailbox) -> None:
    from fastapi.testclient import TestClient

    with TestClient(worker_app, base_url="http://127.0.0.1"):
        _queue(worker_app, recipient="binh@example.vn", subject="Nền")
        wait_for(lambda: len(mailbox[0].mails) == 1)
    assert mailbox[0].recipients == [["binh@example.vn"]]


def test_only_administrators_see_the_outbox_with_masked_recipients(worker_app, login) -> None:
    _queue(worker_app, recipient="nguyen.van.an@example.vn")
    _queue(worker_app, channel="sms", recipient="0912345678", subject="", body="Tin")
    admin = login("admin")
    page = admin.client.get("/api/v1/messages").json()
    assert page["total"] == 2
    assert [m["recipient"] for m in page["items"]] == ["091****678", "ng***@example.vn"]
    assert "nguyen.van.an" not in json.dumps(page)
    pending = admin.client.get("/api/v1/messages?status=pending").json()
    assert pending["total"] == 2 and admin.client.get("/api/v1/messages?status=sent").json()["total"] == 0
    assert admin.client.get("/api/v1/messages?status=lost").status_code == 422
    assert login("operator").client.get("/api/v1/messages").status_code == 403


@pytest.fixture
def login(worker_app):
    from tests.conftest import sign_in

    def _login(username: str):
        return sign_in(worker_app, username)

    return _login


@pytest.mark.parametrize(("overrides", "message"), [
    ({"mail_backend": "smtp", "mail_from": "a@b.vn"}, "SAOLA_SMTP_HOST"),
    ({"mail_backend": "smtp", "smtp_host": "mail.local"}, "SAOLA_MAIL_FROM"),
    ({"sms_backend": "http", "sms_api_key": "k"}, "SAOLA_SMS_GATEWAY_URL"),
    ({"sms_backend": "http", "sms_gateway_url": "ftp://x", "sms_api_key": "k"}, "SAOLA_SMS_GATEWAY_URL"),
    ({"sms_backend": "http", "sms_gateway_url": "https://sms.example.vn/send"}, "SAOLA_SMS_API_KEY"),
    ({"public_url": "saola.local"}, "SAOLA_PUBLIC_URL"),
    ({"mail_backend": "pigeon"}, "mail_backend"),
])
def test_settings_that_could_never_deliver_are_refused(tmp_path, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_settings(data_dir=tmp_path, env="test", **overrides)


def test_complete_gateway_settings_are_accepted(tmp_path) -> None:
    chosen = load_settings(data_dir=tmp_path, env="test", mail_backend="smtp", smtp_host="mail.local",
                           mail_from="saola@bacninh.gov.vn", sms_backend="http", sms_api_key="k",
                           sms_gateway_url="https://sms.example.vn/send")
    assert (chosen.mail_backend, chosen.sms_backend) == ("smtp", "http")
