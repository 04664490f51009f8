"""Recording the outcome of one send: the delivery state machine in one place.

pending --accepted--> sent
pending --retryable failure, schedule not spent--> pending (next_attempt_at = backoff + jitter,
        or the receiver's Retry-After if longer)
pending --retryable failure, schedule spent--> dead      (operator told once)
pending --permanent failure--> failed                    (operator told once)
pending --HTTP 410--> failed, and the channel disabled   (operator told once)

The schedule starts at a delivery's first attempt (`delivery_progress.first_attempt_at`; replay
resets it) and is spent `give_up_after` later. Every attempt is appended to `delivery_attempts`.
Every write is conditioned on the lease token (the row is locked, and the UPDATE itself says
`lease_owner = token`), so a worker whose lease was taken over changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from monitor.delivery.notices import create_notice
from monitor.delivery.outbox import DEAD, FAILED, SENT
from monitor.delivery.plan import Due, Send
from monitor.delivery.tables import delivery_attempts, delivery_channels, delivery_progress
from monitor.errors import DeliveryError
from monitor.storage.tables import deliveries


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter (half fixed, half random), for `give_up_after` in total."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=2)
    give_up_after: timedelta = timedelta(hours=26)

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        exponent = min(max(attempts - 1, 0), 40)
        ceiling = min(self.cap.total_seconds(), self.base.total_seconds() * 2**exponent)
        return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


@dataclass(frozen=True)
class Recorder:
    """What outcome recording needs besides the send itself."""

    policy: RetryPolicy
    rng: random.Random
    operator_channels: Sequence[str]


def first_attempt(conn: Connection, delivery_id: int, now: datetime) -> datetime:
    started = conn.execute(
        select(delivery_progress.c.first_attempt_at)
        .where(delivery_progress.c.delivery_id == delivery_id)
    ).first()
    if started is None:
        conn.execute(delivery_progress.insert().values(
            delivery_id=delivery_id, first_attempt_at=now, carriers_shown=0))
        return now
    if started[0] is None:
        conn.execute(update(delivery_progress)
                     .where(delivery_progress.c.delivery_id == delivery_id)
                     .values(first_attempt_at=now))
        return now
    started_at: datetime = started[0]
    return started_at


def _started(conn: Connection, delivery_id: int, now: datetime) -> datetime:
    """When the retry schedule started (`now` for a first attempt), without writing it."""
    started: datetime | None = conn.execute(
        select(delivery_progress.c.first_attempt_at)
        .where(delivery_progress.c.delivery_id == delivery_id)
    ).scalar()
    return started or now


def _still_ours(conn: Connection, item: Due, token: str) -> bool:
    """Whether `token` holds the row; on PostgreSQL the row stays locked until commit."""
    owner = conn.execute(
        select(deliveries.c.lease_owner).where(deliveries.c.id == item.delivery_id)
        .with_for_update()
    ).scalar()
    return owner == token


def _write_if_ours(conn: Connection, item: Due, token: str, values: Mapping[str, object]) -> bool:
    """The final state write, only while `token` still holds the lease (True when written)."""
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == item.delivery_id, deliveries.c.lease_owner == token)
        .values(**values)
    )
    return result.rowcount == 1


def _log_attempt(conn: Connection, item: Due, send: Send, now: datetime, outcome: str,
                 error: str | None) -> None:
    conn.execute(delivery_attempts.insert().values(
        delivery_id=item.delivery_id, attempt=item.attempts + 1, attempted_at=now,
        outcome=outcome, error=error, message_key=send.key))


def record_success(conn: Connection, send: Send, token: str, now: datetime,
                   carriers_shown: Mapping[int, int]) -> int:
    """Mark every item sent; returns how many were still ours."""
    count = 0
    for item in send.items:
        if not _still_ours(conn, item, token) or not _write_if_ours(conn, item, token, {
                "state": SENT, "sent_at": now, "attempts": item.attempts + 1,
                "last_error": None, "lease_owner": None, "lease_until": None}):
            continue
        first_attempt(conn, item.delivery_id, now)
        conn.execute(update(delivery_progress)
                     .where(delivery_progress.c.delivery_id == item.delivery_id)
                     .values(carriers_shown=carriers_shown.get(item.alert_id, 0)))
        _log_attempt(conn, item, send, now, SENT, None)
        count += 1
    return count


def record_failure(conn: Connection, send: Send, token: str, now: datetime,
                   error: DeliveryError, recorder: Recorder) -> dict[str, int]:
    """Reschedule, dead-letter or fail each item; returns counts by resulting state."""
    counts = {"retrying": 0, DEAD: 0, FAILED: 0}
    given_up: list[Due] = []
    for item in send.items:
        if not _still_ours(conn, item, token):
            continue
        started = _started(conn, item.delivery_id, now)
        values: dict[str, object] = {"attempts": item.attempts + 1, "last_error": str(error),
                                     "lease_owner": None, "lease_until": None}
        if error.retryable and now - started < recorder.policy.give_up_after:
            delay = recorder.policy.delay(item.attempts + 1, recorder.rng)
            if error.retry_after is not None:
                delay = max(delay, timedelta(seconds=error.retry_after))
            values["next_attempt_at"] = now + delay
            outcome = "retrying"
        else:
            outcome = DEAD if error.retryable else FAILED
            values["state"] = outcome
            given_up.append(item)
        if not _write_if_ours(conn, item, token, values):
            continue
        first_attempt(conn, item.delivery_id, now)
        _log_attempt(conn, item, send, now, outcome, str(error))
        counts[outcome] += 1
    if error.disable_endpoint:
        disable_channel(conn, send.channel, str(error), now, recorder.operator_channels)
    elif given_up:
        _tell_dead(conn, send, given_up, error, now, recorder.operator_channels)
    return counts


def _tell_dead(conn: Connection, send: Send, items: Sequence[Due], error: DeliveryError,
               now: datetime, operator_channels: Sequence[str]) -> None:
    state = "dead-lettered" if error.retryable else "failed permanently"
    ids = ", ".join(str(item.alert_id) for item in items)
    create_notice(
        conn, key=f"dead:{send.channel}:{send.key}",
        title=f"Delivery to channel {send.channel} {state} ({len(items)} alert(s))",
        body=(f"Alerts {ids} could not be delivered to {send.channel}: {error}. "
              f"After fixing the channel run: monitor alerts replay {ids.replace(',', '')}"),
        now=now, operator_channels=[c for c in operator_channels if c != send.channel],
    )


def disable_channel(conn: Connection, channel: str, reason: str, now: datetime,
                    operator_channels: Sequence[str]) -> None:
    """Persist that the endpoint is gone (HTTP 410) and tell the operator once."""
    exists = conn.execute(select(delivery_channels.c.channel)
                          .where(delivery_channels.c.channel == channel)).first()
    if exists is None:
        conn.execute(delivery_channels.insert().values(
            channel=channel, disabled_at=now, disabled_reason=reason))
    else:
        conn.execute(update(delivery_channels).where(delivery_channels.c.channel == channel)
                     .values(disabled_at=now, disabled_reason=reason))
    create_notice(
        conn, key=f"disabled:{channel}:{now.isoformat()}",
        title=f"Channel {channel} disabled: the receiver says it is gone (HTTP 410)",
        body=(f"{reason}. Its deliveries are marked failed. Fix the channel in feeds.yaml, then "
              f"run: monitor alerts enable {channel} && monitor alerts replay --channel "
              f"{channel} --state failed"),
        now=now, operator_channels=[c for c in operator_channels if c != channel],
    )


def fail_disabled(conn: Connection, items: Sequence[Due], token: str, now: datetime,
                  reason: str) -> None:
    """Deliveries to a disabled channel fail without an attempt (no new notice)."""
    for item in items:
        conn.execute(update(deliveries).where(deliveries.c.id == item.delivery_id,
                                              deliveries.c.lease_owner == token).values(
            state=FAILED, last_error=f"channel disabled: {reason}",
            lease_owner=None, lease_until=None))
