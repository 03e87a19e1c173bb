"""Citizens are told of each PUBLIC status change of their report or dossier, by e-mail and SMS, in Vietnamese,
with the tracking code and the public lookup link; internal moves (triage, hold, starting work) tell no one.
The mail and the SMS are received by a real SMTP server and a real HTTP gateway on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from saola.app import create_app
from saola.core.auth import service as auth
from saola.core.db import unit_of_work, utcnow
from saola.core.messaging.models import OutboxMessage
from saola.core.messaging.worker import MessagingWorker
from saola.egov import dossiers
from saola.egov.dossiers import Applicant
from tests.egov.conftest import procedure_record
from tests.feedback.conftest import bearer, report_json
from tests.messaging_servers import messaging_settings, wait_for

PUBLIC_URL = "https://saola.bacninh.gov.vn"


@pytest.fixture
def app(settings, mailbox, sms_gateway):
    """The application with its mail and SMS gateways pointing at the test servers."""
    return create_app(messaging_settings(settings, mailbox[1], sms_gateway.url))


def _outbox(app) -> list[OutboxMessage]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _report(client, token, **contact: Any) -> str:
    """Submit a report as the hotline operator would; its tracking code."""
    created = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json(**contact))
    assert created.status_code == 201, created.text
    return created.json()["tracking_code"]


def _case_id(staff, code: str) -> int:
    return next(r["case_id"] for r in staff.client.get("/api/v1/reports").json() if r["tracking_code"] == code)


def test_the_reporter_gets_a_vietnamese_mail_and_sms_when_work_starts(app, client, token, login, categories,
                                                                       mailbox, sms_gateway) -> None:
    code = _report(client, token, name="Lê Văn Cường", email="cuong@example.vn", phone="0912345678",
                         consent=True)
    assert _outbox(app) == []  # received → triaged on submission is internal
    staff = login("staff")
    me = staff.client.get("/api/v1/me").json()["id"]
    moved = staff.api("POST", f"/api/v1/reports/{_case_id(staff, code)}/transition",
                      json={"to": "assigned", "assignee_id": me})
    assert moved.status_code == 200, moved.text

    wait_for(lambda: len(mailbox[0].mails) == 1 and len(sms_gateway.received) == 1)
    link = f"{PUBLIC_URL}/feedback/track?code={code}"
    mail = mailbox[0].mails[0]
    assert mailbox[0].recipients == [["cuong@example.vn"]]
    assert mail["Subject"] == f"Phản ánh {code} của bạn: Đang xử lý"
    assert code in mail.get_content() and link in mail.get_content()
    assert sms_gateway.received == [{"to": "0912345678", "text": f"Phản ánh {code} của bạn: Đang xử lý. {link}"}]
    wait_for(lambda: all(m.status == "sent" for m in _outbox(app)))
    assert [(m.channel, m.status) for m in _outbox(app)] == [("email", "sent"), ("sms", "sent")]


def test_internal_moves_notify_no_one_and_resolution_does(app, token, login, categories, client,
                                                          mailbox) -> None:
    code = _report(client, token, email="dung@example.vn", consent=True)
    staff = login("staff")
    me = staff.client.get("/api/v1/me").json()["id"]
    url = f"/api/v1/reports/{_case_id(staff, code)}/transition"
    assert staff.api("POST", url, json={"to": "assigned", "assignee_id": me}).status_code == 200
    assert len(_outbox(app)) == 1
    for move in ({"to": "in_progress"}, {"to": "on_hold", "reason": "Chờ vật tư"}, {"to": "in_progress"}):
        assert staff.api("POST", url, json=move).status_code == 200
    assert len(_outbox(app)) == 1  # still "being handled" for the citizen
    resolved = staff.api("POST", url, json={"to": "resolved", "resolution": "Đã thay bóng đèn"})
    assert resolved.status_code == 200, resolved.text
    wait_for(lambda: len(mailbox[0].mails) == 2)
    assert mailbox[0].mails[1]["Subject"] == f"Phản ánh {code} của bạn: Đã xử lý xong"


def test_a_refused_move_and_a_reporter_without_contact_send_nothing(app, token, login, categories, client) -> None:
    code = _report(client, token)
    staff = login("staff")
    url = f"/api/v1/reports/{_case_id(staff, code)}/transition"
    assert staff.api("POST", url, json={"to": "resolved", "resolution": "x"}).status_code == 409
    assert staff.api("POST", url, json={"to": "rejected", "reason": "Không thuộc thẩm quyền"}).status_code == 200
    assert _outbox(app) == []


def test_the_applicant_of_a_dossier_is_told_of_each_change_with_the_lookup_link(app, mailbox, sms_gateway) -> None:
    from saola.egov import procedures

    factory = app.state.session_factory
    with unit_of_work(factory) as session:
        procedure_id = procedures.create_procedure(session, actor=None, data=procedure_record()).id
    with unit_of_work(factory) as session:
        clerk = auth.principal_for(auth.get_user(session, username="clerk"))
        dossier, _case = dossiers.receive(session, procedure_id=procedure_id, actor=clerk, now=utcnow(),
                                          applicant=Applicant(name="Phạm Thu Hà", email="ha@example.vn",
                                                              phone="0987654321"))
        dossier_id, code = dossier.id, dossier.code
    assert _outbox(app) == []  # receiving is confirmed by the slip, not by a message
    with unit_of_work(factory) as session:
        clerk = auth.principal_for(auth.get_user(session, username="clerk"))
        dossiers.move(session, dossier_id=dossier_id, to="in_processing", actor=clerk, now=utcnow())
    run = MessagingWorker(app).run_once()
    assert run.sent == 2
    link = f"{PUBLIC_URL}/portal/dossiers/lookup?code={code}"
    mail = mailbox[0].mails[0]
    assert mail["Subject"] == f"Hồ sơ {code} của bạn: Đang giải quyết" and link in mail.get_content()
    assert sms_gateway.received == [{"to": "0987654321", "text": f"Hồ sơ {code} của bạn: Đang giải quyết. {link}"}]
    stored = _outbox(app)
    assert all("pin=" not in m.body for m in stored)  # the rating code stays on the slip
