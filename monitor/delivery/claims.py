"""Reading and leasing the outbox: which deliveries are due, and who holds them.

A cycle claims due rows with one UPDATE under a fresh lease token (on PostgreSQL the candidate
rows are picked `FOR UPDATE SKIP LOCKED`, so replicas never wait on each other), then reads back
exactly the rows holding that token. The worker renews the lease before each wave of sends
(`renew`), so a cycle longer than one lease keeps its rows. A replica that dies keeps its lease
until `lease_until`, after which any replica takes the rows over. Every later write is
conditioned on the token, so a worker whose lease expired cannot overwrite the new holder's
outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, update

from monitor.delivery.outbox import PENDING, SENT
from monitor.delivery.plan import IMMEDIATE, Due
from monitor.delivery.tables import delivery_channels
from monitor.storage.db import READ_ONLY
from monitor.storage.tables import alerts, deliveries


def _lease_free(now: datetime) -> Any:
    return or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now)


def claim(engine: Engine, token: str, now: datetime, lease: timedelta, limit: int) -> list[Due]:
    """Lease up to `limit` due pending deliveries to `token` and return them, oldest first."""
    candidates = (
        select(deliveries.c.id)
        .where(deliveries.c.state == PENDING, deliveries.c.next_attempt_at <= now,
               _lease_free(now))
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with engine.begin() as conn:
        ids = conn.execute(candidates).scalars().all()
        if not ids:
            return []
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids), deliveries.c.state == PENDING, _lease_free(now))
            .values(lease_owner=token, lease_until=now + lease)
        )
    return held(engine, token)


def held(engine: Engine, token: str) -> list[Due]:
    query = (
        select(deliveries.c.id, deliveries.c.alert_id, deliveries.c.channel,
               deliveries.c.idempotency_key, deliveries.c.attempts, alerts.c.rule,
               alerts.c.created_at, alerts.c.payload)
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .where(deliveries.c.lease_owner == token, deliveries.c.state == PENDING)
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
    )
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        rows = conn.execute(query).all()
    return [
        Due(delivery_id=int(r.id), alert_id=int(r.alert_id), channel=str(r.channel),
            rule=str(r.rule), key=str(r.idempotency_key), attempts=int(r.attempts),
            created_at=r.created_at,
            requested_mode=str((r.payload or {}).get("delivery") or IMMEDIATE))
        for r in rows
    ]


def renew(engine: Engine, token: str, now: datetime, lease: timedelta) -> set[int]:
    """Extend the lease on every pending row `token` still holds; returns their ids.

    Called before each wave of sends, so a long cycle never outlives its lease. A row missing
    from the result was taken over by another replica (our lease had expired): it must not be
    sent by us.
    """
    with engine.begin() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.lease_owner == token, deliveries.c.state == PENDING)
            .values(lease_until=now + lease)
        )
        ids = conn.execute(
            select(deliveries.c.id)
            .where(deliveries.c.lease_owner == token, deliveries.c.state == PENDING)
        ).scalars().all()
    return {int(i) for i in ids}


def release(engine: Engine, token: str, delivery_ids: Iterable[int]) -> None:
    """Give rows back untouched (not an attempt), for any replica's next cycle."""
    ids = list(delivery_ids)
    if not ids:
        return
    with engine.begin() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids), deliveries.c.lease_owner == token)
            .values(lease_owner=None, lease_until=None)
        )


def postpone(engine: Engine, token: str, until: Mapping[int, datetime]) -> None:
    """Give deferred deliveries back with a later due time (not an attempt)."""
    if not until:
        return
    with engine.begin() as conn:
        for delivery_id, when in until.items():
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.lease_owner == token)
                .values(next_attempt_at=when, lease_owner=None, lease_until=None)
            )


def last_sent(
    conn: Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], datetime]:
    """When each (channel, rule) last had a message accepted."""
    result: dict[tuple[str, str], datetime] = {}
    for channel, rule in set(pairs):
        when = conn.execute(
            select(func.max(deliveries.c.sent_at))
            .join(alerts, alerts.c.id == deliveries.c.alert_id)
            .where(and_(deliveries.c.channel == channel, alerts.c.rule == rule,
                        deliveries.c.state == SENT))
        ).scalar()
        if when is not None:
            result[(channel, rule)] = when
    return result


def disabled_channels(conn: Connection) -> dict[str, str]:
    rows = conn.execute(
        select(delivery_channels.c.channel, delivery_channels.c.disabled_reason)
        .where(delivery_channels.c.disabled_at.is_not(None))
    ).all()
    return {str(r.channel): str(r.disabled_reason or "disabled") for r in rows}
