"""SessionRoute's direct parameter resolution answers exactly as FastAPI's solver, and steps aside for what it
does not handle (saola.core.session_route)."""

import contextvars
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from saola.core.errors import Conflict
from saola.core.session_route import SessionRoute, direct_plan

Text = Annotated[str | None, Query()]
caller_name: contextvars.ContextVar[str] = contextvars.ContextVar("caller_name", default="nobody")


def build(route_class: type, journal: list[str]) -> FastAPI:
    """An app with a few endpoints of the kinds the NGSI-LD API uses, routed by ``route_class``."""
    calls = {"caller": 0}

    async def caller(request: Request) -> str:
        calls["caller"] += 1
        name = request.headers.get("x-caller", "anonymous")
        caller_name.set(name)
        return f"{name}#{calls['caller']}"

    async def reader(request: Request, who: Annotated[str, Depends(caller)]) -> str:
        return "reader:" + who

    async def function_resource(who: Annotated[str, Depends(caller)]) -> AsyncIterator[str]:
        journal.append("function enter")
        try:
            yield "resource"
        except Conflict:
            journal.append("function saw the error")
            raise
        journal.append("function exit")

    async def request_resource() -> AsyncIterator[str]:
        journal.append("request enter")
        yield "request resource"
        journal.append("request exit")

    router = APIRouter(prefix="/v1", route_class=route_class)

    @router.get("/things/{thing_id}")
    def get_thing(request: Request, thing_id: str, by: Annotated[str, Depends(reader)],
                  who: Annotated[str, Depends(caller)], attrs: Text = None, options: Text = None) -> Response:
        return JSONResponse({"id": thing_id, "by": by, "who": who, "attrs": attrs, "options": options,
                             "path": request.url.path, "context": caller_name.get()})

    @router.get("/resources")
    def use_resources(resource: Annotated[str, Depends(function_resource, scope="function")],
                      later: Annotated[str, Depends(request_resource, scope="request")],
                      fail: Text = None) -> Response:
        journal.append("endpoint")
        if fail:
            raise Conflict("Failing on purpose")
        return JSONResponse({"resource": resource, "later": later})

    @router.get("/async/{name}")
    async def async_endpoint(name: str, who: Annotated[str, Depends(caller)]) -> Response:
        return JSONResponse({"name": name, "who": who})

    @router.get("/numbers")
    def numbers(limit: int = 10) -> Response:
        return JSONResponse({"limit": limit})

    @router.get("/headers")
    def headers(x_token: Annotated[str | None, Header()] = None) -> Response:
        return JSONResponse({"token": x_token})

    @router.get("/model")
    def model(name: Text = None) -> dict[str, Any]:
        return {"name": name}

    app = FastAPI()
    from saola.core.http import install_error_handlers
    from saola.core.settings import Settings

    app.state.settings = Settings()
    install_error_handlers(app)
    app.include_router(router)
    app.state.caller = caller
    return app


class Sent:
    """Pure ASGI middleware noting in the journal when the response body leaves the app."""

    def __init__(self, app: Any, journal: list[str]) -> None:
        self.app, self.journal = app, journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.journal.append("sent")
            await send(message)

        await self.app(scope, receive, sending)


URLS = [
    "/v1/things/urn:a", "/v1/things/urn:a?attrs=x,y", "/v1/things/urn:a?attrs=first&attrs=last",
    "/v1/things/urn:a?attrs=", "/v1/things/%C4%91%C3%A8n?options=keyValues", "/v1/async/lamp",
    "/v1/resources", "/v1/resources?fail=yes", "/v1/numbers", "/v1/numbers?limit=5", "/v1/numbers?limit=five",
    "/v1/headers", "/v1/model?name=x", "/v1/nothing", "/v1/things/urn:a/extra",
]


def answers(route_class: type) -> list[tuple[int, Any]]:
    app = build(route_class, [])
    with TestClient(app, base_url="http://127.0.0.1") as client:
        out = []
        for url in URLS:
            response = client.get(url, headers={"x-caller": "tester", "x-token": "t",
                                                "accept": "application/json"})
            body = response.json() if response.headers.get("content-type", "").endswith("json") else response.text
            if isinstance(body, dict):
                body.pop("instance", None)
            out.append((response.status_code, body))
        return out


