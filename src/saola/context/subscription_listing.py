"""Paged listings (clause 5.5.9): ``limit`` (default 20, at most the broker's ``ngsi_ld_max_limit``) and ``offset``
(:func:`page_window`, also for /ngsi-ld/v1/csourceRegistrations), and the listing of subscriptions shared by
/ngsi-ld/v1/subscriptions and /ngsi-ld/v1/csourceSubscriptions (:func:`paged_answer`): ``count`` (the
NGSILD-Results-Count header) and rel="prev"/rel="next" Link headers to the neighbouring pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from saola.context.api import bool_param, int_param
from saola.context.errors import BadRequestData, TooManyResults
from saola.context.http import accepted, answer, query_context, term_map
from saola.context.jsonld import TermMap

Page = Callable[[Session, str, int, int], tuple[Sequence[Any], int]]  # (session, tenant, limit, offset)
Render = Callable[[Any, TermMap], dict[str, Any]]


def paged_answer(request: Request, session: Session, tenant: str, *, path: str, page: Page, render: Render,
                 limit: str | None, offset: str | None, count: str | None) -> Response:
    """One page of the tenant's subscriptions at ``path``, rendered with the caller's @context."""
    kind = accepted(request, geo=False)
    size, start = page_window(request, limit, offset)
    rows, total = page(session, tenant, size, start)
    headers = {"NGSILD-Results-Count": str(total)} if bool_param(count, "count") else {}
    context = query_context(request)
    tm = term_map(request, session, context)
    response = answer([render(r, tm) for r in rows], kind=kind, context=context, headers=headers)
    links = page_links(path, size, start, total)
    if links:
        response.headers["Link"] = ", ".join([*filter(None, [response.headers.get("Link")]), *links])
    return response


def page_window(request: Request, limit: str | None, offset: str | None) -> tuple[int, int]:
    """The ``limit`` (default 20, at most the broker's ``ngsi_ld_max_limit``) and ``offset`` of a listing."""
    size = int_param(limit, "limit")
    size = 20 if size is None else size
    start = int_param(offset, "offset") or 0
    if size < 0 or start < 0:
        raise BadRequestData("limit and offset must not be negative")
    if size > request.app.state.settings.ngsi_ld_max_limit:
        raise TooManyResults("limit is larger than the broker allows")
    return size, start


def page_links(path: str, limit: int, offset: int, total: int) -> list[str]:
    """rel="prev" and rel="next" links to the neighbouring pages (clause 5.5.9)."""
    links = []
    if offset > 0 and limit > 0:
        links.append(f'<{path}?limit={limit}&offset={max(0, offset - limit)}>; rel="prev"; type="application/ld+json"')
    if limit > 0 and offset + limit < total:
        links.append(f'<{path}?limit={limit}&offset={offset + limit}>; rel="next"; type="application/ld+json"')
    return links
