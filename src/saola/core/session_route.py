"""A FastAPI route class for the busiest APIs: one thread-pool trip per request, parameters resolved directly.

FastAPI runs a synchronous handler in the thread pool; the request's session
(:func:`saola.core.deps.db_session`) would then be committed by a second trip to the thread pool
after it. Each trip costs as much as a simple read, so for the busiest APIs (NGSI-LD, device
ingestion) the handler commits, closes and publishes in the thread it already runs in: one trip
per request. On SQLite, a writing request also begins its transaction (taking the write lock) in that
thread, so the lock is never held while the request waits for the event loop. If the handler raises,
the session is rolled back in the same thread and the error answered as on any other route.

FastAPI's general dependency solver costs about a third of such a request's CPU (it validates every
parameter through pydantic and walks the dependency tree with its caches and exit stacks on each
call). Our endpoints use a few simple kinds of parameter, so :func:`direct_plan` turns an endpoint's
dependency tree, as FastAPI analysed it, into a plan that fills them directly: the ``Request``,
``str`` path and query parameters (taken as FastAPI takes them), and ``async def`` dependencies, plain
or with ``yield``, each called once per request. An endpoint with any other kind of parameter (a
header, a cookie, a body model, a number to validate, a synchronous dependency, security scopes, a
``Response`` or ``BackgroundTasks`` parameter) or a response model keeps FastAPI's solver, as does
every request while ``app.dependency_overrides`` is set. OpenAPI is built from the same declarations.

    router = APIRouter(prefix="/ngsi-ld/v1", route_class=SessionRoute)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import types
import typing
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from fastapi import params
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from saola.core.deps import begin_writing, end_request_session, publish_from_thread, request_session_of, wants_writing

# As many threads as anyio gives FastAPI's synchronous handlers (its default capacity limiter: 40).
_HANDLER_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="saola-handler")


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


# --- direct resolution ------------------------------------------------------------------------------


@dataclass
class DirectPlan:
    """How to fill one callable's parameters (an endpoint or one of its dependencies) without FastAPI's solver."""

    call: Callable[..., Any]
    kind: str  # "sync" (run in a handler thread), "async", or "yield" (an async generator dependency)
    scope: str | None = None  # a "yield" dependency's exit: "function" (after the endpoint) or "request"
    request_name: str | None = None
    path: list[str] = field(default_factory=list)
    query: list[tuple[str, str, Any]] = field(default_factory=list)  # (parameter, name in the URL, default)
    dependencies: list[tuple[str | None, DirectPlan]] = field(default_factory=list)


def _str_field(model_field: Any, kind: type[params.Param]) -> bool:
    """Whether a FastAPI parameter field is a plain ``str`` (or ``str | None``) of the given kind, no alias."""
    info = model_field.field_info
    if type(info) is not kind or getattr(info, "validation_alias", None) or model_field.alias != model_field.name:
        return False
    if info.metadata:  # (constraints such as max_length)
        return False
    annotation = info.annotation
    if annotation is str:
        return True
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and set(typing.get_args(annotation)) == {
        str, type(None)}


def direct_plan(dependant: Dependant, *, endpoint: bool = True) -> DirectPlan | None:
    """The plan filling ``dependant``'s parameters, or None when one of them needs FastAPI's solver."""
    call = dependant.call
    if call is None or not inspect.isfunction(call):
        return None
    if (dependant.header_params or dependant.cookie_params or dependant.body_params or dependant.websocket_param_name
            or dependant.http_connection_param_name or dependant.response_param_name
            or dependant.background_tasks_param_name or dependant.security_scopes_param_name
            or dependant.own_oauth_scopes or dependant.parent_oauth_scopes):
        return None
    if inspect.isasyncgenfunction(call):
        if endpoint:
            return None
        kind = "yield"
    elif inspect.iscoroutinefunction(call):
        kind = "async"
    elif endpoint and not inspect.isgeneratorfunction(call):
        kind = "sync"
    else:
        return None
    plan = DirectPlan(call, kind, scope=dependant.scope or "request", request_name=dependant.request_param_name)
    for model_field in dependant.path_params:
        if not _str_field(model_field, params.Path):
            return None
        plan.path.append(model_field.name)
    for model_field in dependant.query_params:
        if not _str_field(model_field, params.Query) or model_field.field_info.is_required():
            return None
        plan.query.append((model_field.name, model_field.alias, model_field.field_info.default))
    for sub in dependant.dependencies:
        if not sub.use_cache:
            return None
        sub_plan = direct_plan(sub, endpoint=False)
        if sub_plan is None:
            return None
        plan.dependencies.append((sub.name, sub_plan))
    return plan


async def _solve(plan: DirectPlan, request: Request, solved: dict[Any, Any]) -> dict[str, Any]:
    """The keyword arguments of ``plan.call``, its dependencies called once each (cached in ``solved``)."""
    values: dict[str, Any] = {}
    for name, sub in plan.dependencies:  # (dependencies first, in declared order, as FastAPI does)
        if sub.call in solved:
            value = solved[sub.call]
        else:
            arguments = await _solve(sub, request, solved)
            if sub.kind == "yield":
                stack = request.scope["fastapi_function_astack" if sub.scope == "function" else "fastapi_inner_astack"]
                value = await stack.enter_async_context(contextlib.asynccontextmanager(sub.call)(**arguments))
            else:
                value = await sub.call(**arguments)
            solved[sub.call] = value
        if name is not None:
            values[name] = value
    if plan.request_name is not None:
        values[plan.request_name] = request
    if plan.path:
        path_params = request.path_params
        for name in plan.path:
            values[name] = path_params[name]
    if plan.query:
        query_params = request.query_params
        for name, alias, default in plan.query:
            values[name] = query_params.get(alias, default)
    return values


def direct_handler(route: Any, plan: DirectPlan,
                   general: Callable[[Request], Coroutine[Any, Any, Response]]) -> Callable[[Request], Any]:
    """The request handler running ``plan``; ``general`` (FastAPI's) answers while dependency overrides are set.

    ``route`` is the route as its inclusion sees it (its ``dependency_overrides_provider`` is the application).
    """
    overrides = getattr(route.dependency_overrides_provider, "dependency_overrides", None)

    async def handle(request: Request) -> Response:
        if overrides:
            return await general(request)
        values = await _solve(plan, request, {})
        if plan.kind == "sync":
            context = contextvars.copy_context()  # (as anyio's worker threads run it: request id, actor)
            call = functools.partial(context.run, plan.call, **values)
            response = await asyncio.get_running_loop().run_in_executor(_HANDLER_THREADS, call)
        else:
            response = await plan.call(**values)
        if not isinstance(response, Response):
            raise TypeError(f"{route.path}: a directly resolved endpoint must return a Response")
        return response

    return handle


def _returns_response(call: Callable[..., Any]) -> bool:
    annotation = get_typed_return_annotation(call)
    return isinstance(annotation, type) and issubclass(annotation, Response)


class SessionRoute(APIRoute):
    begins_in_handler = True  # SQLite's write lock is taken in the handler's thread (saola.core.deps)

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint) and "session" in inspect.signature(endpoint).parameters:
            endpoint = ending_session(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        general = super().get_route_handler()
        effective = self._effective()
        dependant = getattr(effective, "dependant", None)
        if dependant is None or getattr(effective, "response_field", None) is not None:
            return general
        plan = direct_plan(dependant) if _returns_response(self.endpoint) else None
        return general if plan is None else direct_handler(effective, plan, general)

    def _effective(self) -> Any:
        """The route as the inclusion being built sees it (its dependant holds the router-level dependencies).

        FastAPI (0.165) builds one handler per inclusion of a router and names the inclusion in a private
        context variable while it does; without it, the route itself is the only inclusion.
        """
        variable = getattr(fastapi_routing, "_effective_route_context_var", None)
        context = variable.get() if variable is not None else None
        return context if context is not None and getattr(context, "original_route", None) is self else self
