"""The email channel: one message per alert (or per digest/group) over SMTP, text and HTML parts.

Headers built from feed text go through `headers.header_safe` (CR/LF and RFC 2047 encoded words
removed, every `=?` broken up): the Python 3.11.7 on our machines is affected by CVE-2024-6923,
so the standard library's own header folding cannot be relied on to refuse injected newlines.
From and To come from the configuration only, never from feed text. The HTML part comes from a
Jinja2 template with autoescaping; highlights are inserted as `<mark>` around escaped text.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from pydantic import Field

from monitor.config.secrets import Secret, SecretRef
from monitor.config.types import Seconds
from monitor.notify.base import (
    AlertBatch,
    AlertMessage,
    ChannelDeps,
    ChannelOptionsBase,
    ChannelPolicy,
    ChannelRegistry,
    ChannelType,
    PassageView,
    SmtpFactory,
)
from monitor.notify.classify import smtp_error
from monitor.notify.headers import header_safe as header_safe
from monitor.notify.render import batch_text, clean, mark, plain_text

_SAFE_URL = re.compile(r"^https?://", re.IGNORECASE)
NO_HEADLINE = "(no headline)"
NO_SUBJECT = "news-monitor alert"


class EmailOptions(ChannelOptionsBase):
    type: str = "email"
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretRef | None = None
    sender: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    to: tuple[str, ...] = Field(min_length=1)
    subject_prefix: str = "[news-monitor]"
    timeout: Seconds = Field(default=30.0, gt=0, le=300)


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("monitor.notify", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
        finalize=_finalize,
    )


def _finalize(value: object) -> object:
    """Every value a template prints is cleaned of surrogates and control characters."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return clean(value)
    return value


def _headers(subject: str, options: EmailOptions, message_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = header_safe(f"{options.subject_prefix} {subject}", fallback=NO_SUBJECT)
    msg["From"] = options.sender
    msg["To"] = ", ".join(options.to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9_.-]', '', message_id)}@news-monitor>"
    return msg


def _highlighted(passage: PassageView) -> Markup:
    html = mark(passage, "<mark>", "</mark>", escape=lambda s: str(escape(s)))
    return Markup(html)  # noqa: S704 - mark() escaped the text between the markers


def _passages(passages: tuple[PassageView, ...]) -> list[dict[str, object]]:
    return [{"html": _highlighted(p), "clause": p.clause} for p in passages]


def _safe_url(url: str) -> str:
    return url if _SAFE_URL.match(url) else "#"


def build_message(alert: AlertMessage, options: EmailOptions, message_id: str) -> EmailMessage:
    """The MIME message for one alert."""
    headline = header_safe(alert.headline, fallback=NO_HEADLINE)
    msg = _headers(f"{alert.rule}: {headline}", options, message_id)
    msg.set_content(plain_text(alert))
    html = _env().get_template("alert.html.j2").render(
        alert=alert, passages=_passages(alert.passages), safe_url=_safe_url(alert.url)
    )
    msg.add_alternative(html, subtype="html")
    return msg


def build_batch_message(batch: AlertBatch, options: EmailOptions, message_id: str) -> EmailMessage:
    """The MIME message for a digest, a grouped burst or an overflow summary."""
    msg = _headers(batch.title, options, message_id)
    msg.set_content(batch_text(batch))
    items = [
        {"alert": a, "passages": _passages(a.passages), "safe_url": _safe_url(a.url)}
        for a in batch.alerts
    ]
    updates = [{"alert": a, "safe_url": _safe_url(a.url)} for a in batch.updates]
    html = _env().get_template("digest.html.j2").render(batch=batch, items=items, updates=updates)
    msg.add_alternative(html, subtype="html")
    return msg


class EmailNotifier:
    def __init__(
        self,
        channel: str,
        options: EmailOptions,
        password: Secret | None,
        smtp_factory: SmtpFactory,
        policy: ChannelPolicy | None = None,
    ) -> None:
        self.channel = channel
        self.policy = policy or ChannelPolicy()
        self._options = options
        self._password = password
        self._smtp_factory = smtp_factory

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        self._submit(build_message(alert, self._options, idempotency_key))

    def send_batch(self, batch: AlertBatch, *, idempotency_key: str) -> None:
        self._submit(build_batch_message(batch, self._options, idempotency_key))

    def _submit(self, msg: EmailMessage) -> None:
        opts = self._options
        try:
            smtp = self._smtp_factory(opts.host, opts.port, opts.timeout)
            with smtp:
                if opts.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if opts.username and self._password is not None:
                    smtp.login(opts.username, self._password.reveal())
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_error(exc, f"email {self.channel}") from None


def _build(channel: str, options: EmailOptions, deps: ChannelDeps) -> EmailNotifier:
    password = options.password.resolve(deps.environ) if options.password else None
    if password is not None:
        deps.redactor.add(password.reveal())
    factory = deps.smtp_factory
    if options.security == "ssl":
        def factory(host: str, port: int, timeout: float) -> smtplib.SMTP:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    return EmailNotifier(channel, options, password, factory, options.policy())


def register(registry: ChannelRegistry) -> None:
    registry.register(ChannelType("email", EmailOptions, _build))
