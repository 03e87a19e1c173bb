"""The SMS and chat channels: a provider posts a signed webhook, the message becomes a report (channel recorded),
the tracking code goes back through the provider's HTTP API, and a chat reporter hears of status changes by chat.
The provider is a real HTTP server on 127.0.0.1 that records what Saola sends it; bad input creates nothing."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from saola.app import create_app
from saola.cases.models import CaseNote
from saola.core.messaging.gateways import GatewayConfig, sign, signature_matches
from saola.core.messaging.models import OutboxMessage
from saola.core.messaging.worker import MessagingWorker
from saola.core.settings import load_settings
from saola.feedback.models import FeedbackReport, FeedbackReporter
from tests.feedback.conftest import KINH_BAC, PNG, counts
from tests.messaging_servers import wait_for

SMS_SECRET = "sms-provider-shared-secret-0123"
CHAT_SECRET = "chat-provider-shared-secret-456"
PUBLIC_URL = "https://saola.bacninh.gov.vn"
SMS_URL = "/api/v1/feedback/gateways/viettel-sms/messages"
CHAT_URL = "/api/v1/feedback/gateways/zalo/messages"
LAMP = "Đèn đường trước nhà số 12 không sáng ba hôm nay"


class Provider:
    """A provider's reply API: records each JSON POST with its signature and bearer token."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.signatures: list[tuple[bytes, str]] = []
        self.tokens: list[str] = []
        self.down = False
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if provider.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                provider.signatures.append((body, self.headers.get("X-Saola-Signature", "")))
                provider.tokens.append(self.headers.get("Authorization", ""))
                provider.received.append({"path": self.path, **json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[Provider]:
    server = Provider()
    yield server
    server.close()


@pytest.fixture
def app(settings, provider):
    """The application with an SMS provider and a chat provider, both answered by the test server."""
    gateways = [
        GatewayConfig(name="viettel-sms", kind="sms", secret=SMS_SECRET, reply_url=provider.url + "/sms/reply",
                      reply_token="sms-api-token"),
        GatewayConfig(name="zalo", kind="chat", secret=CHAT_SECRET, reply_url=provider.url + "/chat/reply"),
    ]
    return create_app(settings.model_copy(update={"feedback_gateways": gateways, "public_url": PUBLIC_URL,
                                                  "messaging_poll_seconds": 0.2}))


def post_signed(client, url: str, body: dict[str, Any] | bytes, secret: str = SMS_SECRET, **headers: str):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return client.post(url, content=raw, headers={"Content-Type": "application/json",
                                                  "X-Saola-Signature": sign(secret, raw), **headers})


def sms(**changes: Any) -> dict[str, Any]:
    body = {"message_id": "sms-1", "sender": "0912345678", "text": f"{LAMP}\nĐịa chỉ: số 12 Trần Hưng Đạo"}
    return {**body, **changes}


def _reports(app) -> list[tuple[FeedbackReport, FeedbackReporter | None]]:
    with app.state.session_factory() as session:
        rows = session.execute(select(FeedbackReport, FeedbackReporter)
                               .join(FeedbackReporter, FeedbackReporter.report_id == FeedbackReport.id, isouter=True)
                               .order_by(FeedbackReport.id))
        return [(r, p) for r, p in rows]


def _outbox(app) -> list[OutboxMessage]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_signed_sms_becomes_a_report_and_its_code_goes_back_through_the_provider(app, client, provider) -> None:
    answer = post_signed(client, SMS_URL, sms())
    assert answer.status_code == 201, answer.text
    code = answer.json()["tracking_code"]
    assert answer.json() == {"tracking_code": code, "action": "report", "duplicate": False}
    [(report, reporter)] = _reports(app)
    assert report.channel == "sms" and report.address == "số 12 Trần Hưng Đạo"
    assert reporter is not None and reporter.phone == "0912345678" and reporter.consent

    wait_for(lambda: len(provider.received) == 1)
    link = f"{PUBLIC_URL}/feedback/track?code={code}"
    assert provider.received == [{"path": "/sms/reply", "to": "0912345678",
                                  "text": f"Tổng đài 1022 đã tiếp nhận phản ánh {code}. Theo dõi tại {link}"}]
    body, signature = provider.signatures[0]
    assert signature_matches(SMS_SECRET, body, signature)  # the provider can check the reply is ours
    assert provider.tokens == ["Bearer sms-api-token"]
    wait_for(lambda: [m.status for m in _outbox(app)] == ["sent"])
    assert _outbox(app)[0].source == f"case:{report.case_id}"  # erased with the report's notices (retention)
    tracked = client.get(f"/feedback/track?code={code}")
    assert tracked.status_code == 200 and "0912345678" not in tracked.text


def test_a_chat_message_with_a_location_and_a_photo_is_a_chat_report(app, client, provider, categories) -> None:
    body = {"message_id": "zalo-77", "sender": "zalo-user-8812", "sender_name": "Trần Thị Mai", "text": LAMP,
            "lat": KINH_BAC[0], "long": KINH_BAC[1], "service_code": "street-lighting",
            "attributes": {"lamp_state": "off"},
            "attachments": [{"file_name": "den.png", "content_base64": base64.b64encode(PNG).decode()}],
            "provider_extra": {"ignored": True}}
    answer = post_signed(client, CHAT_URL, body, CHAT_SECRET)
    assert answer.status_code == 201, answer.text
    [(report, reporter)] = _reports(app)
    assert report.channel == "chat" and report.ward_code == "09187" and report.category_id is not None
    assert reporter is not None and reporter.account_id == "zalo:zalo-user-8812" and reporter.name == "Trần Thị Mai"
    assert counts(app)["case_attachments"] == 1
    wait_for(lambda: len(provider.received) == 1)
    assert provider.received[0]["path"] == "/chat/reply" and provider.received[0]["to"] == "zalo-user-8812"
    assert provider.tokens == [""]  # no reply token configured for this provider


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "gateway-signature-missing"),
    ({"X-Saola-Signature": "sha256=" + "0" * 64}, 403, "gateway-signature-invalid"),
    ({"X-Saola-Signature": sign(CHAT_SECRET, json.dumps(sms()).encode())}, 403, "gateway-signature-invalid"),
    ({"X-Saola-Signature": "sha256=not-hex-at-all"}, 403, "gateway-signature-invalid"),
])
def test_an_unsigned_or_badly_signed_message_is_refused_and_creates_nothing(app, client, headers, status,
                                                                           code) -> None:
    before = counts(app)
    answer = client.post(SMS_URL, content=json.dumps(sms()).encode(),
                         headers={"Content-Type": "application/json", **headers})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json" and answer.json()["code"] == code
    assert counts(app) == before and _outbox(app) == []


