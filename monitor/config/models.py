"""Typed models of `feeds.yaml`: global settings, fetch limits, sources and channel entries.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored option.
Channel entries are validated in two steps: here only their `type`; the channel type's own model
(registered by its notifier module) validates the rest.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 1024,
    "mib": 2**20,
    "gib": 2**30,
    None: 1,
}


def parse_duration(value: Any) -> timedelta:
    """Accept `90`, `90s`, `15m`, `1.5h`, `7d` or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 15m, 2h or 7d")
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError("expected a duration like 30s, 15m, 2h or 7d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_size(value: Any) -> int:
    """Accept `1048576`, `10MB`, `5 MiB`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError("expected a size like 500KB, 10MB or 1048576")
    unit = match.group(2).lower() if match.group(2) else None
    return int(match.group(1)) * _SIZE_UNITS[unit]


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FetchSettings(Strict):
    """Limits applied to every outbound request."""

    connect_timeout: Duration = timedelta(seconds=10)
    read_timeout: Duration = timedelta(seconds=20)
    deadline: Duration = Field(default=timedelta(seconds=60), description="total per fetch")
    max_bytes: Size = 10 * 2**20
    max_redirects: int = Field(default=5, ge=0, le=5)
    concurrency: int = Field(default=8, ge=1, le=64)
    per_host_concurrency: int = Field(default=2, ge=1, le=16)
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
    default_interval: Duration = timedelta(minutes=15)
    jitter: float = Field(default=0.1, ge=0, le=0.5, description="fraction of the interval")
    alert_backlog: bool = False
    extract_workers: int = Field(default=2, ge=1, le=32)
    default_channels: tuple[str, ...] = ()
    dedup_window: Duration = timedelta(days=7)
    fetch: FetchSettings = FetchSettings()


class SourceSpec(Strict):
    """One source (`sources:` list entry)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    url: str
    kind: Literal["feed"] = "feed"
    interval: Duration | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    tags: tuple[str, ...] = ()
    fetch_full: bool = True
    alert_backlog: bool | None = None
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value


class ChannelSpec(Strict):
    """A configured channel after its type's model validated it."""

    name: str
    type: str
    options: Any = Field(description="the channel type's own validated model")
