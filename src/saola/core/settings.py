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
    event_bus: Literal["memory"] = Field(
        "memory", description="Event bus backend. `memory` is in-process asyncio (one process)."
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
        description="A report classifier saved by Saola (joblib); when set, a report filed without a category "
        "gets the model's suggested category and confidence. Empty: no suggestion.",
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
