"""Reporters of merged reports follow the report kept: when staff merge A into B, every public status change of B
(its resolution included) is written to the outbox for B's reporter AND A's, naming their own report; reports
merged into A before are carried over to B; a person who reported both is told once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from saola.core.messaging.models import OutboxMessage
from tests.feedback.conftest import bearer, report_json


def _report(client, token, **contact: Any) -> str:
    created = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json(consent=True,
                                                                                                 **contact))
    assert created.status_code == 201, created.text
    return created.json()["tracking_code"]


def _case_id(staff, code: str) -> int:
    return next(r["case_id"] for r in staff.client.get("/api/v1/reports").json() if r["tracking_code"] == code)


def _outbox(app, after: int = 0) -> list[OutboxMessage]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id > after).order_by(OutboxMessage.id)))


def _last_id(app) -> int:
    rows = _outbox(app)
    return rows[-1].id if rows else 0


def _merge(staff, code: str, into: str) -> None:
    merged = staff.api("POST", f"/api/v1/reports/{_case_id(staff, code)}/merge", json={"into": into})
    assert merged.status_code == 200, merged.text


def test_every_reporter_of_a_merged_report_is_told_of_the_kept_reports_answer(app, client, token, login,
                                                                             categories) -> None:
    first = _report(client, token, email="an@example.vn", phone="0911111111")
    earlier = _report(client, token, email="chi@example.vn")
    kept = _report(client, token, email="binh@example.vn", phone="0922222222")
    staff = login("staff")
    _merge(staff, earlier, first)  # earlier → first, then first → kept: both follow the kept report
    _merge(staff, first, kept)

    before = _last_id(app)
    me = staff.client.get("/api/v1/me").json()["id"]
    url = f"/api/v1/reports/{_case_id(staff, kept)}/transition"
    assert staff.api("POST", url, json={"to": "assigned", "assignee_id": me}).status_code == 200
    started = _outbox(app, before)
    assert {(m.channel, m.recipient) for m in started} == {
        ("email", "binh@example.vn"), ("sms", "0922222222"), ("email", "an@example.vn"), ("sms", "0911111111"),
        ("email", "chi@example.vn")}
    assert all(m.source == f"case:{_case_id(staff, kept)}" for m in started)
    to_first = next(m for m in started if m.recipient == "an@example.vn")
    assert to_first.subject == f"Phản ánh {first} của bạn, đã gộp vào {kept}: Đang xử lý"
    assert to_first.data["merged_code"] == first and to_first.data["code"] == kept
    assert f"/feedback/track?code={kept}" in to_first.body
    sms = next(m for m in started if m.recipient == "0911111111")
    assert sms.body.startswith(f"Phản ánh {first} của bạn, đã gộp vào {kept}: Đang xử lý.")
    to_kept = next(m for m in started if m.recipient == "binh@example.vn")
    assert to_kept.subject == f"Phản ánh {kept} của bạn: Đang xử lý" and "merged_code" not in to_kept.data

    before = _last_id(app)
    assert staff.api("POST", url, json={"to": "in_progress"}).status_code == 200
    answer = "Đã thay bóng đèn, gọi 0987654321 nếu còn hỏng"
    resolved = staff.api("POST", url, json={"to": "resolved", "resolution": answer})
    assert resolved.status_code == 200, resolved.text
    answered = _outbox(app, before)
    assert {m.recipient for m in answered} == {"binh@example.vn", "0922222222", "an@example.vn", "0911111111",
                                               "chi@example.vn"}
    assert {m.data["public_status"] for m in answered} == {"resolved"}
    to_earlier = next(m for m in answered if m.recipient == "chi@example.vn")
    assert to_earlier.subject == f"Phản ánh {earlier} của bạn, đã gộp vào {kept}: Đã xử lý xong"
    mails = [m for m in answered if m.channel == "email"]
    assert all(m.body.endswith("Nội dung trả lời: Đã thay bóng đèn, gọi […] nếu còn hỏng") for m in mails)
    assert all("Nội dung trả lời" not in m.body for m in answered if m.channel == "sms")


def test_a_person_who_reported_both_is_told_once(app, client, token, login, categories) -> None:
    duplicate = _report(client, token, email="an@example.vn")
    kept = _report(client, token, email="an@example.vn")
    staff = login("staff")
    _merge(staff, duplicate, kept)
    before = _last_id(app)
    me = staff.client.get("/api/v1/me").json()["id"]
    moved = staff.api("POST", f"/api/v1/reports/{_case_id(staff, kept)}/transition",
                      json={"to": "assigned", "assignee_id": me})
    assert moved.status_code == 200
    assert [(m.recipient, m.subject) for m in _outbox(app, before)] == [
        ("an@example.vn", f"Phản ánh {kept} của bạn: Đang xử lý")]


def test_the_merged_report_itself_is_announced_once_and_internal_moves_tell_no_one(app, client, token, login,
                                                                                   categories) -> None:
    duplicate = _report(client, token, email="an@example.vn")
    kept = _report(client, token, email="binh@example.vn")
    staff = login("staff")
    before = _last_id(app)
    _merge(staff, duplicate, kept)
    assert [(m.recipient, m.data["code"], m.data["public_status"]) for m in _outbox(app, before)] == [
        ("an@example.vn", duplicate, "rejected")]  # "merged into …" is the reason shown on its lookup page
    before = _last_id(app)
    moved = staff.api("POST", f"/api/v1/reports/{_case_id(staff, kept)}/reassign",
                      json={"agency_code": "SYT", "reason": "Thuộc lĩnh vực y tế"})
    assert moved.status_code == 200, moved.text
    assert _outbox(app, before) == []  # triaged → forwarded: still "received" for the citizens
