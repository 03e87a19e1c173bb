"""Fail-fast checks of the messaging settings (called by :class:`saola.core.settings.Settings`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_messaging_settings(settings: Any) -> None:
    """Refuse settings that could never deliver a message: a missing host, sender, URL or key."""
    if not _is_http_url(settings.public_url):
        raise ValueError("SAOLA_PUBLIC_URL must be an http:// or https:// URL")
    if settings.mail_backend == "smtp":
        if not settings.smtp_host:
            raise ValueError("SAOLA_SMTP_HOST is required when SAOLA_MAIL_BACKEND=smtp")
        if "@" not in settings.mail_from:
            raise ValueError("SAOLA_MAIL_FROM must be an e-mail address when SAOLA_MAIL_BACKEND=smtp")
        if settings.smtp_password and not settings.smtp_user:
            raise ValueError("SAOLA_SMTP_PASSWORD is set without SAOLA_SMTP_USER")
    if getattr(settings, "feedback_smtp_port", 0) and not getattr(settings, "feedback_mail_address", ""):
        raise ValueError("SAOLA_FEEDBACK_MAIL_ADDRESS is required when SAOLA_FEEDBACK_SMTP_PORT is set")
    if settings.sms_backend == "http":
        if not _is_http_url(settings.sms_gateway_url):
            raise ValueError("SAOLA_SMS_GATEWAY_URL must be an http:// or https:// URL when SAOLA_SMS_BACKEND=http")
        if not settings.sms_api_key:
            raise ValueError("SAOLA_SMS_API_KEY is required when SAOLA_SMS_BACKEND=http")
        if not settings.sms_api_key_header.strip():
            raise ValueError("SAOLA_SMS_API_KEY_HEADER must not be empty")
