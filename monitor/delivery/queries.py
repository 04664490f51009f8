"""Read and maintenance queries behind `monitor alerts`: listing and replay.

Replay puts deliveries back to `pending` with their original idempotency key and restarts their
retry schedule; their attempt history is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, exists, select, update

from monitor.delivery.outbox import PENDING
from monitor.delivery.tables import delivery_progress
from monitor.storage.db import READ_ONLY
from monitor.storage.tables import alerts, deliveries


@dataclass(frozen=True)
class DeliveryState:
    channel: str
    state: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    idempotency_key: str


@dataclass(frozen=True)
class AlertRow:
    alert_id: int
    created_at: datetime
    rule: str
    headline: str
    deliveries: tuple[DeliveryState, ...]


def list_alerts(engine: Engine, *, since: datetime | None, state: str | None,
                limit: int) -> list[AlertRow]:
    query = select(alerts).order_by(alerts.c.created_at.desc(), alerts.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(alerts.c.created_at >= since)
    if state is not None:
        query = query.where(exists().where(deliveries.c.alert_id == alerts.c.id,
                                           deliveries.c.state == state))
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        rows = conn.execute(query).mappings().all()
        ids = [int(r["id"]) for r in rows]
        found = conn.execute(select(deliveries).where(deliveries.c.alert_id.in_(ids))
                             .order_by(deliveries.c.channel)).mappings().all()
    per_alert: dict[int, list[DeliveryState]] = {}
    for d in found:
        per_alert.setdefault(int(d["alert_id"]), []).append(DeliveryState(
            d["channel"], d["state"], int(d["attempts"]), d["last_error"], d["sent_at"],
            d["idempotency_key"]))
    return [
        AlertRow(int(r["id"]), r["created_at"], str(r["rule"]),
                 str((r["payload"] or {}).get("headline", "")),
                 tuple(per_alert.get(int(r["id"]), ())))
        for r in rows
    ]


def requeue(engine: Engine, *, now: datetime, alert_ids: Sequence[int] = (),
            since: datetime | None = None, until: datetime | None = None,
            channel: str | None = None, states: Sequence[str] = ("failed", "dead")) -> int:
    """Make matching deliveries pending again, due now; returns how many."""
    conditions: list[ColumnElement[bool]] = []
    if alert_ids:
        conditions.append(alerts.c.id.in_(list(alert_ids)))
    if since is not None:
        conditions.append(alerts.c.created_at >= since)
    if until is not None:
        conditions.append(alerts.c.created_at <= until)
    chosen = select(alerts.c.id).where(*conditions)
    where: list[ColumnElement[bool]] = [
        deliveries.c.alert_id.in_(chosen), deliveries.c.state.in_(list(states))
    ]
    if channel:
        where.append(deliveries.c.channel == channel)
    with engine.begin() as conn:
        ids = conn.execute(select(deliveries.c.id).where(*where)).scalars().all()
        if not ids:
            return 0
        conn.execute(update(deliveries).where(deliveries.c.id.in_(ids)).values(
            state=PENDING, next_attempt_at=now, lease_owner=None, lease_until=None,
            last_error=None))
        conn.execute(update(delivery_progress).where(delivery_progress.c.delivery_id.in_(ids))
                     .values(first_attempt_at=None))
    return len(ids)
