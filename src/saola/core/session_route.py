"""A FastAPI route class whose synchronous handlers end the request's database session themselves.

FastAPI runs a synchronous handler in the thread pool; the request's session
(:func:`saola.core.deps.db_session`) would then be committed by a second trip to the thread pool
after it. Each trip costs as much as a simple read, so for the busiest APIs (NGSI-LD, device
ingestion) the handler commits, closes and publishes in the thread it already runs in: one trip
per request. On SQLite, a writing request also begins its transaction (taking the write lock) in that
thread, so the lock is not held while the request waits for the event loop. Errors are unchanged: if
the handler raises, the session is rolled back by the dependency as for any other route.

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
        if isinstance(session, Session) and wants_writing(session):
            begin_writing(session)
        result = endpoint(*args, **kwargs)
        request = request_session_of(session)
        if request is not None:
            publish_from_thread(request, end_request_session(session))  # type: ignore[arg-type]
        return result

    return run


class SessionRoute(APIRoute):
    begins_in_handler = True  # SQLite's write lock is taken in the handler's thread (saola.core.deps)

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint) and "session" in inspect.signature(endpoint).parameters:
            endpoint = ending_session(endpoint)
        super().__init__(path, endpoint, **kwargs)
