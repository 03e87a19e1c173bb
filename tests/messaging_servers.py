"""Small real servers the messaging tests send to: an SMTP mailbox (aiosmtpd) and an HTTP SMS gateway.

The fixtures ``mailbox`` and ``sms_gateway`` (registered in ``tests/conftest.py``) start one per test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from saola.core.settings import Settings
from tests.conftest import free_port

API_KEY = "sms-test-key"



class MailBox:
    """An aiosmtpd handler keeping every mail it accepts."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.append(list(envelope.rcpt_tos))
        self.mails.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


class SmsGateway:
    """A small HTTP SMS gateway: stores each JSON POST with the API key it carried; ``down`` answers 503."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.keys: list[str | None] = []
        self.down = False
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if gateway.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                gateway.received.append(json.loads(body))
                gateway.keys.append(self.headers.get("X-API-Key"))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "queued"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mailbox() -> Iterator[tuple[MailBox, int]]:
    box, port = MailBox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def sms_gateway() -> Iterator[SmsGateway]:
    gateway = SmsGateway()
    yield gateway
    gateway.close()


def messaging_settings(settings: Settings, smtp_port: int, sms_url: str, **more: Any) -> Settings:
    """``settings`` with SMTP and the HTTP SMS gateway pointing at the test servers."""
    return settings.model_copy(update={
        "mail_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_starttls": False,
        "mail_from": "saola@bacninh.gov.vn", "sms_backend": "http", "sms_gateway_url": sms_url, "sms_api_key": API_KEY,
        "public_url": "https://saola.bacninh.gov.vn", "messaging_poll_seconds": 0.2, **more})


def wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
