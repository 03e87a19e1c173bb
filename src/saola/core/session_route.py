"""A FastAPI route class whose synchronous handlers end the request's database session themselves.

FastAPI runs a synchronous handler in the thread pool; the request's session
(:func:`saola.core.deps.db_session`) would then be committed by a second trip to the thread pool
after it. Each trip costs as much as a simple read, so for the busiest APIs (NGSI-LD, device
ingestion) the handler commits, closes and publishes in the thread it already runs in: one trip
per request. On SQLite, a writing request also begins its transaction (taking the write lock) in that
thread, so the lock is never held while the request waits for the event loop. If the handler raises,
the session is rolled back in the same thread and the error answered as on any other route.

    router = APIRouter(prefix="/ngsi-ld/v1", route_class=SessionRoute)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from saola.core.deps import begin_writing, end_request_session, publish_from_thread, request_session_of, wants_writing


def ending_session(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` (synchronous, with a ``session`` parameter) ending its request's session on return."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        session = kwargs.get("session")
        request = request_session_of(session)
        if request is None:  # (no request session: nothing to end here)
            return endpoint(*args, **kwargs)
        assert isinstance(session, Session)
        try:
            if wants_writing(session):
                begin_writing(session, queue=True)
            result = endpoint(*args, **kwargs)
        except BaseException:
            # Rolled back here too: SQLite's write lock (and this process's writer lock) must not wait
            # for another trip to the thread pool, where the writers queued behind it may hold every thread.
            publish_from_thread(request, end_request_session(session, failed=True))
            raise
        publish_from_thread(request, end_request_session(session))
        return result

    return run


class SessionRoute(APIRoute):
    begins_in_handler = True  # SQLite's write lock is taken in the handler's thread (saola.core.deps)

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint) and "session" in inspect.signature(endpoint).parameters:
            endpoint = ending_session(endpoint)
        super().__init__(path, endpoint, **kwargs)