def test_an_unknown_provider_is_not_found(app, client) -> None:
    answer = post_signed(client, "/api/v1/feedback/gateways/nobody/messages", sms())
    assert answer.status_code == 404 and answer.json()["code"] == "gateway-not-found"


@pytest.mark.parametrize("raw, code, field", [
    (b"{", "invalid-gateway-message", "body"),
    (b"[]", "invalid-gateway-message", "body"),
    (json.dumps({"sender": "0912345678", "text": LAMP}).encode(), "invalid-gateway-message", "message_id"),
    (json.dumps(sms(text="")).encode(), "invalid-report", "description"),
    (json.dumps(sms(text="   hỏng  ")).encode(), "invalid-report", "description"),
    (json.dumps(sms(text=LAMP)).encode(), "invalid-report", "location"),
    (json.dumps(sms(lat=KINH_BAC[0])).encode(), "invalid-report", "long"),
    (json.dumps(sms(sender="không phải số")).encode(), "invalid-report", "phone"),
    (json.dumps(sms(attachments=[{"content_base64": "%%%"}])).encode(), "invalid-gateway-message",
     "attachments.0.content_base64"),
    (json.dumps(sms(attachments=[{"content_base64": base64.b64encode(b"MZ\x90\x00exe").decode()}])).encode(),
     "invalid-report", "media"),
])
def test_bad_input_is_a_clear_422_and_creates_nothing(app, client, raw: bytes, code: str, field: str) -> None:
    before = counts(app)
    answer = post_signed(client, SMS_URL, raw)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == code and field in [e["field"] for e in problem["errors"]], problem
    assert counts(app) == before and _outbox(app) == []


def test_a_retried_webhook_creates_one_report_and_one_reply(app, client) -> None:
    first = post_signed(client, SMS_URL, sms())
    again = post_signed(client, SMS_URL, sms())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "duplicate": True}
    assert len(_reports(app)) == 1 and len(_outbox(app)) == 1


def test_a_follow_up_quoting_the_code_is_a_note_on_the_senders_report(app, client, provider) -> None:
    code = post_signed(client, SMS_URL, sms()).json()["tracking_code"]
    follow = post_signed(client, SMS_URL, sms(message_id="sms-2", sender="+84 912 345 678",
                                              text=f"{code.lower()} đèn vẫn chưa sáng"))
    assert follow.status_code == 201, follow.text
    assert follow.json() == {"tracking_code": code, "action": "follow_up", "duplicate": False}
    assert len(_reports(app)) == 1
    with app.state.session_factory() as session:
        notes = list(session.scalars(select(CaseNote)))
    assert [(n.public, n.text) for n in notes] == [(False, f"Follow-up from the reporter (sms): {code.lower()} đèn "
                                                           "vẫn chưa sáng")]
    wait_for(lambda: len(provider.received) == 2)
    assert provider.received[1]["text"].startswith(f"Ý kiến của bạn đã được bổ sung vào phản ánh {code}")

    stranger = post_signed(client, SMS_URL, sms(message_id="sms-3", sender="0987000111",
                                                text=f"Giống {code}, ở đầu ngõ\nĐịa chỉ: ngõ 5 Trần Hưng Đạo"))
    assert stranger.status_code == 201 and stranger.json()["action"] == "report"  # not the reporter: a new report
    assert len(_reports(app)) == 2


