"""Open311 GeoReport v2 at ``/open311/v2/``: discovery, services, service definitions, requests, tokens.

Routes end in ``.json`` or ``.xml`` as the specification asks. Reads are public and carry no
personal data; ``POST requests`` takes ``api_key``, a Saola API token holding ``feedback:submit``
(``saola token create --user U --scope feedback:submit``), in the form body — not a cookie, so
browser CSRF does not apply. Errors use the specification's format, a list of ``{code,
description}``: 404 for an unknown service or request, 403 for a missing or bad key, 400
otherwise. Submissions go through :func:`saola.feedback.reports.submit` like every channel.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from saola.core.auth import service as auth
from saola.core.db import utcnow
from saola.core.deps import DbSession, request_language
from saola.core.errors import BadRequest, DomainError, NotFound, PermissionDenied, ValidationFailed
from saola.core.i18n import gettext
from saola.feedback import categories as catalogue
from saola.feedback import open311_format as doc
from saola.feedback import reports
from saola.feedback.intake import Submission, Upload
from saola.feedback.models import FeedbackCategory, FeedbackField

MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
SUBMIT_PERMISSION = "feedback:submit"


class UnknownFormat(NotFound):
    code = "open311-unknown-format"
    title = "Open311 documents end in .json or .xml"


def _fmt(request: Request) -> str:
    return "xml" if request.path_params.get("fmt") == "xml" else "json"


class Open311Route(APIRoute):
    """Renders every expected error of an Open311 route in the specification's error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except RequestValidationError as exc:
                fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors())
                return doc.errors(_fmt(request), 400, [f"Invalid value: {fields}"])
            except DomainError as exc:
                status = 404 if exc.status == 404 else 403 if exc.status in (401, 403) else 400
                lang = request_language(request)
                messages = [gettext(lang, exc.template, **exc.params)]
                if isinstance(exc, ValidationFailed):
                    messages += [f"{e['field']}: {e['message']}" for e in exc.errors]
                return doc.errors(_fmt(request), status, messages)

        return handler


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def _check_format(fmt: str) -> str:
    if fmt not in doc.FORMATS:
        raise UnknownFormat("Unknown format '{fmt}': use .json or .xml", fmt=fmt[:20])
    return fmt


def _services(session: Session, codes: list[str] | None = None) -> list[tuple[FeedbackCategory, FeedbackField]]:
    fields = {f.id: f for f in catalogue.list_fields(session, active_only=True)}
    return [(c, fields[c.field_id]) for c in catalogue.list_categories(session, active_only=True,
                                                                        service_codes=codes)]


@router.get("/discovery.{fmt}", summary="Open311 service discovery")
def discovery(fmt: str, request: Request, session: DbSession) -> Response:
    fmt = _check_format(fmt)
    changed = session.scalar(select(func.max(FeedbackCategory.updated_at)))
    contact = gettext(request_language(request), "1022 citizen feedback hotline")
    return doc.render(fmt, "discovery", doc.discovery(str(request.base_url), changed, contact))


@router.get("/services.{fmt}", summary="Open311: the categories of reports (services)")
def list_services(fmt: str, request: Request, session: DbSession) -> Response:
    fmt = _check_format(fmt)
    lang = request_language(request)
    return doc.render(fmt, "services", [doc.service(c, f, lang) for c, f in _services(session)])


@router.get("/services/{service_code}.{fmt}", summary="Open311: a service definition (its extra questions)")
def service_definition(service_code: str, fmt: str, session: DbSession) -> Response:
    fmt = _check_format(fmt)
    category = catalogue.get_by_service_code(session, service_code=service_code)
    return doc.render(fmt, "service_definition", doc.definition(category))


