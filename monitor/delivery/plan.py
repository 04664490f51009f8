"""Storm control and digests: turns the due deliveries of one cycle into the messages to send.

Pure functions over plain values (no database, no network), so every rule here is unit-tested
with a fixed clock:

- digest deliveries (the channel's `digest:` or the rule's `delivery:`) wait for the end of
  their hour or day, then go out as one digest per (channel, rule);
- with a grouping window, immediate deliveries of one (channel, rule) due together go out as one
  grouped message, and after a message new ones wait for the window: a burst becomes a few
  messages (a zero window sends each alert on its own);
- a channel's rate limit (token bucket) caps messages per cycle; what exceeds it is merged into
  one overflow message that lists every alert (nothing is dropped) or, for a channel that cannot
  batch, waits for the next free slot.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from monitor.notify.base import ChannelPolicy

SendKind = Literal["single", "group", "digest", "overflow"]
IMMEDIATE = "immediate"
DIGEST_MODES = ("hourly", "daily")


@dataclass(frozen=True)
class Due:
    """One claimed delivery, as far as planning needs it."""

    delivery_id: int
    alert_id: int
    channel: str
    rule: str
    key: str
    attempts: int
    created_at: datetime
    requested_mode: str = IMMEDIATE  # the rule's `delivery`, stored with the alert


@dataclass(frozen=True)
class Send:
    """One message to send: one alert, or several as a group, digest or overflow summary."""

    channel: str
    kind: SendKind
    items: tuple[Due, ...]

    @property
    def key(self) -> str:
        """The idempotency key: the delivery's own, or one derived from the members' keys."""
        if self.kind == "single":
            return self.items[0].key
        digest = hashlib.sha256("|".join(sorted(d.key for d in self.items)).encode()).hexdigest()
        return f"grp_{digest[:40]}"


@dataclass
class Plan:
    sends: list[Send] = field(default_factory=list)
    deferred: dict[int, datetime] = field(default_factory=dict)

    def defer(self, items: Sequence[Due], until: datetime) -> None:
        for item in items:
            self.deferred[item.delivery_id] = until


def period_end(created: datetime, mode: str) -> datetime:
    """The end of the hour or (UTC) day that `created` falls in."""
    if mode == "hourly":
        return created.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return created.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


class RateLimiter:
    """Token buckets per channel: `rate` messages per second, bursts of up to `burst`."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, datetime]] = {}

    def take(self, channel: str, wanted: int, policy: ChannelPolicy, now: datetime) -> int:
        if policy.rate_limit is None:
            return wanted
        tokens, last = self._buckets.get(channel, (float(policy.burst), now))
        elapsed = max((now - last).total_seconds(), 0.0)
        tokens = min(float(policy.burst), tokens + elapsed * policy.rate_limit)
        allowed = min(wanted, int(tokens))
        self._buckets[channel] = (tokens - allowed, now)
        return allowed

    def next_slot(self, channel: str, policy: ChannelPolicy, now: datetime) -> datetime:
        if policy.rate_limit is None:
            return now
        tokens, _ = self._buckets.get(channel, (0.0, now))
        return now + timedelta(seconds=max(1.0 - tokens, 0.0) / policy.rate_limit)


def make_plan(
    due: Sequence[Due],
    *,
    now: datetime,
    policies: Mapping[str, ChannelPolicy],
    batchable: frozenset[str],
    grouping_window: timedelta,
    last_sent: Mapping[tuple[str, str], datetime],
    limiter: RateLimiter,
) -> Plan:
    """Decide what to send now and what to postpone (see the module docstring)."""
    plan = Plan()
    groups: dict[tuple[str, str, str], list[Due]] = defaultdict(list)
    for item in due:
        policy = policies.get(item.channel, ChannelPolicy())
        mode = policy.digest or item.requested_mode
        if mode in DIGEST_MODES and item.channel in batchable:
            end = period_end(item.created_at, mode)
            if item.attempts == 0 and now < end:
                plan.defer([item], end)
                continue
            groups[(item.channel, item.rule, "digest")].append(item)
        else:
            groups[(item.channel, item.rule, IMMEDIATE)].append(item)

    per_channel: dict[str, list[Send]] = defaultdict(list)
    for (channel, rule, mode), items in groups.items():
        if mode == "digest":
            per_channel[channel].append(Send(channel, "digest", tuple(items)))
            continue
        if channel not in batchable or not grouping_window:
            per_channel[channel] += [Send(channel, "single", (item,)) for item in items]
            continue
        previous = last_sent.get((channel, rule))
        if grouping_window and previous is not None and now < previous + grouping_window:
            fresh = [item for item in items if item.attempts == 0]
            plan.defer(fresh, previous + grouping_window)
            items = [item for item in items if item.attempts > 0]
        if len(items) == 1:
            per_channel[channel].append(Send(channel, "single", (items[0],)))
        elif items:
            per_channel[channel].append(Send(channel, "group", tuple(items)))

    for channel, sends in per_channel.items():
        policy = policies.get(channel, ChannelPolicy())
        allowed = limiter.take(channel, len(sends), policy, now)
        if allowed >= len(sends):
            plan.sends += sends
        elif allowed >= 1 and channel in batchable:
            plan.sends += sends[: allowed - 1]
            rest = tuple(item for send in sends[allowed - 1 :] for item in send.items)
            plan.sends.append(Send(channel, "overflow", rest))
        else:
            plan.sends += sends[:allowed]
            slot = limiter.next_slot(channel, policy, now)
            for send in sends[allowed:]:
                plan.defer(send.items, slot)
    return plan
