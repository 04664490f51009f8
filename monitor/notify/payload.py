"""The JSON form of an alert, shared by the webhook channel and `monitor alerts` output.

Its shape is documented by the JSON Schema in `docs/webhook-payload.schema.json`; bump
`SCHEMA_VERSION` on any incompatible change.
"""

from __future__ import annotations

import json
from typing import Any

from monitor.notify.base import AlertBatch, AlertMessage

SCHEMA_VERSION = 1


def alert_payload(alert: AlertMessage, *, channel: str) -> dict[str, Any]:
    """The JSON-serialisable payload for one alert."""
    return {
        "schema_version": SCHEMA_VERSION,
        "type": "alert",
        "alert_id": alert.alert_id,
        "channel": channel,
        "rule": alert.rule,
        "story_id": alert.story_id,
        "created_at": alert.created_at.isoformat(),
        "article": {
            "headline": alert.headline,
            "url": alert.url,
            "source": alert.source,
            "published": alert.published.isoformat() if alert.published else None,
            "language": alert.language,
        },
        "passages": [
            {
                "field": p.field,
                "text": p.text,
                "highlights": [list(h) for h in p.highlights],
                "clause": p.clause,
            }
            for p in alert.passages
        ],
        "also_carried_by": [
            {"source": c.source, "title": c.title, "url": c.url, "is_copy": c.is_copy}
            for c in alert.also_carried_by
        ],
    }


def batch_payload(batch: AlertBatch) -> dict[str, Any]:
    """The JSON payload for several alerts sent as one message (digest, group, overflow)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "type": "batch",
        "kind": batch.kind,
        "channel": batch.channel,
        "title": batch.title,
        "alerts": [alert_payload(a, channel=batch.channel) for a in batch.alerts],
        "updates": [alert_payload(a, channel=batch.channel) for a in batch.updates],
    }


def encode(payload: dict[str, Any]) -> bytes:
    """UTF-8 JSON; lone surrogates from broken feeds become U+FFFD instead of an exception."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"
    ).encode("utf-8")
