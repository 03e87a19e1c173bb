"""The display board's live stream over a real HTTP connection: uvicorn on 127.0.0.1 in a thread, the
stream read with a plain HTTP client while a clerk calls the next ticket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from saola.egov.queue import public_pages
from tests.egov.test_queue_support import bearer, centre


def read_events(lines: Iterator[str], until: str, timeout: float) -> list[tuple[str, str]]:
    """(event, data) pairs and (':', comment) lines, read until an event whose data contains ``until``."""
    out: list[tuple[str, str]] = []
    event, data = "message", []
    deadline = time.monotonic() + timeout
    for line in lines:
        if time.monotonic() > deadline:
            break
        if line.startswith(":"):
            out.append((":", line[1:].strip()))
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line == "":
            if data:
                out.append((event, "\n".join(data)))
                if until in out[-1][1]:
                    return out
            event, data = "message", []
    raise AssertionError(f"no event with {until!r} within {timeout}s: {out}")


def test_the_board_stream_delivers_a_call_live(app, live_server: str, token, monkeypatch) -> None:
    monkeypatch.setattr(public_pages, "HEARTBEAT_SECONDS", 0.3)
    c = centre(app)
    clerk = bearer(token("clerk"))
    with httpx.Client(base_url=live_server, timeout=10) as http:
        assert http.post("/api/v1/queue/tickets", headers=clerk, json={"service_id": c.land}).status_code == 201
        with http.stream("GET", "/queue/board/stream", headers={"Accept": "text/event-stream"}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            first = read_events(lines, "board-grid", 5)
            assert first[-1][0] == "board" and 'data-testid="counter-1-ticket"></div>' in first[-1][1]
            called = http.post(f"/api/v1/queue/counters/{c.counter1}/call-next", headers=clerk)
            assert called.status_code == 200
            events = read_events(lines, 'data-testid="counter-1-ticket">A001<', 5)
    kinds = [kind for kind, _data in events]
    assert ("call", "A001 → 1") in events
    assert kinds.index("call") < len(kinds) - 1  # the announcement, then the redrawn board


def test_the_stream_sends_heartbeats_and_a_reconnection_delay(app, live_server: str, monkeypatch) -> None:
    monkeypatch.setattr(public_pages, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(public_pages, "STREAM_SECONDS", 1.0)
    centre(app)
    with httpx.Client(base_url=live_server, timeout=10) as http, \
            http.stream("GET", "/queue/board/stream", headers={"Accept": "text/event-stream"}) as stream:
        body = "".join(stream.iter_text())  # the server ends the stream after STREAM_SECONDS
    assert body.startswith(f"retry: {public_pages.RETRY_MS}\n\n")
    assert body.count(": heartbeat\n\n") >= 2
    assert "event: board\n" in body


def test_a_client_not_asking_for_a_stream_gets_one_snapshot(client) -> None:
    response = client.get("/queue/board/stream")
    assert response.status_code == 200
    assert response.text.count("event: board\n") == 1


def test_the_board_page_connects_to_the_stream_and_announces_calls_in_its_language(client) -> None:
    page = client.get("/queue/board")
    assert page.status_code == 200
    assert 'sse-connect="/queue/board/stream"' in page.text and 'sse-swap="board"' in page.text
    assert 'data-announce="Mời công dân có số {code} đến quầy số {counter}"' in page.text
    english = client.get("/queue/board?lang=en")
    assert 'data-announce="Ticket {code}, please go to counter {counter}"' in english.text

