"""The ASGI application: ``create_app(settings)`` wires settings, database, bus and routers."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from saola import __version__
from saola.context.http import install as install_ngsi_ld
from saola.core.db import make_engine, make_session_factory
from saola.core.events import make_event_bus
from saola.core.http import RequestContextMiddleware, install_error_handlers
from saola.core.logs import configure_logging
from saola.core.settings import Settings, load_settings

log = logging.getLogger("saola")

OPENAPI_TAGS = [
    {"name": "health", "description": "Liveness and readiness probes"},
    {"name": "auth", "description": "Sign-in, the current user, API tokens"},
    {"name": "users", "description": "User administration"},
    {"name": "audit", "description": "The audit log"},
    {"name": "directory", "description": "Agencies, administrative units and agency contacts"},
    {"name": "queue", "description": "The queue of the service centre: services, counters, tickets, appointments, "
     "the display board, waiting and serving statistics"},
    {"name": "procedures", "description": "The catalogue of administrative procedures (public read; CSV and JSON "
     "import and export)"},
    {"name": "dossiers", "description": "Dossiers of the one-stop shop: intake, lifecycle, timeline, the slip "
     "(form 01); public lookup by code"},
    {"name": "feedback", "description": "The 1022 citizen feedback hotline: the category tree, reports from apps, "
     "staff triage through the case engine"},
    {"name": "open311", "description": "Open311 GeoReport v2 (`.json` or `.xml`): services, service definitions, "
     "service requests, tokens. Errors are the specification's list of `{code, description}`."},
    {"name": "calendar", "description": "Vietnamese working days: deadlines, working-day counts, holidays (public)"},
    {"name": "devices", "description": "IoT devices: provisioning in the shape of the FIWARE IoT Agent API "
     "(`/iot/services`, `/iot/devices`), the HTTP transport (`/iot/json`, `/iot/d`, `/iot/json/bulk`) and measure "
     "series"},
    {"name": "rules", "description": "The IOC's rules as data: versions, enable/disable, backtest against history "
     "(\"how often would this have fired last week?\"), the engine's status and evaluation errors"},
    {"name": "alerts", "description": "The IOC's alerts: list, filters, acknowledge and clear (409 with a stable "
     "code when the lifecycle does not allow it), one's alert subscriptions and the on-duty roster"},
    {"name": "incidents", "description": "Incidents: alerts, citizen reports, entities, notes and dispatched units "
     "about one event; SOP checklists, status workflow, after-action report (PDF)"},
    {"name": "ioc", "description": "The operations console's data: map layers as GeoJSON, KPIs, chart series"},
    {"name": "ngsi-ld", "description": "The NGSI-LD context broker (ETSI GS CIM 009 V1.8.1): entities, batch "
     "operations, types, attributes, @contexts, subscriptions. Errors are NGSI-LD ProblemDetails."},
]


# Packages that mount themselves: each wiring module has ``include_routers(app)`` and
# ``async start(app) -> stop`` (an async callable the lifespan awaits at shutdown, in reverse order).
FEATURE_WIRINGS = (
    "saola.core.sqlite_wal",  # SQLite: the write-ahead log checkpointed and truncated past a size
    "saola.rules.alerts_wiring",  # alerts: /api/v1/alerts, console pages, escalation and notifications
    "saola.rules.wiring",  # rules as data: /api/v1/rules, console pages
    "saola.rules.engine_wiring",  # the rule engine on the change-event stream, "no data" checks
    "saola.ioc.incidents_wiring",  # incidents: /api/v1/incidents, console pages, after-action reports
    "saola.ioc.console_wiring",  # the operations console: live map, KPI tiles over SSE, alert feed
    "saola.sim.wiring",  # the demo city's simulator beside the server (SAOLA_SIMULATOR)
)


def _include_routers(app: FastAPI) -> None:
    from saola.context import api as context_api
    from saola.context import api_ops as context_ops_api
    from saola.context import csource_registrations_api, csource_subscriptions_api, subscriptions_api, temporal_api
    from saola.context import pages as context_pages
    from saola.core import health
    from saola.core.audit import api as audit_api
    from saola.core.audit import pages as audit_pages
    from saola.core.auth import admin_pages as auth_admin_pages
    from saola.core.auth import api as auth_api
    from saola.core.auth import pages as auth_pages
    from saola.core.calendar import api as calendar_api
    from saola.core.directory import api as directory_api
    from saola.core.directory import pages as directory_pages
    from saola.core.messaging import api as messaging_api
    from saola.egov import dossiers_api, dossiers_pages, portal_pages, procedures_api, procedures_pages, stats_views
    from saola.egov.queue import api as queue_api
    from saola.egov.queue import pages as queue_pages
    from saola.egov.queue import public_pages as queue_public_pages
    from saola.feedback import call_pages as feedback_call_pages
    from saola.feedback import categories_api as feedback_categories_api
    from saola.feedback import classifier_api as feedback_classifier_api
    from saola.feedback import classifier_pages as feedback_classifier_pages
    from saola.feedback import duplicates as feedback_duplicates
    from saola.feedback import gateway_api as feedback_gateway_api
    from saola.feedback import open311 as feedback_open311
    from saola.feedback import pages as feedback_pages
    from saola.feedback import public_pages as feedback_public_pages
    from saola.feedback import public_stats_pages as feedback_public_stats_pages
    from saola.feedback import rating as feedback_rating
    from saola.feedback import reassign as feedback_reassign
    from saola.feedback import report_case_pages as feedback_report_case_pages
    from saola.feedback import report_pages as feedback_report_pages
    from saola.feedback import reports_api as feedback_reports_api
    from saola.feedback import routing_api as feedback_routing_api
    from saola.feedback import routing_pages as feedback_routing_pages
    from saola.feedback import stats_api as feedback_stats_api
    from saola.feedback import stats_pages as feedback_stats_pages
    from saola.web import pages as web_pages

    for module in (health, auth_api, audit_api, directory_api, calendar_api, context_api, context_ops_api,
                   subscriptions_api, csource_registrations_api, csource_subscriptions_api, temporal_api, queue_api,
                   procedures_api, stats_views, dossiers_api,
                   feedback_categories_api, feedback_classifier_api, feedback_duplicates, feedback_rating,
                   feedback_reassign,
                   feedback_routing_api, feedback_stats_api, feedback_reports_api,
                   feedback_open311, feedback_gateway_api, messaging_api):
        app.include_router(module.router)
    app.include_router(stats_views.pages_router, include_in_schema=False)  # before /console/dossiers/{id}
    for module in (web_pages, auth_pages, auth_admin_pages, audit_pages, directory_pages, context_pages,
                   queue_pages, queue_public_pages, procedures_pages, dossiers_pages, portal_pages,
                   feedback_stats_pages, feedback_pages, feedback_report_pages, feedback_report_case_pages,
                   feedback_call_pages, feedback_routing_pages, feedback_classifier_pages, feedback_public_stats_pages,
                   feedback_public_pages):
        app.include_router(module.router, include_in_schema=False)


async def _stop_within(name: str, stop: Callable[[], Awaitable[None]], seconds: float) -> None:
    """Stop one component; one that does not stop in time is logged by name and left, so shutdown goes on."""
    try:
        await asyncio.wait_for(stop(), seconds)
    except TimeoutError:
        log.error("a component did not stop in time; shutdown goes on without it",
                  extra={"component": name, "seconds": seconds})
    except Exception:
        log.exception("a component failed to stop", extra={"component": name})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_json)
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("saola started", extra={"database": engine.url.render_as_string(hide_password=True)})
        from saola.context.notifier import Notifier
        from saola.core.messaging.worker import MessagingWorker

        notifier = Notifier(app)
        await notifier.start()
        from saola.context.csource_notifier import CSourceNotifier

        csource_notifier = CSourceNotifier(app)  # notifications of context source registration subscriptions
        await csource_notifier.start()
        messaging = MessagingWorker(app)
        await messaging.start()
        from saola.feedback.retention import RetentionWorker

        retention = RetentionWorker(app)  # daily anonymisation of 1022 reporters past the retention period
        await retention.start()
        from saola.cases.reminder_worker import ReminderWorker

        reminders = ReminderWorker(app)  # deadline reminders and escalations to staff (SAOLA_CASES_REMINDER_SECONDS)
        await reminders.start()
        from saola.feedback.mail_listener import start_in_app, stop_in_app

        mail_listener = await start_in_app(app)  # the 1022 SMTP listener, when SAOLA_FEEDBACK_SMTP_PORT is set
        from saola.devices.health import HealthMonitor

        device_health = HealthMonitor(app)  # device rates, offline detection, rollup retention
        await device_health.start()
        from saola.devices import mqtt_app

        mqtt = await mqtt_app.start_in_app(app)  # MQTT ingest worker (SAOLA_MQTT_INGEST), device command listener
        stoppers = [await importlib.import_module(name).start(app) for name in FEATURE_WIRINGS]
        yield
        stops: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            *reversed(list(zip(FEATURE_WIRINGS, stoppers, strict=True))),
            ("saola.devices.mqtt_app", lambda: mqtt_app.stop_in_app(app, mqtt)),
            ("saola.devices.health", device_health.stop),
            ("saola.feedback.mail_listener", lambda: stop_in_app(mail_listener)),
            ("saola.cases.reminder_worker", reminders.stop), ("saola.feedback.retention", retention.stop),
            ("saola.core.messaging.worker", messaging.stop), ("saola.context.csource_notifier", csource_notifier.stop),
            ("saola.context.notifier", notifier.stop), ("event bus", app.state.event_bus.close),
        ]
        for name, stop in stops:
            await _stop_within(name, stop, settings.shutdown_timeout_seconds)
        engine.dispose()

    app = FastAPI(
        title="Saola",
        version=__version__,
        description="Open smart-city operations platform. Saola's own JSON APIs live under `/api/v1/`; "
        "errors are RFC 9457 problem+json with a stable `code`.",
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        docs_url=None,  # served below from the vendored Swagger UI, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.event_bus = make_event_bus(settings)
    app.add_middleware(RequestContextMiddleware, secure_cookies=settings.secure_cookies)
    install_error_handlers(app)
    install_ngsi_ld(app)
    app.mount("/static", StaticFiles(directory=str(resources.files("saola.web") / "static")), name="static")
    _include_routers(app)
    from saola.devices.wiring import include_routers as include_device_routers

    include_device_routers(app)  # /iot provisioning and HTTP transport, /api/v1/devices, /console/devices
    from saola.devices.mqtt_app import include_routers as include_mqtt_routers

    include_mqtt_routers(app)  # /api/v1/devices/{id}/commands, /api/v1/ingest/status
    for name in FEATURE_WIRINGS:
        importlib.import_module(name).include_routers(app)
    _add_docs_route(app)
    return app


def _add_docs_route(app: FastAPI) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Saola API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/saola.svg",
            swagger_ui_parameters={"validatorUrl": None},
        )
