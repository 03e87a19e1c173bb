"""Saola's settings: read from ``SAOLA_*`` environment variables and an optional ``saola.toml``.

Every field has a description; the README's configuration table is generated from them
(``saola config --markdown``). Settings are built by :func:`load_settings` and injected,
never read from an import-time global.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from saola.core.messaging.gateways import GatewayList

DEV_SECRET = "saola-development-secret-do-not-use-in-production"


class ConfigFileError(ValueError):
    """The configuration file named by ``SAOLA_CONFIG_FILE`` is missing or not valid TOML."""


def _toml_path() -> Path:
    return Path(os.environ.get("SAOLA_CONFIG_FILE", "saola.toml"))


def _toml_source(settings_cls: type[BaseSettings]) -> TomlConfigSettingsSource:
    """``saola.toml`` (optional), or the file ``SAOLA_CONFIG_FILE`` names (then it must exist)."""
    path = _toml_path()
    if "SAOLA_CONFIG_FILE" in os.environ and not path.is_file():
        raise ConfigFileError(f"SAOLA_CONFIG_FILE names {path}, which does not exist")
    try:
        return TomlConfigSettingsSource(settings_cls, toml_file=path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path} is not valid TOML: {exc}") from exc


class Settings(BaseSettings):
    """All of Saola's configuration. Environment variables win over ``saola.toml``."""

    model_config = SettingsConfigDict(env_prefix="SAOLA_", extra="ignore", validate_default=True)

    env: Literal["development", "test", "production"] = Field(
        "development",
        description="Deployment environment. `production` refuses default secrets and insecure cookies.",
    )
    data_dir: Path = Field(Path("var"), description="Directory for the SQLite database and stored files.")
    database_url: str = Field(
        "",
        description="SQLAlchemy database URL. Empty means SQLite at `<data_dir>/saola.db`; "
        "PostgreSQL is `postgresql+psycopg://user:pass@host:5432/db`.",
    )
    mqtt_url: str = Field(
        "",
        description="MQTT broker URL, e.g. `mqtt://user:pass@127.0.0.1:1883` (or `mqtts://`). "
        "Empty means no broker is configured.",
    )
    shutdown_timeout_seconds: float = Field(
        10.0, gt=0, le=300,
        description="At shutdown, how long each background component (notifiers, workers, the rule engine...) may "
        "take to stop; one that takes longer is logged by name and left behind.",
    )
    # --- shared event bus (several `saola serve` / `saola ingest` processes) ---
    event_bus: Literal["memory", "redis", "nats"] = Field(
        "memory",
        description="Event bus backend. `memory` is in-process asyncio (one process); `redis` or `nats` share "
        "events between all Saola processes on that server (needed when `saola ingest` runs apart).",
    )
    event_bus_url: str = Field(
        "",
        description="Server of the `redis`/`nats` event bus. Empty means `redis://127.0.0.1:6379/0` or "
        "`nats://127.0.0.1:4222`. Checked at start: an unreachable server stops the process with a clear message.",
    )
    event_bus_namespace: str = Field(
        "saola",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Prefix of the event bus's Redis channels/streams or NATS subjects, so that several "
        "deployments can share one server.",
    )
    event_bus_stream_maxlen: int = Field(
        100_000,
        ge=100,
        description="Redis bus: about how many events each consumer group's stream keeps for members that "
        "are down or behind (older ones are trimmed).",
    )
    secret_key: str = Field(
        DEV_SECRET,
        description="Secret for signing. Must be set to a long random value outside development.",
    )
    cookie_secure: bool | None = Field(
        None,
        description="Send session cookies with the Secure flag. Default: on in production, off otherwise "
        "(so http://127.0.0.1 works on a laptop).",
    )
    session_hours: int = Field(12, ge=1, le=24 * 30, description="Lifetime of a browser session, in hours.")
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins for one account or address before login is throttled."
    )
    login_lockout_minutes: int = Field(
        15, ge=1, description="How long login stays throttled after too many failures, in minutes."
    )
    default_language: Literal["vi", "en"] = Field("vi", description="Language when the user chose none.")
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Time zone for display and office hours.")
    province_code: str = Field("24", description="Official code of the province this deployment serves.")
    tile_url: str = Field(
        "",
        description="Map tile URL template (`https://tiles.example/{z}/{x}/{y}.png`). Empty: the offline "
        "GeoJSON basemap shipped with Saola.",
    )
    tile_attribution: str = Field("", description="Attribution text shown for `tile_url` tiles.")
    demo_password: str = Field(
        "saola-demo", description="Password of the demo accounts created by `saola demo` (development only)."
    )
    ngsi_ld_anonymous: Literal["none", "read", "write"] = Field(
        "none",
        description="What callers without credentials may do on the NGSI-LD API (`/ngsi-ld/v1`): `none`, `read` "
        "or `write` (for a conformance run on loopback).",
    )
    ngsi_ld_fetch_contexts: bool = Field(
        True,
        description="Fetch user @contexts named by URL from the network when they are not registered, cached or "
        "mirrored. Turn off for air-gapped or hardened deployments.",
    )
    ngsi_ld_context_mirror: Path | None = Field(
        None,
        description="Directory of @context documents served instead of their URLs: a `contexts.json` manifest maps "
        "each URL to a file name in the directory.",
    )
    ngsi_ld_max_limit: int = Field(
        1000, ge=1, le=100_000,
        description="Largest page size of NGSI-LD queries (`limit`); a larger one is answered 403 TooManyResults.",
    )
    ngsi_ld_temporal_max_instances: int = Field(
        1000, ge=1, le=1_000_000,
        description="Most instances of one attribute of one entity in a temporal API answer; a longer history is "
        "answered 206 Partial Content with a `Content-Range: date-time` header (NGSI-LD clause 6.3.10).",
    )
    ngsi_ld_retention_days: int = Field(
        0, ge=0, le=100_000,
        description="Days of NGSI-LD attribute history (the temporal API) kept by `saola context purge-history`; "
        "0 keeps it forever.",
    )
    ngsi_ld_retention_by_type: str = Field(
        "",
        description="Per entity type retention overrides as `TYPE=DAYS,...` (a short type name or a full IRI; "
        "0 keeps that type forever), e.g. `WeatherObserved=30,TrafficFlowObserved=7`.",
    )
    egov_hours_per_avoided_visit: float = Field(
        4.0, ge=0, le=100,
        description="Citizen hours one avoided visit to the one-stop shop saves (travel and waiting); dossier "
        "statistics count one avoided visit per online submission.",
    )
    feedback_triage_agency: str = Field(
        "IOC", max_length=40,
        description="Code of the agency whose triage queue receives 1022 reports filed without a category.",
    )
    feedback_classifier_model: Path | None = Field(
        None,
        description="The report classifier saved by Saola (joblib) that suggests a category for a report filed "
        "without one; `saola feedback train` and the demo write it here. Empty: "
        "`<data_dir>/feedback/classifier.joblib` (no suggestion while that file does not exist).",
    )
    feedback_auto_route_confidence: float = Field(
        0.8, ge=0.0,
        description="A report filed without a category whose suggested category has at least this confidence is "
        "routed to that category automatically; below it waits in the triage queue. 1.0 or above: never.",
    )
    feedback_max_photo_mb: int = Field(
        10, ge=1, le=100, description="Largest photo or document attached to a 1022 report, in megabytes.",
    )
    feedback_duplicate_radius_m: int = Field(
        100, ge=1, le=5000,
        description="Open 1022 reports of the same category within this many metres are suggested as duplicates.",
    )
    feedback_duplicate_days: int = Field(
        30, ge=1, le=365,
        description="Open 1022 reports received within this many days are suggested as duplicates.",
    )
    feedback_retention_days: int = Field(
        730, ge=0, le=36_500,
        description="Days after a 1022 report is answered or rejected before its reporter's personal data is erased "
        "(name, phone, e-mail, device and account ids; phone numbers and e-mail addresses in its description). "
        "0 keeps it forever.",
    )
    feedback_gateways: GatewayList = Field(
        [],
        description="SMS and chat providers of the 1022 hotline, as JSON: a list of `{\"name\", \"kind\" (sms or "
        "chat), \"secret\", \"reply_url\", \"reply_token\"?, \"timeout_seconds\"?}`. Each posts citizens' "
        "messages to `/api/v1/feedback/gateways/{name}/messages`, signed with `secret` (HMAC-SHA256).",
    )
    feedback_mail_address: str = Field(
        "", max_length=200, pattern=r"^$|^[^@\s]*@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
        description="Address of the 1022 hotline's inbound e-mail (`1022@example.gov.vn`), or `@example.gov.vn` for "
        "any address of that domain; the mail listener refuses other recipients. Empty: no mail channel.",
    )
    feedback_smtp_host: str = Field("127.0.0.1", description="Address the 1022 mail listener binds to.")
    feedback_smtp_port: int = Field(
        0, ge=0, le=65535,
        description="Port of the 1022 mail listener run inside `saola serve`; 0: not in the app (run "
        "`saola feedback mail-listener` instead, or not at all).",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Public address of this Saola, used in links sent to citizens.",
    )
    mail_backend: Literal["log", "smtp"] = Field(
        "log", description="How e-mail is sent: `log` (written to the log, for a laptop) or `smtp`.",
    )
    smtp_host: str = Field("", description="SMTP server host (required with `mail_backend=smtp`).")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_user: str = Field("", description="SMTP user name; empty: no login.")
    smtp_password: str = Field("", description="SMTP password (with `smtp_user`).")
    mail_from: str = Field("", description="Sender address of outgoing e-mail (required with `mail_backend=smtp`).")
    sms_backend: Literal["log", "http"] = Field(
        "log", description="How SMS are sent: `log` (written to the log) or `http` (the provider's HTTP gateway).",
    )
    sms_gateway_url: str = Field(
        "", description="URL the SMS gateway receives a JSON POST at (with `sms_backend=http`).",
    )
    sms_api_key: str = Field("", description="API key sent to the SMS gateway (required with `sms_backend=http`).")
    sms_api_key_header: str = Field("X-API-Key", description="Header carrying `sms_api_key`.")
    sms_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Timeout of one SMS gateway request.")
    messaging_max_attempts: int = Field(
        8, ge=1, le=100, description="Delivery attempts of an outgoing message before it is marked failed.",
    )
    messaging_retry_seconds: float = Field(
        30.0, gt=0, le=86_400, description="Delay before the first retry of a message; doubled after each failure.",
    )
    messaging_poll_seconds: float = Field(
        5.0, gt=0, le=3600, description="How often the outbox of e-mail and SMS is checked for due messages.",
    )
    cases_reminder_seconds: float = Field(
        300.0, ge=0, le=86_400,
        description="How often running cases are checked for deadline reminders (due within one working day, "
        "overdue) to their assignee or agency staff and escalations (to the agency, then the IOC) by e-mail; the "
        "first check one interval after start-up. 0: never.",
    )
    devices_health_check_seconds: float = Field(
        30.0, gt=0, le=3600,
        description="How often device health is checked: message rates, and devices silent for twice their "
        "expected interval marked offline (event `device.offline`).",
    )
    devices_rollup_retention_days_1m: int = Field(
        31, ge=0, le=100_000, description="Days of 1-minute device measure rollups kept; 0 keeps them forever.",
    )
    devices_rollup_retention_days_1h: int = Field(
        0, ge=0, le=100_000, description="Days of 1-hour device measure rollups kept; 0 keeps them forever.",
    )
    sqlite_wal_checkpoint_mb: int = Field(
        64, ge=0, le=1_000_000,
        description="SQLite only: when the write-ahead log (`<database>-wal`) grows past this many MiB, `saola serve` "
        "checkpoints it and truncates it (checked every 10 s; 0 turns this off). Under constant concurrent reads "
        "SQLite's own checkpoints never get to restart the log, which then grows without bound.",
    )
    mqtt_ingest: Literal["auto", "on", "off"] = Field(
        "auto",
        description="MQTT ingestion inside `saola serve`: `auto` runs it when the broker (`mqtt_url`, else "
        "`mqtt://127.0.0.1:1883`) answers and logs clearly when none does (off when `env=test`), `on` always "
        "(retrying the connection), `off` never (run `saola ingest` instead).",
    )
    mqtt_client_id: str = Field(
        "", max_length=128,
        description="MQTT client id of the ingest worker; keep it stable per worker so its session (messages "
        "received but not yet stored) survives a restart. Empty: `saola-<role>-<hostname>`.",
    )
    mqtt_shared_group: str = Field(
        "saola", pattern=r"^[^/#+\s]*$", max_length=64,
        description="Shared subscription group (`$share/<group>/...`): workers of one group split the devices' "
        "messages. Empty: plain subscriptions (every worker receives everything).",
    )
    mqtt_session_expiry_seconds: int = Field(
        3600, ge=0, le=7 * 86400,
        description="How long the broker keeps a disconnected worker's session and unacknowledged messages.",
    )
    mqtt_batch_size: int = Field(
        10_000, ge=1, le=50_000,
        description="Most MQTT messages stored in one transaction (a batch takes what arrived while the previous "
        "one was stored, so it is small at low rates).",
    )
    mqtt_batch_ms: int = Field(
        50, ge=1, le=10_000, description="Longest wait, in milliseconds, to fill a batch of MQTT messages.",
    )
    mqtt_max_inflight: int = Field(
        65_535, ge=10, le=65_535,
        description="Messages received but not yet stored and acknowledged (the in-memory buffer, MQTT v5 Receive "
        "Maximum); beyond it the broker holds the messages back.",
    )
    mqtt_ca_file: Path | None = Field(None, description="CA certificates for `mqtts://` (default: the system's).")
    mqtt_tls_insecure: bool = Field(False, description="Do not verify the broker's certificate (testing only).")
    devices_command_timeout_seconds: float = Field(
        30.0, gt=0, le=86_400, description="Seconds to wait for a device's `cmdexe` answer before sending again.",
    )
    devices_command_attempts: int = Field(
        3, ge=1, le=100, description="Times a command is sent to a device that does not answer.",
    )
    devices_command_expiry_seconds: float = Field(
        300.0, gt=0, le=30 * 86_400,
        description="Seconds after which an unanswered command is EXPIRED.",
    )
    # --- the IOC operator console (issue 5): live KPI tiles over server-sent events ---
    ioc_console_coalesce_seconds: float = Field(
        1.0, ge=0.1, le=60,
        description="The console's KPI tiles are recomputed and pushed at most once per this many seconds, "
        "however many events arrive.",
    )
    ioc_console_refresh_seconds: float = Field(
        30.0, ge=1, le=3600,
        description="Every this many seconds the console recomputes all KPI tiles, even without events.",
    )
    # --- IOC rule engine (issue 5): rules evaluated on the change-event stream (saola/rules/engine_worker.py) ---
    rules_engine: Literal["on", "off"] = Field(
        "on", description="Run the rule engine in this process (`off` on extra web processes: one engine "
        "per database keeps the per-entity state in one place).",
    )
    rules_tick_seconds: float = Field(
        10.0, gt=0, le=3600,
        description="Every this many seconds the engine looks again at running timers (`for_seconds`, "
        "`clear_after_seconds`, cooldowns, active windows) and judges `no_data` rules.",
    )
    rules_checkpoint_seconds: float = Field(
        5.0, gt=0, le=3600,
        description="Every this many seconds the engine writes its changed per-entity state to the database "
        "(also when it stops; decisions are written with the state they change).",
    )
    rules_update_seconds: float = Field(
        60.0, ge=0, le=86_400,
        description="An open alert whose condition still holds is refreshed with the latest value at most once "
        "per this many seconds.",
    )
    # --- IOC alerts: notifications, webhooks, escalation (saola/rules/alert_notices.py, alert_worker.py) ---
    alerts_escalate_after_seconds: float = Field(
        900.0, gt=0, le=7 * 86_400,
        description="A critical alert still unacknowledged this long after it was raised is escalated (level 1: "
        "the owning agency's leadership is notified, event `alert.escalated`).",
    )
    alerts_poll_seconds: float = Field(
        10.0, ge=0, le=3600,
        description="How often new alerts are checked for notifications to send and critical ones for escalation "
        "(also at once after an `alert.raised` event). 0: never.",
    )
    alerts_on_duty_min_severity: Literal["critical", "major", "minor", "warning", "info"] = Field(
        "major", description="Least severe alert sent by e-mail and SMS to the operators on duty.",
    )
    alerts_agency_min_severity: Literal["critical", "major", "minor", "warning", "info"] = Field(
        "major", description="Least severe alert sent to the owning agency's on-duty contacts (e-mail and SMS).",
    )
    webhook_secret: str = Field(
        "", pattern=r"^$|^.{16,}$",
        description="Shared secret (16+ characters) signing outgoing webhooks: `X-Saola-Signature: sha256=<hex "
        "HMAC-SHA256 of the body>`. Empty: webhook notifications are refused.",
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Timeout of one outgoing webhook request.")
    # the living demo city's simulator (saola.sim): `saola simulate`, or beside `saola serve`
    simulator: Literal["on", "off"] = Field(
        "off",
        description="Run the demo city's simulator inside `saola serve` (`make run` sets `on`): the telemetry of "
        "the demo devices (`saola demo`) sent through MQTT, or in-process HTTP when no broker answers.",
    )
    simulator_rate: float = Field(
        20.0, gt=0, le=100_000, description="Most messages per second the simulator sends (default: laptop-friendly).",
    )
    simulator_acceleration: float = Field(
        1.0, ge=1, le=10_000,
        description="How much faster than real time the simulated day runs (traffic peaks, night lighting); events "
        "and rule durations stay in real time.",
    )
    simulator_seed: int = Field(20250701, description="Seed of the simulator's readings and injected events.")
    simulator_events: bool = Field(
        True, description="Inject faults and events (lamp failure, jam, outage, rising river...) so that rules fire.",
    )
    simulator_transport: Literal["auto", "mqtt", "http"] = Field(
        "auto", description="How the simulator sends: `auto` MQTT when the broker (`mqtt_url`) answers, else HTTP.",
    )
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    log_json: bool = Field(True, description="Write logs as one JSON object per line.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _toml_source(settings_cls),
        )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be an SQLite or PostgreSQL SQLAlchemy URL")
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _known_mqtt(cls, value: str) -> str:
        if value and not value.startswith(("mqtt://", "mqtts://", "tcp://")):
            raise ValueError("mqtt_url must start with mqtt:// or mqtts://")
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.env == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError("SAOLA_SECRET_KEY must be set to a random value of 32+ characters in production")
            if self.cookie_secure is False:
                raise ValueError("SAOLA_COOKIE_SECURE cannot be false in production")
        from saola.core.messaging.config import check_messaging_settings

        check_messaging_settings(self)
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'saola.db').resolve()}"

    @property
    def effective_feedback_classifier_model(self) -> Path:
        """Where the report classifier is read and written."""
        return self.feedback_classifier_model or self.data_dir / "feedback" / "classifier.joblib"

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, ``saola.toml`` and explicit overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]


def settings_markdown_table() -> str:
    """The README's configuration table, generated from the field descriptions."""
    rows = ["| variable | default | description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "" if default in ("", None) else f"`{default}`"
        if name == "secret_key":
            shown = "(development value)"
        rows.append(f"| `SAOLA_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)
