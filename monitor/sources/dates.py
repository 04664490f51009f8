"""W3C datetimes of sitemaps and HTML `<time datetime>`, read leniently into aware UTC values."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_w3c(value: str | None) -> datetime | None:
    """`2026-11-26`, `2026-11-26T10:00Z`, `2026-11-26T10:00:00.5+01:00`... else None."""
    if not value:
        return None
    text = value.strip()[:40]
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
