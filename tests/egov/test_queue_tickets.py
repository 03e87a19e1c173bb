"""Tickets and counters: numbering per prefix and day, the call order, recall / skip / transfer / finish,
and the refusals (unknown service, closed or busy counter, empty queue)."""

from __future__ import annotations

import pytest

from saola.core.errors import DomainError
from saola.egov.queue import service as queue
from tests.egov.test_queue_support import centre, principal, run, vn

DAY = vn(2026, 11, 24, 8, 0)  # a Tuesday, 08:00 in Hà Nội


def issue(app, service_id: int, at, **kw) -> str:
    return run(app, queue.issue_ticket, service_id=service_id, now=at, **kw).code


def test_tickets_are_numbered_per_service_prefix(app) -> None:
    c = centre(app)
    codes = [issue(app, s, DAY) for s in (c.land, c.land, c.business, c.land, c.business, c.civil)]
    assert codes == ["A001", "A002", "B001", "A003", "B002", "D001"]


def test_numbering_restarts_at_midnight_in_vietnam_not_utc(app) -> None:
    c = centre(app)
    assert issue(app, c.land, vn(2026, 11, 24, 23, 58)) == "A001"
    assert issue(app, c.land, vn(2026, 11, 24, 23, 59, 59)) == "A002"
    # 00:00:01 in Hà Nội is still 24 November in UTC: the centre's day has changed, so numbers restart.
    assert issue(app, c.land, vn(2026, 11, 25, 0, 0, 1)) == "A001"
    assert issue(app, c.business, vn(2026, 11, 25, 7, 30)) == "B001"
    assert issue(app, c.land, vn(2026, 11, 25, 7, 31)) == "A002"


def test_call_next_serves_priority_then_appointments_then_first_come(app) -> None:
    from saola.egov.queue import appointments

    c = centre(app)
    clerk = principal(app, "clerk")
    first = issue(app, c.land, vn(2026, 11, 24, 7, 40))
    second = issue(app, c.land, vn(2026, 11, 24, 7, 41))
    booked = run(app, appointments.book, service_id=c.land, day=DAY.date(), start=vn(2026, 11, 24, 8, 0).time(),
                 name="Nguyễn Văn An", phone="0912345678", now=vn(2026, 11, 20, 9))
    elderly = issue(app, c.land, vn(2026, 11, 24, 7, 45), priority="elderly")
    checked_in = run(app, appointments.check_in, code=booked.code, now=vn(2026, 11, 24, 7, 46)).code
    called = []
    for minute in range(50, 54):
        ticket = run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=vn(2026, 11, 24, 7, minute))
        called.append(ticket.code)
        run(app, queue.finish, counter_id=c.counter1, actor=clerk, now=vn(2026, 11, 24, 7, minute, 30))
    assert called == [elderly, checked_in, first, second]


def test_a_counter_calls_only_the_services_it_serves(app) -> None:
    c = centre(app)
    clerk = principal(app, "clerk")
    issue(app, c.business, DAY)
    with pytest.raises(DomainError) as refused:
        run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=DAY)
    assert refused.value.code == "queue-empty"
    assert run(app, queue.call_next, counter_id=c.counter2, actor=clerk, now=DAY).code == "B001"


def test_one_ticket_at_a_time_per_counter_and_closed_counters_call_nobody(app) -> None:
    c = centre(app)
    clerk = principal(app, "clerk")
    issue(app, c.land, DAY)
    issue(app, c.land, DAY)
    run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=DAY)
    with pytest.raises(DomainError) as busy:
        run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=DAY)
    assert busy.value.code == "counter-busy"
    with pytest.raises(DomainError) as closing:
        run(app, queue.set_counter_open, counter_id=c.counter1, is_open=False, actor=clerk)
    assert closing.value.code == "counter-busy"
    with pytest.raises(DomainError) as closed:
        run(app, queue.call_next, counter_id=c.counter3, actor=clerk, now=DAY)
    assert closed.value.code == "counter-closed"


