"""Turns an outbox row into the `AlertMessage` channels render.

The alert's payload (headline, link, passages...) is frozen when the alert is created; the list
of other outlets is read when the message is sent, so it includes copies that arrived later (and
digests can list stories that gained outlets since they were sent: `story_updates`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from monitor.bounds import DEFAULT_BOUNDS, FieldBounds, clip, clip_url
from monitor.delivery.outbox import SENT
from monitor.delivery.tables import delivery_progress
from monitor.notify.base import AlertMessage, Carrier, PassageView
from monitor.storage.tables import alerts, deliveries

CarriersLookup = Callable[[Connection, int, int], Sequence[Carrier]]


def no_carriers(conn: Connection, story_id: int, article_id: int) -> Sequence[Carrier]:
    return ()


def build_payload(
    *,
    headline: str,
    url: str,
    source: str,
    published: datetime | None,
    language: str | None,
    passages: Sequence[Mapping[str, Any]],
    bounds: FieldBounds = DEFAULT_BOUNDS,
) -> dict[str, Any]:
    """The frozen part of an alert, stored in `alerts.payload`; fields within `bounds`."""
    return {
        "headline": clip(headline, bounds.title),
        "url": clip_url(url, bounds.url),
        "source": source,
        "published": published.isoformat() if published else None,
        "language": clip(language, 35) if language else None,
        "passages": [_bounded_passage(p, bounds.summary) for p in passages],
    }


def _bounded_passage(passage: Mapping[str, Any], limit: int) -> dict[str, Any]:
    """A passage whose text is within `limit`; highlights past the cut are dropped."""
    bounded = dict(passage)
    text = str(bounded.get("text", ""))
    if len(text) > limit:
        bounded["text"] = clip(text, limit)
        bounded["highlights"] = [h for h in bounded.get("highlights", ()) if h[1] < limit]
    return bounded


def passages_from(raw: Sequence[Mapping[str, Any]]) -> tuple[PassageView, ...]:
    return tuple(
        PassageView(
            text=str(p.get("text", "")),
            highlights=tuple((int(a), int(b)) for a, b in p.get("highlights", ())),
            clause=str(p.get("clause", "")),
            field=str(p.get("field", "body")),
        )
        for p in raw
    )


def alert_message(
    conn: Connection,
    row: Mapping[str, Any],
    carriers: CarriersLookup = no_carriers,
) -> AlertMessage:
    """Build the message for an `alerts` row (mapping with id, rule, story_id, article_id...)."""
    payload = row["payload"]
    published = payload.get("published")
    return AlertMessage(
        alert_id=int(row["id"]),
        rule=str(row["rule"]),
        headline=clip(str(payload.get("headline", "")), DEFAULT_BOUNDS.title),
        url=clip_url(str(payload.get("url", "")), DEFAULT_BOUNDS.url),
        source=str(payload.get("source", "")),
        published=datetime.fromisoformat(published) if published else None,
        language=payload.get("language"),
        story_id=int(row["story_id"]),
        created_at=row["created_at"],
        passages=passages_from(payload.get("passages", ())),
        also_carried_by=tuple(carriers(conn, int(row["story_id"]), int(row["article_id"]))),
    )


def _alert_rows(conn: Connection, alert_ids: Sequence[int]) -> dict[int, Mapping[str, Any]]:
    rows = conn.execute(select(alerts).where(alerts.c.id.in_(list(alert_ids)))).mappings().all()
    return {int(row["id"]): dict(row) for row in rows}


def messages_for(
    conn: Connection, alert_ids: Sequence[int], carriers: CarriersLookup = no_carriers
) -> list[AlertMessage]:
    """The messages for these alerts, in the order given."""
    rows = _alert_rows(conn, alert_ids)
    return [alert_message(conn, rows[alert_id], carriers) for alert_id in alert_ids]


def story_updates(
    conn: Connection,
    *,
    channel: str,
    rule: str,
    since: datetime,
    carriers: CarriersLookup = no_carriers,
) -> list[tuple[int, AlertMessage]]:
    """Alerts of (channel, rule) sent since `since` whose story gained outlets since shown."""
    rows = conn.execute(
        select(deliveries.c.id, deliveries.c.alert_id, delivery_progress.c.carriers_shown)
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .join(delivery_progress, delivery_progress.c.delivery_id == deliveries.c.id)
        .where(deliveries.c.channel == channel, alerts.c.rule == rule,
               deliveries.c.state == SENT, deliveries.c.sent_at >= since)
    ).all()
    if not rows:
        return []
    found = _alert_rows(conn, [int(r.alert_id) for r in rows])
    updates = []
    for row in rows:
        message = alert_message(conn, found[int(row.alert_id)], carriers)
        if len(message.also_carried_by) > int(row.carriers_shown or 0):
            updates.append((int(row.id), message))
    return updates
