"""Operations settings (`settings.ops` and `settings.health` in feeds.yaml).

`ops.listen` opens the metrics and health endpoints (off unless set; loopback is the safe
choice). `health` holds the thresholds that turn a source's history into a health state: silence
measured against the source's own cadence, failure duration, placeholder pages.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.config.types import Duration, PositiveDuration


def split_listen(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 hosts in brackets) into its parts; raises ValueError when malformed."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not an address like 127.0.0.1:9464")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise ValueError(f"{value!r}: the host must be an IP address or localhost") from None
    return host, int(port)


class OpsSettings(BaseModel):
    """The operations HTTP endpoints served by `monitor run`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str | None = Field(
        default=None,
        description="where /metrics, /healthz, /readyz listen, e.g. 127.0.0.1:9464 (off if unset)",
    )
    heartbeat_max_age: PositiveDuration = Field(
        default=timedelta(minutes=3), description="/healthz fails when the heartbeat is older"
    )

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value


class HealthSettings(BaseModel):
    """When a source counts as silent, failing or parked (see monitor.health)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check_every: PositiveDuration = Field(
        default=timedelta(minutes=5), description="how often the daemon evaluates source health"
    )
    silence_factor: float = Field(
        default=4.0, ge=1.0, le=100.0, description="silent after this many usual gaps..."
    )
    min_silence: Duration = Field(
        default=timedelta(hours=24), description="...and never before this long without news"
    )
    failing_after: Duration = Field(
        default=timedelta(hours=6), description="a source failing this long is reported"
    )
    history: int = Field(
        default=64, ge=3, le=1000, description="recent entries used to learn the usual gap"
    )