def test_a_chat_reporter_hears_of_status_changes_through_the_chat_provider(app, client, provider, login,
                                                                         categories) -> None:
    body = {"message_id": "zalo-1", "sender": "zalo-user-42", "text": LAMP, "lat": KINH_BAC[0], "long": KINH_BAC[1],
            "service_code": "street-lighting", "attributes": {"lamp_state": "off"}}
    code = post_signed(client, CHAT_URL, body, CHAT_SECRET).json()["tracking_code"]
    wait_for(lambda: len(provider.received) == 1)  # the receipt
    staff = login("staff")
    case_id = next(r["case_id"] for r in staff.client.get("/api/v1/reports").json() if r["tracking_code"] == code)
    me = staff.client.get("/api/v1/me").json()["id"]
    moved = staff.api("POST", f"/api/v1/reports/{case_id}/transition", json={"to": "assigned", "assignee_id": me})
    assert moved.status_code == 200, moved.text

    wait_for(lambda: len(provider.received) == 2)
    link = f"{PUBLIC_URL}/feedback/track?code={code}"
    assert provider.received[1] == {"path": "/chat/reply", "to": "zalo-user-42",
                                    "text": f"Phản ánh {code} của bạn: Đang xử lý. {link}"}


def test_a_reply_the_provider_could_not_take_is_sent_later(app, provider) -> None:
    from fastapi.testclient import TestClient

    provider.down = True
    client = TestClient(app, base_url="http://127.0.0.1")  # no lifespan: no background worker, this test drives one
    code = post_signed(client, SMS_URL, sms()).json()["tracking_code"]
    client.close()
    worker = MessagingWorker(app)
    assert worker.run_once().retried == 1
    [message] = _outbox(app)
    assert message.status == "pending" and message.last_error == "gateway viettel-sms answered 503"
    provider.down = False
    with app.state.session_factory() as session:  # the retry is due now
        session.get(OutboxMessage, message.id).next_attempt_at = message.created_at  # type: ignore[union-attr]
        session.commit()
    assert worker.run_once().sent == 1
    assert provider.received[0]["to"] == "0912345678" and code in provider.received[0]["text"]


@pytest.mark.parametrize("gateways, problem", [
    ('[{"name": "sms", "kind": "sms", "secret": "short", "reply_url": "http://127.0.0.1/r"}]', "16 characters"),
    ('[{"name": "sms", "kind": "sms", "secret": "0123456789abcdef", "reply_url": "ftp://x"}]', "http"),
    ('[{"name": "sms", "kind": "fax", "secret": "0123456789abcdef", "reply_url": "http://x/r"}]', "kind"),
    ('[{"name": "Bad Name", "kind": "sms", "secret": "0123456789abcdef", "reply_url": "http://x/r"}]', "name"),
    ('[{"name": "a", "kind": "sms", "secret": "0123456789abcdef", "reply_url": "http://x/r"},'
     ' {"name": "a", "kind": "chat", "secret": "0123456789abcdef", "reply_url": "http://x/r"}]', "own name"),
])
def test_gateway_settings_that_could_never_work_are_refused_at_start(monkeypatch, gateways: str,
                                                                     problem: str) -> None:
    monkeypatch.setenv("SAOLA_FEEDBACK_GATEWAYS", gateways)
    with pytest.raises(ValidationError) as refused:
        load_settings()
    assert problem in str(refused.value)


def test_gateway_settings_are_read_from_json_and_their_secrets_are_hidden(monkeypatch) -> None:
    monkeypatch.setenv("SAOLA_FEEDBACK_GATEWAYS", json.dumps([{"name": "zalo", "kind": "chat", "secret": CHAT_SECRET,
                                                               "reply_url": "https://zalo.example.vn/reply"}]))
    [gateway] = load_settings().feedback_gateways
    assert (gateway.name, gateway.kind, gateway.secret.get_secret_value()) == ("zalo", "chat", CHAT_SECRET)
    assert CHAT_SECRET not in str(load_settings().model_dump())  # `saola config` prints model_dump()
