"""The alert outbox: alerts and their per-channel deliveries, written with the rule match.

`enqueue` runs inside the caller's transaction, so an alert exists if and only if its match was
recorded. The unique constraint on (rule, story) makes "one alert per rule and story" hold even
when two replicas process copies of one story at the same moment. Each delivery gets its
idempotency key here, once; every retry and replay reuses it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from monitor.storage.tables import alerts, deliveries

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
DEAD = "dead"


def enqueue(
    conn: Connection,
    *,
    rule: str,
    story_id: int,
    article_id: int,
    payload: Mapping[str, Any],
    channels: Sequence[str],
    now: datetime,
    delivery: str = "immediate",
    joined_stories: Sequence[int] = (),
) -> int | None:
    """Create the alert and one pending delivery per channel; None if the story already alerted.

    `delivery` is the rule's `immediate`, `hourly` or `daily`; a channel's own `digest:` wins.
    `joined_stories` are stories since joined into `story_id`: an alert under any of them counts.
    """
    story_ids = {story_id, *joined_stories}
    exists = conn.execute(
        select(alerts.c.id).where(alerts.c.rule == rule, alerts.c.story_id.in_(story_ids))
    ).first()
    if exists is not None:
        return None
    try:
        with conn.begin_nested():
            inserted = conn.execute(
                alerts.insert().values(
                    rule=rule, story_id=story_id, article_id=article_id,
                    created_at=now, payload={**payload, "delivery": delivery},
                )
            ).inserted_primary_key
            assert inserted is not None
            alert_id = inserted[0]
    except IntegrityError:
        return None  # another replica alerted this (rule, story) first
    conn.execute(
        deliveries.insert(),
        [
            {
                "alert_id": alert_id,
                "channel": channel,
                "idempotency_key": f"msg_{uuid.uuid4().hex}",
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for channel in channels
        ],
    )
    return int(alert_id)
