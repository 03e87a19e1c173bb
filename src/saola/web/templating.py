"""Rendering pages: one Jinja2 environment over every package's ``templates/`` folder.

``render()`` gives each template the request's language and translator (``_``), the
signed-in user, the CSRF token, the navigation the user may see and Vietnamese-style
formatting filters. Packages add navigation entries with :func:`register_nav`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape

from saola.core.deps import csrf_token_for, request_language
from saola.core.i18n import LANGUAGE_NAMES, format_day, format_dt, format_number, translator


@dataclass(frozen=True, slots=True)
class NavItem:
    """A link in the console (``area='console'``) or portal (``area='portal'``) navigation."""

    path: str
    label: str
    icon: str = ""
    permission: str | None = None
    area: str = "console"
    order: int = 100


_NAV: list[NavItem] = []
_TEMPLATE_PACKAGES = ["saola.web"]


def register_nav(item: NavItem) -> None:
    if item not in _NAV:
        _NAV.append(item)
        _NAV.sort(key=lambda i: (i.order, i.path))


def register_templates(package: str) -> None:
    """Add ``<package>/templates`` to the template search path (before the app starts)."""
    if package not in _TEMPLATE_PACKAGES:
        _TEMPLATE_PACKAGES.append(package)
        _env.cache_clear()


def _build_env() -> Environment:
    loaders = [FileSystemLoader(str(resources.files(pkg) / "templates")) for pkg in _TEMPLATE_PACKAGES]
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html", "xml"]))

    @pass_context
    def _dt(ctx: Any, value: Any, fmt: str = "short") -> str:
        return format_dt(value, ctx["lang"], ctx["settings"].timezone, fmt)

    @pass_context
    def _day(ctx: Any, value: Any) -> str:
        return format_day(value, ctx["lang"])

    @pass_context
    def _num(ctx: Any, value: Any, digits: int = 0) -> str:
        return format_number(value, ctx["lang"], digits)

    env.filters.update(dt=_dt, day=_day, num=_num)
    return env


class _EnvCache:
    def __init__(self) -> None:
        self._env: Environment | None = None

    def __call__(self) -> Environment:
        if self._env is None:
            self._env = _build_env()
        return self._env

    def cache_clear(self) -> None:
        self._env = None


_env = _EnvCache()


def visible_nav(principal: Any, area: str) -> list[NavItem]:
    return [
        item for item in _NAV
        if item.area == area and (item.permission is None or (principal is not None and principal.can(item.permission)))
    ]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    lang = request_language(request)
    principal = getattr(request.state, "principal", None)
    settings = request.app.state.settings
    ctx: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "languages": LANGUAGE_NAMES,
        "_": translator(lang),
        "principal": principal,
        "user": principal.user if principal is not None else None,
        "csrf_token": csrf_token_for(request),
        "settings": settings,
        "console_nav": visible_nav(principal, "console"),
        "portal_nav": visible_nav(principal, "portal"),
        "path": request.url.path,
    }
    ctx.update(context or {})
    html = _env().get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("Content-Language", lang)
    return response