def test_direct_resolution_answers_as_fastapis_solver_does() -> None:
    from fastapi.routing import APIRoute

    direct, general = answers(SessionRoute), answers(APIRoute)
    assert direct == general
    by_url = dict(zip(URLS, direct, strict=True))
    assert by_url["/v1/things/urn:a?attrs=first&attrs=last"][1]["attrs"] == "last"
    assert by_url["/v1/things/urn:a?attrs="][1]["attrs"] == ""
    assert by_url["/v1/things/%C4%91%C3%A8n?options=keyValues"][1]["id"] == "đèn"
    # the caller dependency ran once per request although two parameters need it
    assert by_url["/v1/things/urn:a"][1] == {"id": "urn:a", "by": "reader:tester#1", "who": "tester#1",
                                             "attrs": None, "options": None, "path": "/v1/things/urn:a",
                                             "context": "tester"}
    assert by_url["/v1/numbers?limit=five"][0] == 422  # FastAPI's validation, kept for int parameters


def _handlers(app: FastAPI) -> dict[str, str]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.get("/v1/nothing")
    found = {}
    for route in app.router.routes:
        for inner in getattr(getattr(route, "original_router", None), "routes", []):
            if isinstance(inner, SessionRoute):
                found[inner.path] = inner.get_route_handler().__qualname__.split(".")[0]
    return found


def test_only_the_parameter_kinds_it_knows_are_resolved_directly() -> None:
    handlers = _handlers(build(SessionRoute, []))
    assert handlers["/v1/things/{thing_id}"] == "direct_handler"
    assert handlers["/v1/resources"] == "direct_handler"
    assert handlers["/v1/async/{name}"] == "direct_handler"
    # an int to validate, a header, a response model: FastAPI's solver
    assert handlers["/v1/numbers"] == handlers["/v1/headers"] == handlers["/v1/model"] == "get_request_handler"


@pytest.mark.parametrize("route_class", ["SessionRoute", "APIRoute"])
def test_yield_dependencies_end_where_fastapi_ends_them(route_class: str) -> None:
    from fastapi.routing import APIRoute

    journal: list[str] = []
    app = build(SessionRoute if route_class == "SessionRoute" else APIRoute, journal)
    app.add_middleware(Sent, journal=journal)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/v1/resources").json() == {"resource": "resource", "later": "request resource"}
        # the function-scoped one ends before the answer is made, the request-scoped one after it is sent
        assert journal == ["function enter", "request enter", "endpoint", "function exit", "sent",
                           "request exit"]
        journal.clear()
        failed = client.get("/v1/resources?fail=1")
        assert failed.status_code == 409
        assert journal[:4] == ["function enter", "request enter", "endpoint", "function saw the error"]
        assert "request exit" not in journal  # (the error passed through it, as with FastAPI's solver)


def test_dependency_overrides_are_honoured() -> None:
    app = build(SessionRoute, [])

    async def fixed_caller() -> str:
        return "override"

    app.dependency_overrides[app.state.caller] = fixed_caller
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/v1/async/lamp").json() == {"name": "lamp", "who": "override"}
        app.dependency_overrides.clear()
        assert client.get("/v1/async/lamp").json() == {"name": "lamp", "who": "anonymous#1"}


@pytest.mark.parametrize("annotation", [Annotated[str | None, Query(alias="other")],
                                        Annotated[str | None, Query(max_length=3)], Annotated[int | None, Query()]])
def test_a_query_parameter_with_an_alias_a_constraint_or_a_non_text_type_keeps_fastapis_solver(
        annotation: Any) -> None:
    router = APIRouter(route_class=SessionRoute)

    def endpoint(value: annotation = None) -> Response:  # type: ignore[valid-type]
        return Response()

    router.add_api_route("/x", endpoint)
    route = router.routes[0]
    assert isinstance(route, SessionRoute)
    assert direct_plan(route.dependant) is None
