"""Rendering pages: one Jinja2 environment over every package's ``templates/`` folder.

``render()`` gives each template the request's language and translator (``_``), the
signed-in user, the CSRF token, the navigation the user may see and Vietnamese-style
formatting filters. Packages add navigation entries with :func:`register_nav`.

Page handlers that catch a :class:`~saola.core.errors.DomainError` to show it inside a
form use :func:`form_error` to get a translated message and the field it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup

from saola import __version__
from saola.core.auth.permissions import PERMISSIONS, ROLE_NAMES
from saola.core.deps import csrf_token_for, request_language
from saola.core.errors import DomainError
from saola.core.i18n import LANGUAGE_NAMES, catalog, format_day, format_dt, format_number, translator
from saola.web.icons import icon_svg


@dataclass(frozen=True, slots=True)
class NavItem:
    """A link in the console (``area='console'``) or portal (``area='portal'``) navigation.

    ``icon`` is a name from :data:`saola.web.icons.ICONS` (``"map"``, ``"users"``...);
    ``label`` is the English message id, translated when rendered.
    """

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


def registered_nav() -> list[NavItem]:
    """Every registered navigation entry (for tests and the i18n check)."""
    return list(_NAV)


def register_templates(package: str) -> None:
    """Add ``<package>/templates`` to the template search path (before the app starts)."""
    if package not in _TEMPLATE_PACKAGES:
        _TEMPLATE_PACKAGES.append(package)
        _env.cache_clear()


def role_name(role: str) -> str:
    """The English name of a role (translate it with ``_()``)."""
    return ROLE_NAMES.get(role, role)


def permission_label(permission: str) -> str:
    """The English description of a permission (translate it with ``_()``)."""
    return PERMISSIONS.get(permission, permission)


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

    def _icon(name: str, size: int = 18) -> Markup:
        return Markup(icon_svg(name, size))

    @pass_context
    def _in_language(ctx: Any, text: str) -> bool:
        """Whether ``text`` (already passed through the translator) reads in the page's language."""
        lang = ctx["lang"]
        return lang == "en" or text in _translated_texts(lang)

    env.filters.update(dt=_dt, day=_day, num=_num)
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}  # Vietnamese stays readable
    env.globals.update(
        icon=_icon, in_language=_in_language, role_name=role_name, permission_label=permission_label, roles=ROLE_NAMES,
        saola_version=__version__,
    )
    return env


@cache
def _translated_texts(lang: str) -> frozenset[str]:
    return frozenset(catalog(lang).values())


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


def form_error(request: Request, exc: DomainError) -> dict[str, str]:
    """``{"field", "message"}`` for showing ``exc`` in a form, in the request's language.

    The detail is used when it has a translation (or the page is in English); otherwise
    the error's title, which always has one, so a Vietnamese page never shows English.
    """
    lang = request_language(request)
    detail = exc.detail or exc.title
    if lang != "en" and detail not in catalog(lang):
        detail = exc.title
    return {"field": exc.field or "", "message": translator(lang)(detail), "code": exc.code}


def current_page(request: Request) -> str:
    """The local address to come back to after a language switch: this page when it was a GET,
    else the page the form was sent from (a POST's own address may not answer GET)."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


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
        "here": current_page(request),
        "request_id": getattr(request.state, "request_id", ""),
    }
    ctx.update(context or {})
    html = _env().get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("Content-Language", lang)
    response.headers.setdefault("Cache-Control", "no-store" if principal is not None else "no-cache")
    return response