def test_recall_announces_again_and_skip_closes_as_no_show(app) -> None:
    c = centre(app)
    clerk = principal(app, "clerk")
    issue(app, c.land, DAY)
    issue(app, c.land, DAY)
    run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=DAY)
    assert run(app, queue.recall, counter_id=c.counter1, actor=clerk, now=DAY).recalls == 1
    assert run(app, queue.recall, counter_id=c.counter1, actor=clerk, now=DAY).recalls == 2
    skipped = run(app, queue.skip, counter_id=c.counter1, actor=clerk, now=vn(2026, 11, 24, 8, 5))
    assert (skipped.code, skipped.status) == ("A001", "skipped")
    assert run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=DAY).code == "A002"
    with pytest.raises(DomainError) as nothing:
        run(app, queue.recall, counter_id=c.counter3, actor=clerk, now=DAY)
    assert nothing.value.code == "counter-closed"


def test_transfer_to_another_service_keeps_the_code_and_place(app) -> None:
    c = centre(app)
    clerk = principal(app, "clerk")
    issue(app, c.land, vn(2026, 11, 24, 7, 30))
    issue(app, c.business, vn(2026, 11, 24, 7, 35))
    run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=DAY)
    moved = run(app, queue.transfer, counter_id=c.counter1, actor=clerk, now=DAY, to_service_id=c.business)
    assert (moved.code, moved.status, moved.service_id) == ("A001", "waiting", c.business)
    run(app, queue.set_counter_open, counter_id=c.counter3, is_open=True, actor=clerk)
    # Issued before B001, so it keeps its place in the business queue.
    assert run(app, queue.call_next, counter_id=c.counter3, actor=clerk, now=DAY).code == "A001"


def test_transfer_to_a_counter_goes_to_that_counter_first(app) -> None:
    c = centre(app)
    clerk = principal(app, "clerk")
    issue(app, c.land, vn(2026, 11, 24, 7, 30))
    issue(app, c.land, vn(2026, 11, 24, 7, 31))
    issue(app, c.business, vn(2026, 11, 24, 7, 32))
    run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=DAY)
    run(app, queue.call_next, counter_id=c.counter2, actor=clerk, now=DAY)  # A002
    run(app, queue.finish, counter_id=c.counter2, actor=clerk, now=DAY)
    run(app, queue.set_counter_open, counter_id=c.counter3, is_open=True, actor=clerk)
    run(app, queue.transfer, counter_id=c.counter1, actor=clerk, now=DAY, to_counter_id=c.counter3)
    # Counter 3 serves only B, but A001 was sent to it by name: it comes before B001.
    assert run(app, queue.call_next, counter_id=c.counter3, actor=clerk, now=DAY).code == "A001"
    assert run(app, queue.call_next, counter_id=c.counter2, actor=clerk, now=DAY).code == "B001"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({}, "to_service_id"),
    ({"to_service_id": 999999}, "to_service_id"),
    ({"to_counter_id": 999999}, "to_counter_id"),
])
def test_a_transfer_without_a_valid_target_is_refused_and_changes_nothing(app, kwargs, field) -> None:
    c = centre(app)
    clerk = principal(app, "clerk")
    issue(app, c.land, DAY)
    run(app, queue.call_next, counter_id=c.counter1, actor=clerk, now=DAY)
    with pytest.raises(DomainError) as refused:
        run(app, queue.transfer, counter_id=c.counter1, actor=clerk, now=DAY, **kwargs)
    assert (refused.value.code, refused.value.field) == ("invalid-transfer", field)
    assert run(app, queue.current_ticket, counter_id=c.counter1).code == "A001"


def test_unknown_service_and_priority_are_refused(app) -> None:
    c = centre(app)
    with pytest.raises(DomainError) as unknown:
        run(app, queue.issue_ticket, service_id=999999, now=DAY)
    assert unknown.value.code == "unknown-queue-service"
    with pytest.raises(DomainError) as priority:
        run(app, queue.issue_ticket, service_id=c.land, now=DAY, priority="vip")
    assert priority.value.code == "unknown-priority"
    assert issue(app, c.land, DAY) == "A001"  # the refusals used no number
