"""The notifier interface: what an alert looks like to a channel, and how channel types register.

A channel type is a module that calls :func:`register` with its name, the pydantic model of its
options in `feeds.yaml`, and a factory. A notifier's `send` returns only when the receiver
accepted the message; otherwise it raises `DeliveryError` saying whether a retry may help.
A notifier that can also show several alerts in one message (digests, grouped bursts, overflow
summaries) implements :class:`BatchNotifier`; its `policy` says how the channel wants to be fed.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field

from monitor.notify.redact import SecretRedactor


@dataclass(frozen=True)
class PassageView:
    """A matched passage: original text, highlight offsets into it, the clause it satisfied."""

    text: str
    highlights: tuple[tuple[int, int], ...]
    clause: str
    field: str = "body"


@dataclass(frozen=True)
class Carrier:
    """Another outlet carrying the same story."""

    source: str
    title: str
    url: str
    is_copy: bool = True


@dataclass(frozen=True)
class AlertMessage:
    """Everything a channel shows for one alert (one rule, one story)."""

    alert_id: int
    rule: str
    headline: str
    url: str
    source: str
    published: datetime | None
    language: str | None
    story_id: int
    created_at: datetime
    passages: tuple[PassageView, ...] = ()
    also_carried_by: tuple[Carrier, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    """Sends alerts to one configured channel."""

    channel: str

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        """Deliver one alert; return only once the receiver accepted it."""


BatchKind = Literal["group", "digest", "overflow"]
DigestMode = Literal["hourly", "daily"]


@dataclass(frozen=True)
class AlertBatch:
    """Several alerts shown in one message: a grouped burst, a digest, or an overflow summary.

    `updates` are alerts already sent whose story gained other outlets since; digests list them
    apart from the new stories.
    """

    kind: BatchKind
    channel: str
    alerts: tuple[AlertMessage, ...]
    updates: tuple[AlertMessage, ...] = ()

    @property
    def title(self) -> str:
        rules = sorted({a.rule for a in self.alerts + self.updates})
        what = {"group": "alerts", "digest": "digest", "overflow": "more alerts"}[self.kind]
        count = len(self.alerts)
        return f"{count} {what} for {', '.join(rules)}" + (
            f" (+{len(self.updates)} updated)" if self.updates else ""
        )


@dataclass(frozen=True)
class ChannelPolicy:
    """How a channel wants alerts: immediately or as a digest, and at most how fast."""

    digest: DigestMode | None = None
    rate_limit: float | None = None  # messages per second; None = unlimited
    burst: int = 3


class ChannelOptionsBase(BaseModel):
    """Options every channel type accepts besides its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    digest: DigestMode | None = Field(
        default=None, description="send an hourly or daily digest instead of each alert"
    )
    rate_limit: float | None = Field(
        default=None, gt=0, description="at most this many messages per second"
    )

    def policy(self, default_rate: float | None = None) -> ChannelPolicy:
        rate = self.rate_limit if self.rate_limit is not None else default_rate
        return ChannelPolicy(digest=self.digest, rate_limit=rate)


@runtime_checkable
class BatchNotifier(Protocol):
    """A notifier that can also send several alerts as one message."""

    channel: str
    policy: ChannelPolicy

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None: ...

    def send_batch(self, batch: AlertBatch, *, idempotency_key: str) -> None:
        """Deliver the batch as one message; return only once the receiver accepted it."""


SmtpFactory = Callable[[str, int, float], smtplib.SMTP]


def default_smtp_factory(host: str, port: int, timeout: float) -> smtplib.SMTP:
    return smtplib.SMTP(host, port, timeout=timeout)


@dataclass(frozen=True)
class ChannelDeps:
    """Collaborators handed to every channel factory."""

    http: httpx.Client
    environ: Mapping[str, str]
    smtp_factory: SmtpFactory = default_smtp_factory
    redactor: SecretRedactor = field(default_factory=SecretRedactor)


@dataclass(frozen=True)
class ChannelType:
    """A registered channel type."""

    name: str
    options_model: type[BaseModel]
    build: Callable[[str, Any, ChannelDeps], Notifier]


class ChannelRegistry:
    """The channel types known to this process (built-ins register on import)."""

    def __init__(self) -> None:
        self._types: dict[str, ChannelType] = {}

    def register(self, channel_type: ChannelType) -> None:
        self._types[channel_type.name] = channel_type

    def get(self, name: str) -> ChannelType | None:
        return self._types.get(name)

    def names(self) -> list[str]:
        return sorted(self._types)
