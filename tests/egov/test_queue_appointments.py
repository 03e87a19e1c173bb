"""Appointments: daily slots from the office hours of working days, capacity, refusals of past, full and
non-existent slots, and check-in at the kiosk giving a ticket ahead of the ordinary queue."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from fastapi.testclient import TestClient

from saola.core.db import utcnow
from saola.core.errors import DomainError
from saola.egov.queue import appointments
from saola.egov.queue import service as queue
from tests.conftest import csrf_from
from tests.egov.test_queue_support import bearer, centre, principal, run, vn

BOOKED_AT = vn(2026, 11, 23, 10, 0)  # Monday
TUESDAY = date(2026, 11, 24)


def book(app, service_id: int, day: date, start: time, now=BOOKED_AT, **kw):  # type: ignore[no-untyped-def]
    return run(app, appointments.book, service_id=service_id, day=day, start=start,
               name=kw.get("name", "Trần Thị Bình"), phone=kw.get("phone", "0987 654 321"), now=now)


def test_slots_cut_the_office_sessions_of_working_days(app) -> None:
    c = centre(app)
    slots = run(app, appointments.list_slots, service_id=c.business, day=TUESDAY, now=BOOKED_AT)
    labels = [s.label for s in slots]
    assert labels[0] == "07:30–08:00" and labels[7] == "11:00–11:30" and labels[8] == "13:00–13:30"
    assert labels[-1] == "16:30–17:00" and len(labels) == 16
    assert all(s.capacity == 2 and s.bookable for s in slots)
    # Saturday 28/11/2026 and New Year's Day are not working days: no slots.
    assert run(app, appointments.list_slots, service_id=c.business, day=date(2026, 11, 28), now=BOOKED_AT) == []


def test_a_slot_takes_its_capacity_then_is_full(app) -> None:
    c = centre(app)
    first = book(app, c.business, TUESDAY, time(9, 0))
    second = book(app, c.business, TUESDAY, time(9, 0), name="Lê Văn Cường", phone="+84912000111")
    assert first.code != second.code and len(first.code) == 6
    assert second.phone == "+84912000111"
    with pytest.raises(DomainError) as full:
        book(app, c.business, TUESDAY, time(9, 0))
    assert full.value.code == "slot-full"
    slot = next(s for s in run(app, appointments.list_slots, service_id=c.business, day=TUESDAY, now=BOOKED_AT)
                if s.label == "09:00–09:30")
    assert (slot.booked, slot.free, slot.bookable) == (2, 0, False)


@pytest.mark.parametrize(("day", "start", "code"), [
    (TUESDAY, time(9, 10), "invalid-slot"),  # not a slot boundary
    (TUESDAY, time(12, 0), "invalid-slot"),  # lunch break
    (date(2026, 11, 28), time(9, 0), "invalid-slot"),  # Saturday
    (date(2026, 11, 23), time(9, 30), "slot-in-past"),  # earlier the same morning
    (date(2026, 11, 20), time(9, 0), "slot-in-past"),  # last week
    (date(2027, 1, 5), time(9, 0), "invalid-slot"),  # beyond the booking window
])
def test_past_and_non_existent_slots_are_refused(app, day: date, start: time, code: str) -> None:
    c = centre(app)
    with pytest.raises(DomainError) as refused:
        book(app, c.business, day, start)
    assert refused.value.code == code


def test_bad_names_and_phones_are_refused(app) -> None:
    c = centre(app)
    for name, phone, field in (("  ", "0912345678", "name"), ("An", "12345", "phone"), ("An", "0912abc678", "phone")):
        with pytest.raises(DomainError) as refused:
            book(app, c.business, TUESDAY, time(9, 0), name=name, phone=phone)
        assert refused.value.field == field


def test_checking_in_gives_a_ticket_called_before_the_ordinary_queue(app) -> None:
    c = centre(app)
    clerk = principal(app, "clerk")
    appointment = book(app, c.business, TUESDAY, time(9, 0))
    ordinary = run(app, queue.issue_ticket, service_id=c.business, now=vn(2026, 11, 24, 8, 0)).code
    with pytest.raises(DomainError) as early:
        run(app, appointments.check_in, code=appointment.code, now=vn(2026, 11, 24, 7, 59))
    assert early.value.code == "check-in-refused"
    ticket = run(app, appointments.check_in, code=appointment.code.lower(), now=vn(2026, 11, 24, 8, 30))
    assert ticket.code == "B002" and ticket.appointment_id == appointment.id
    with pytest.raises(DomainError) as twice:
        run(app, appointments.check_in, code=appointment.code, now=vn(2026, 11, 24, 8, 31))
    assert twice.value.code == "check-in-refused"
    assert run(app, queue.call_next, counter_id=c.counter2, actor=clerk, now=vn(2026, 11, 24, 8, 40)).code == "B002"
    run(app, queue.finish, counter_id=c.counter2, actor=clerk, now=vn(2026, 11, 24, 8, 50))
    assert run(app, queue.call_next, counter_id=c.counter2, actor=clerk, now=vn(2026, 11, 24, 8, 51)).code == ordinary


def test_an_appointment_checks_in_only_on_its_day_and_before_its_slot_ends(app) -> None:
    c = centre(app)
    appointment = book(app, c.business, TUESDAY, time(9, 0))
    for at in (vn(2026, 11, 23, 9, 0), vn(2026, 11, 24, 9, 31)):
        with pytest.raises(DomainError) as refused:
            run(app, appointments.check_in, code=appointment.code, now=at)
        assert refused.value.code == "check-in-refused"
    with pytest.raises(DomainError) as unknown:
        run(app, appointments.check_in, code="ZZZZZZ", now=vn(2026, 11, 24, 9, 0))
    assert unknown.value.code == "unknown-appointment"


def test_a_citizen_books_online_and_gets_a_booking_code(app, client: TestClient, token, login) -> None:
    c = centre(app)
    slots = run(app, appointments.list_slots, service_id=c.business,
                day=appointments.bookable_days(now=utcnow())[1], now=utcnow())
    slot = next(s for s in slots if s.bookable)
    page = client.get(f"/queue/book?service_id={c.business}&day={slot.start.date().isoformat()}")
    assert page.status_code == 200 and slot.label in page.text
    csrf = csrf_from(client, "/queue/book")
    form = {"service_id": str(c.business), "day": slot.start.date().isoformat(), "start": f"{slot.start:%H:%M}",
            "name": "Phạm Minh Đức", "phone": "0903123456", "csrf_token": csrf}
    booked = client.post("/queue/book", data=form, follow_redirects=False)
    assert booked.status_code == 303
    confirmation = client.get(booked.headers["location"])
    code = re.search(r'data-testid="booking-code">(\w+)<', confirmation.text).group(1)
    assert "***456" in confirmation.text and "0903123456" not in confirmation.text
    listed = client.get(f"/api/v1/queue/appointments?day={slot.start.date().isoformat()}",
                        headers=bearer(token("clerk"))).json()
    assert [a["code"] for a in listed] == [code]
    desk = login("clerk").client.get(f"/console/queue/appointments?day={slot.start.date().isoformat()}")
    assert desk.status_code == 200 and code in desk.text and "0903123456" in desk.text  # staff see the phone
    # The slot of another booking that is now full is refused with the reason on the page.
    client.post("/queue/book", data={**form, "name": "Người Thứ Hai"})
    full = client.post("/queue/book", data={**form, "name": "Người Thứ Ba"})
    assert full.status_code == 409 and 'data-code="slot-full"' in full.text
    past = client.post("/queue/book", data={**form, "day": "2020-01-02", "start": "09:00"})
    assert past.status_code == 400
    assert 'data-code="slot-in-past"' in past.text


def test_clerks_book_by_phone_through_the_api_and_refusals_say_why(app, client: TestClient, token) -> None:
    c = centre(app)
    clerk = bearer(token("clerk"))
    day = appointments.bookable_days(now=utcnow())[1].isoformat()
    slots = client.get(f"/api/v1/queue/slots?service_id={c.business}&day={day}")  # public
    assert slots.status_code == 200
    free = next(s for s in slots.json() if s["bookable"])
    start = free["label"][:5]
    body = {"service_id": c.business, "day": day, "start": start, "name": "Võ Thị Hoa", "phone": "0905111222"}
    for _ in range(2):
        assert client.post("/api/v1/queue/appointments", headers=clerk, json=body).status_code == 201
    full = client.post("/api/v1/queue/appointments", headers=clerk, json=body)
    assert (full.status_code, full.json()["code"]) == (409, "slot-full")
    past = client.post("/api/v1/queue/appointments", headers=clerk, json={**body, "day": "2026-01-05"})
    assert (past.status_code, past.json()["code"]) == (400, "slot-in-past")
    odd = client.post("/api/v1/queue/appointments", headers=clerk, json={**body, "start": "25:99"})
    assert (odd.status_code, odd.json()["code"]) == (400, "invalid-slot")
    anonymous = client.post("/api/v1/queue/appointments", json=body)
    assert anonymous.status_code == 401
    after = client.get(f"/api/v1/queue/slots?service_id={c.business}&day={day}").json()
    assert next(s for s in after if s["label"] == free["label"])["free"] == 0
