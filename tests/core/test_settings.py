"""Settings: ``SAOLA_*`` environment variables and ``saola.toml``, defaults, normalisation, fail-fast."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from saola.core.settings import DEV_SECRET, ConfigFileError, Settings, load_settings, settings_markdown_table


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No SAOLA_* variable from the outside, and a working directory without a saola.toml."""
    for name in list(os.environ):
        if name.startswith("SAOLA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_toml(path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SAOLA_CONFIG_FILE", str(path))
    return path


def test_defaults_suit_a_laptop(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.env == "development"
    assert settings.default_language == "vi"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.mqtt_url == ""
    assert settings.secure_cookies is False
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'var' / 'saola.db').resolve()}"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAOLA_SESSION_HOURS", "5")
    monkeypatch.setenv("SAOLA_DEFAULT_LANGUAGE", "en")
    monkeypatch.setenv("SAOLA_MQTT_URL", "mqtt://iot:pw@broker.local:1883")
    monkeypatch.setenv("SAOLA_LOG_JSON", "false")
    settings = load_settings()
    assert settings.session_hours == 5
    assert settings.default_language == "en"
    assert settings.mqtt_url == "mqtt://iot:pw@broker.local:1883"
    assert settings.log_json is False


def test_saola_toml_in_the_working_directory_is_read(clean_environment: Path) -> None:
    (clean_environment / "saola.toml").write_text('province_code = "27"\nsession_hours = 3\n', encoding="utf-8")
    settings = load_settings()
    assert settings.province_code == "27"
    assert settings.session_hours == 3


def test_the_config_file_named_by_saola_config_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path / "elsewhere.toml", 'tile_url = "https://tiles.example/{z}/{x}/{y}.png"\n', monkeypatch)
    assert load_settings().tile_url == "https://tiles.example/{z}/{x}/{y}.png"


def test_environment_wins_over_the_toml_file_and_explicit_values_win_over_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(tmp_path / "saola.toml", 'session_hours = 3\ntimezone = "Asia/Bangkok"\n', monkeypatch)
    monkeypatch.setenv("SAOLA_SESSION_HOURS", "7")
    settings = load_settings()
    assert settings.session_hours == 7  # env
    assert settings.timezone == "Asia/Bangkok"  # toml, not overridden
    assert load_settings(session_hours=9).session_hours == 9


def test_the_default_database_is_sqlite_under_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAOLA_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'saola.db'}"
    assert settings.is_sqlite


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://saola:pw@db:5432/saola", "postgresql+psycopg://saola:pw@db:5432/saola"),
        ("postgresql+psycopg://saola@db/saola", "postgresql+psycopg://saola@db/saola"),
        ("sqlite:////srv/saola.db", "sqlite:////srv/saola.db"),
    ],
)
def test_database_urls_are_normalised_to_the_psycopg_driver(
    given: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAOLA_DATABASE_URL", given)
    settings = load_settings()
    assert settings.effective_database_url == expected
    assert settings.is_sqlite is expected.startswith("sqlite")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SAOLA_SESSION_HOURS", "twelve", "session_hours"),
        ("SAOLA_SESSION_HOURS", "0", "session_hours"),
        ("SAOLA_ENV", "staging", "'development', 'test' or 'production'"),
        ("SAOLA_DATABASE_URL", "mysql://root@db/saola", "SQLite or PostgreSQL"),
        ("SAOLA_MQTT_URL", "http://broker:1883", "mqtt://"),
        ("SAOLA_DEFAULT_LANGUAGE", "fr", "'vi' or 'en'"),
        ("SAOLA_LOGIN_MAX_FAILURES", "-3", "login_max_failures"),
        ("SAOLA_EVENT_BUS", "kafka", "event_bus"),
    ],
)
def test_bad_values_fail_fast_naming_the_setting(
    variable: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        load_settings()
    assert message in str(caught.value)


def test_a_broken_toml_file_fails_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_toml(tmp_path / "saola.toml", "session_hours = [\n", monkeypatch)
    with pytest.raises(ConfigFileError, match=re.escape(f"{path} is not valid TOML")):
        load_settings()


def test_a_missing_config_file_named_explicitly_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAOLA_CONFIG_FILE", str(tmp_path / "typo.toml"))
    with pytest.raises(ConfigFileError, match=r"typo\.toml, which does not exist"):
        load_settings()


def test_bad_values_in_the_toml_file_fail_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path / "saola.toml", 'session_hours = "a while"\n', monkeypatch)
    with pytest.raises(ValidationError, match="session_hours"):
        load_settings()


def test_production_refuses_the_default_or_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAOLA_ENV", "production")
    with pytest.raises(ValidationError, match="SAOLA_SECRET_KEY must be set"):
        load_settings()
    monkeypatch.setenv("SAOLA_SECRET_KEY", "0123456789")
    with pytest.raises(ValidationError, match="SAOLA_SECRET_KEY must be set"):
        load_settings()
    monkeypatch.setenv("SAOLA_SECRET_KEY", DEV_SECRET)
    with pytest.raises(ValidationError, match="SAOLA_SECRET_KEY must be set"):
        load_settings()


def test_production_with_a_real_secret_starts_with_secure_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAOLA_ENV", "production")
    monkeypatch.setenv("SAOLA_SECRET_KEY", "d4c1b0f6e0b54b3c9a3f1e2d7c8b9a0f1e2d3c4b")
    settings = load_settings()
    assert settings.secure_cookies is True
    monkeypatch.setenv("SAOLA_COOKIE_SECURE", "false")
    with pytest.raises(ValidationError, match="SAOLA_COOKIE_SECURE cannot be false in production"):
        load_settings()


def test_outside_production_the_default_secret_is_allowed_and_cookies_can_be_forced_secure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings(env="test").secret_key == DEV_SECRET
    monkeypatch.setenv("SAOLA_COOKIE_SECURE", "true")
    assert load_settings().secure_cookies is True


def test_every_setting_is_documented_in_the_generated_table() -> None:
    table = settings_markdown_table()
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`SAOLA_{name.upper()}`" in table
    assert DEV_SECRET not in table
