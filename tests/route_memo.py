"""Test-run speed-up: FastAPI's per-application analysis of each endpoint, done once per run.

FastAPI (0.165) builds the dependency tree and the pydantic fields (parameters, request body,
response model) of every included route lazily, per application, on the first request that reaches
it — for every route of every router checked before the matching one. Production builds one
application; the test suite builds one per test (each test has its own database), so that analysis
cost 0.1–1 s of CPU per test, the largest part of the suite's time.

That analysis is a pure function of the route's path, endpoint, router-level dependencies and
annotations, so :func:`install` memoises the three private FastAPI functions doing it
(``_build_dependant_with_parameterless_dependencies``, ``create_model_field``, ``_get_body_field``
as ``fastapi.routing`` calls them) on exactly those inputs. Nothing else is shared between
applications: request handlers, dependency overrides (``app.dependency_overrides`` is read when a
request is solved, not when the tree is built), middleware and state stay per application.
Endpoints, dependencies and models defined inside a function (a closure may hold an application) are
never memoised, so no application outlives its test through the memo. If FastAPI renames these
functions, :func:`install` does nothing and the tests run as before, only slower.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

_UNSET = object()


def _module_level(func: Any) -> bool:
    qualname = getattr(func, "__qualname__", None)
    return isinstance(qualname, str) and "<locals>" not in qualname


def install() -> bool:
    """Memoise FastAPI's route analysis for this process; whether it was installed."""
    try:
        from fastapi import routing
    except ImportError:  # pragma: no cover - FastAPI is a dependency
        return False
    names = ("_build_dependant_with_parameterless_dependencies", "create_model_field", "_get_body_field")
    originals = [getattr(routing, name, None) for name in names]
    if any(f is None or getattr(f, "_saola_memo", False) for f in originals):
        return False
    build_dependant, create_model_field, get_body_field = originals
    lock = threading.Lock()
    memo: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}

    def remembered(key: tuple[Any, ...], held: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()`` once per key; ``held`` (objects the key names by id) is kept, so no id is reused."""
        with lock:
            hit = memo.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], held, strict=True)):
            return hit[1]
        result = compute()
        with lock:
            memo[key] = (held, result)
        return result

    def dependant(*, path: str, call: Callable[..., Any], dependencies: Sequence[Any]) -> Any:
        deps = tuple(dependencies)
        compute = partial(build_dependant, path=path, call=call, dependencies=dependencies)
        if not _module_level(call) or not all(_module_level(getattr(d, "dependency", None)) for d in deps):
            return compute()
        return remembered(("dependant", path, call, *map(id, deps)), deps, compute)

    def model_field(name: str, type_: Any, default: Any = _UNSET, field_info: Any = None, alias: str | None = None,
                    mode: str = "validation") -> Any:
        kwargs: dict[str, Any] = {"name": name, "type_": type_, "field_info": field_info, "alias": alias, "mode": mode}
        if default is not _UNSET:
            kwargs["default"] = default
        compute = partial(create_model_field, **kwargs)
        if field_info is not None or default is not _UNSET or not _module_level(getattr(type_, "__origin__", type_)):
            return compute()
        try:
            key = ("model_field", name, type_, alias, mode)
            hash(key)
        except TypeError:
            return compute()
        return remembered(key, (), compute)

    def body_field(*, body_params: list[Any], name: str, embed_body_fields: bool) -> Any:
        params = tuple(body_params)
        compute = partial(get_body_field, body_params=body_params, name=name, embed_body_fields=embed_body_fields)
        return remembered(("body_field", name, embed_body_fields, *map(id, params)), params, compute)

    for name, memoised in zip(names, (dependant, model_field, body_field), strict=True):
        memoised._saola_memo = True  # type: ignore[attr-defined]
        setattr(routing, name, memoised)
    return True
