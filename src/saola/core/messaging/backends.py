"""Mail and SMS senders behind typed protocols, chosen in settings.

* :class:`SmtpMailSender` speaks SMTP with the standard library (optional STARTTLS and login);
* :class:`HttpSmsSender` POSTs ``{"to", "text"}`` as JSON to the provider's URL with the API key in
  a header, with a timeout; any non-2xx answer or network error is a :class:`DeliveryError`;
* :class:`LogMailSender` and :class:`LogSmsSender` write the message to the log, so ``make run``
  needs no mail server or gateway.

A sender makes one attempt; retries with backoff are the outbox's job (:mod:`.outbox`).
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from email.header import Header
from email.mime.text import MIMEText
from email.utils import make_msgid
from typing import Any, Protocol

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The gateway did not take the message; it will be retried."""


class MailSender(Protocol):
    def send_mail(self, *, to: str, subject: str, body: str) -> None: ...


class SmsSender(Protocol):
    def send_sms(self, *, to: str, text: str) -> None: ...


class SmtpMailSender:
    """Plain-text UTF-8 mail through an SMTP server."""

    def __init__(self, *, host: str, port: int, starttls: bool, user: str, password: str, sender: str,
                 timeout: float = 15.0) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.user, self.password, self.sender, self.timeout = user, password, sender, timeout

    def send_mail(self, *, to: str, subject: str, body: str) -> None:
        # compat32 MIME classes: the default policy's header folding drops spaces between encoded words
        # of long Vietnamese subjects ("Đang giải" arrives as "Đanggiải").
        message = MIMEText(body, "plain", "utf-8")
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = Header(subject, "utf-8")
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc


class HttpSmsSender:
    """An HTTP SMS gateway: ``POST url`` with ``{"to": phone, "text": text}`` and the API key header."""

    def __init__(self, *, url: str, api_key: str, api_key_header: str, timeout: float) -> None:
        self.url, self.api_key, self.api_key_header, self.timeout = url, api_key, api_key_header, timeout

    def send_sms(self, *, to: str, text: str) -> None:
        body = json.dumps({"to": to, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", self.api_key_header: self.api_key})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS gateway answered {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"SMS gateway: {type(exc).__name__}: {exc}") from exc


class LogMailSender:
    """Writes each mail to the log (development)."""

    def send_mail(self, *, to: str, subject: str, body: str) -> None:
        log.info("mail (log backend)", extra={"to": to, "subject": subject, "body": body})


class LogSmsSender:
    """Writes each SMS to the log (development)."""

    def send_sms(self, *, to: str, text: str) -> None:
        log.info("sms (log backend)", extra={"to": to, "text": text})


def make_mail_sender(settings: Any) -> MailSender:
    if settings.mail_backend == "smtp":
        return SmtpMailSender(host=settings.smtp_host, port=settings.smtp_port, starttls=settings.smtp_starttls,
                              user=settings.smtp_user, password=settings.smtp_password, sender=settings.mail_from)
    return LogMailSender()


def make_sms_sender(settings: Any) -> SmsSender:
    if settings.sms_backend == "http":
        return HttpSmsSender(url=settings.sms_gateway_url, api_key=settings.sms_api_key,
                             api_key_header=settings.sms_api_key_header, timeout=settings.sms_timeout_seconds)
    return LogSmsSender()
