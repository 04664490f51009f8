"""Delivery settings (`settings.delivery` in feeds.yaml): retry schedule, deadlines, storm control.

Defaults give at-least-once delivery over a receiver outage of more than a day: backoff from 30 s
doubling to a 2 h cap, with jitter, until 26 h after the first attempt. The lease is renewed
before each wave of `concurrency` sends, so it must outlast one wave with room to spare: at least
twice `attempt_deadline`.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.config.types import Duration


class DeliverySettings(BaseModel):
    """How alerts are delivered, retried, dead-lettered and paced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operator_channels: tuple[str, ...] = Field(
        default=(), description="channels told about dead letters and disabled endpoints"
    )
    retry_base: Duration = Field(default=timedelta(seconds=30), description="first retry delay")
    retry_cap: Duration = Field(default=timedelta(hours=2), description="longest retry delay")
    give_up_after: Duration = Field(
        default=timedelta(hours=26), description="dead-letter after retrying this long"
    )
    attempt_deadline: Duration = Field(
        default=timedelta(seconds=60), description="total time one send may take"
    )
    lease: Duration = Field(
        default=timedelta(minutes=5), description="how long a claimed delivery stays ours"
    )
    batch_size: int = Field(default=200, ge=1, le=10_000)
    concurrency: int = Field(default=4, ge=1, le=64, description="channels sent to in parallel")
    grouping_window: Duration = Field(
        default=timedelta(0),
        description="after a message for a rule, later alerts wait this long and go out "
        "together (0: each alert on its own, bursts capped only by rate limits)",
    )
    rate_limits: dict[str, float] = Field(
        default_factory=dict, description="messages per second, per channel name"
    )
    update_window: Duration = Field(
        default=timedelta(days=7), description="how far back digests look for updated stories"
    )

    @model_validator(mode="after")
    def _consistent(self) -> DeliverySettings:
        if self.retry_cap < self.retry_base:
            raise ValueError("retry_cap must be at least retry_base")
        if self.lease < 2 * self.attempt_deadline:
            # the worker renews the lease before each wave of sends; a wave takes up to
            # attempt_deadline and the rest of the lease covers building and recording it
            raise ValueError("lease must be at least twice attempt_deadline")
        for name, rate in self.rate_limits.items():
            if rate <= 0:
                raise ValueError(f"rate_limits.{name} must be positive")
        return self