def _date(value: str | None, name: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadRequest("'{name}' must be an ISO 8601 date and time with a time zone, e.g. "
                         "2026-11-05T08:15:30+07:00", field=name, name=name)
    return moment


def _list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items[:MAX_RESULTS] or None


def _status(value: str | None) -> str | None:
    wanted = set(_list(value) or [])
    if not wanted <= {"open", "closed"}:
        raise BadRequest("'status' is open, closed or both (comma separated)", field="status")
    return next(iter(wanted)) if len(wanted) == 1 else None


def _answer(session: Session, request: Request, fmt: str, found: list[reports.Report]) -> Response:
    lang = request_language(request)
    replies = reports.public_replies(session, case_ids=[r.case.id for r in found])
    return doc.render(fmt, "service_requests", [doc.request(r, replies[r.case.id], lang) for r in found])


@router.get("/requests.{fmt}", summary="Open311: service requests (public; no personal data)")
def list_requests(fmt: str, request: Request, session: DbSession) -> Response:
    """Filters: ``service_request_id`` (comma separated; overrides the others), ``service_code``,
    ``start_date``, ``end_date`` (at most 90 days apart; the last 90 days by default), ``status``."""
    fmt = _check_format(fmt)
    query = request.query_params
    codes = _list(query.get("service_request_id"))
    if codes is not None:
        return _answer(session, request, fmt, reports.search_public(session, codes=codes, limit=MAX_RESULTS))
    start, end = _date(query.get("start_date"), "start_date"), _date(query.get("end_date"), "end_date")
    status = _status(query.get("status"))
    end = end or (start + MAX_SPAN if start else utcnow())
    start = start or end - MAX_SPAN
    if start > end or end - start > MAX_SPAN:
        raise BadRequest("'start_date' must come before 'end_date', at most 90 days earlier", field="start_date")
    found = reports.search_public(session, service_codes=_list(query.get("service_code")), start=start, end=end,
                                  status=status, limit=MAX_RESULTS)
    return _answer(session, request, fmt, found)


@router.get("/requests/{service_request_id}.{fmt}", summary="Open311: one service request by its id")
def get_request(service_request_id: str, fmt: str, request: Request, session: DbSession) -> Response:
    fmt = _check_format(fmt)
    return _answer(session, request, fmt, [reports.get_public(session, tracking_code=service_request_id)])


@router.get("/tokens/{token_id}.{fmt}", summary="Open311: the service request id of a token")
def get_token(token_id: str, fmt: str, session: DbSession) -> Response:
    fmt = _check_format(fmt)
    return doc.render(fmt, "service_requests", [doc.token(reports.get_by_token(session, token=token_id))])


def _float(form: FormData, name: str) -> float | None:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise BadRequest("'{name}' must be a number", field=name, name=name) from None


def _string(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _submission(form: FormData, uploads: list[Upload]) -> Submission:
    answers: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key.startswith("attribute[") and key.endswith("]") and isinstance(value, str):
            code = key[len("attribute["):-1].removesuffix("][")
            answers[code] = [*answers[code], value] if isinstance(answers.get(code), list) else (
                [answers[code], value] if code in answers else value)
    first, last = _string(form, "first_name").strip(), _string(form, "last_name").strip()
    name = " ".join(p for p in (last, first) if p)  # Vietnamese order: family name first
    contact = any(_string(form, k).strip() for k in ("email", "phone", "device_id", "account_id")) or bool(name)
    return Submission(
        channel="open311", description=_string(form, "description"), service_code=_string(form, "service_code"),
        lat=_float(form, "lat"), lon=_float(form, "long"), address=_string(form, "address_string"), name=name,
        phone=_string(form, "phone"), email=_string(form, "email"), device_id=_string(form, "device_id"),
        account_id=_string(form, "account_id"),
        # Open311 has no consent field: a client that sends contact details declares the reporter agreed.
        consent=contact, answers=answers, uploads=uploads,
    )


def _submit(session: Session, request: Request, form: FormData, uploads: list[Upload], fmt: str) -> Response:
    now = utcnow()
    key = _string(form, "api_key").strip()
    found = auth.resolve_token(session, secret=key, now=now) if key else None
    if found is None:
        raise PermissionDenied("'api_key' is missing or not a valid API key")
    principal = auth.principal_for(found[0], token=found[1])
    if not principal.can(SUBMIT_PERMISSION):
        raise PermissionDenied("This API key may not submit reports (it needs the scope 'feedback:submit')")
    service_code = _string(form, "service_code").strip()
    if not service_code:
        raise BadRequest("'service_code' is required", field="service_code")
    catalogue.get_by_service_code(session, service_code=service_code)  # 404 for an unknown service
    item = reports.submit(session, submission=_submission(form, uploads), actor=principal, now=now,
                          settings=request.app.state.settings)
    return doc.render(fmt, "service_requests", [doc.receipt(item)], status=201)


@router.post("/requests.{fmt}", summary="Open311: submit a service request (form fields, `api_key` required)")
async def create_request(fmt: str, request: Request, session: DbSession) -> Response:
    fmt = _check_format(fmt)
    try:
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            # The specification assumes UTF-8; Starlette would read unescaped bytes as Latin-1.
            text = (await request.body()).decode("utf-8")
            form = FormData(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"))
        else:
            form = await request.form()
        uploads = [Upload(file_name=v.filename or "media", data=await v.read())
                   for k, v in form.multi_items() if k == "media" and isinstance(v, UploadFile)]
    except Exception as exc:  # a malformed body: answered 400, nothing saved
        raise BadRequest("The body must be form fields (application/x-www-form-urlencoded or "
                         "multipart/form-data)") from exc
    return await run_in_threadpool(_submit, session, request, form, uploads, fmt)
