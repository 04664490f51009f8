"""Typed models of `feeds.yaml`: global settings, fetch limits, sources and channel entries.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored option.
Channel entries are validated in two steps: here only their `type`; the channel type's own model
(registered by its notifier module) validates the rest.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.bounds import FieldBounds
from monitor.config.types import Duration, PositiveDuration, Size, parse_duration, parse_size
from monitor.delivery.settings import DeliverySettings
from monitor.opsconfig import HealthSettings, OpsSettings
from monitor.rules.settings import RuleSettings
from monitor.work.settings import WorkSettings

__all__ = ["Duration", "Size", "parse_duration", "parse_size"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FetchSettings(Strict):
    """Limits applied to every outbound request."""

    connect_timeout: PositiveDuration = timedelta(seconds=10)
    read_timeout: PositiveDuration = timedelta(seconds=20)
    deadline: PositiveDuration = Field(default=timedelta(seconds=60), description="total per fetch")
    max_bytes: Size = 10 * 2**20
    max_redirects: int = Field(default=5, ge=0, le=5)
    concurrency: int = Field(default=8, ge=1, le=64)
    per_host_concurrency: int = Field(default=2, ge=1, le=64)
    per_host_delay: Duration = Field(
        default=timedelta(0), description="pause between two requests to one host"
    )
    user_agent: str = "news-monitor/0.1 (+https://github.com/news-monitor/news-monitor)"
    allow_networks: tuple[str, ...] = Field(
        default=(), description="CIDRs allowed although private or loopback, e.g. 127.0.0.0/8"
    )

    @field_validator("allow_networks")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a network like 127.0.0.0/8") from None
        return value


class Settings(Strict):
    """Global settings (`settings:` in feeds.yaml)."""

    database_url: str | None = Field(default=None, description="overridden by DATABASE_URL")
    storage_dir: str = "storage"
    default_interval: PositiveDuration = timedelta(minutes=15)
    jitter: float = Field(default=0.1, ge=0, le=0.5, description="fraction of the interval")
    alert_backlog: bool = False
    extract_workers: int = Field(default=2, ge=1, le=32)
    # pipeline (P1, issue 8/9): feed cap, SIGTERM drain bound, stall bound for healthcheck
    max_feed_entries: int = Field(
        default=500, ge=1, le=100_000, description="newest entries kept per feed document"
    )
    drain_timeout: PositiveDuration = Field(
        default=timedelta(seconds=30), description="SIGTERM: longest wait for in-flight polls"
    )
    stall_timeout: PositiveDuration = Field(
        default=timedelta(minutes=5),
        description="healthcheck fails when queued work makes no progress for this long",
    )
    default_channels: tuple[str, ...] = ()
    dedup_window: Duration = timedelta(days=7)
    fetch: FetchSettings = FetchSettings()
    delivery: DeliverySettings = DeliverySettings()
    work: WorkSettings = WorkSettings()
    bounds: FieldBounds = Field(
        default=FieldBounds(), description="longest title, author, URL, summary, text kept"
    )
    ops: OpsSettings = OpsSettings()  # /metrics, /healthz, /readyz (monitor.opsconfig)
    health: HealthSettings = HealthSettings()  # source health thresholds (monitor.health)
    rules: RuleSettings = RuleSettings()  # matching limits per article (monitor.rules.settings)


class SourceSpec(Strict):
    """One source (`sources:` list entry)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    url: str
    kind: Literal["feed", "sitemap", "page"] = "feed"
    interval: Duration | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    tags: tuple[str, ...] = ()
    fetch_full: bool = True
    alert_backlog: bool | None = None
    enabled: bool = True
    # page and sitemap sources (docs/configuration.md, "Source kinds")
    respect_robots: bool = Field(default=True, description="obey robots.txt (page, sitemap)")
    include: tuple[str, ...] = Field(default=(), description="URL regexes an entry must match")
    exclude: tuple[str, ...] = Field(default=(), description="URL regexes that drop an entry")
    selector: str | None = Field(default=None, description="page: CSS selector of the listing")
    max_follow: int = Field(default=10, ge=0, le=100, description="documents followed per poll")
    max_entries: int = Field(default=200, ge=1, le=1000, description="entries kept per document")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("include", "exclude")
    @classmethod
    def _regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("selector")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        if value is not None:
            from monitor.sources.css import check_selector

            check_selector(value)
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> SourceSpec:
        if self.kind != "page" and self.selector is not None:
            raise ValueError(f"'selector' applies to kind: page only, not kind: {self.kind}")
        if self.kind == "feed" and (self.include or self.exclude):
            raise ValueError("'include'/'exclude' apply to kind: page and kind: sitemap only")
        return self


class ChannelSpec(Strict):
    """A configured channel after its type's model validated it."""

    name: str
    type: str
    options: Any = Field(description="the channel type's own validated model")
