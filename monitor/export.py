"""`monitor export`: stored articles with story, copy and rule matches, as JSON lines or CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TextIO

FIELDS = (
    "id",
    "url",
    "canonical_url",
    "source",
    "title",
    "language",
    "published",
    "fetched",
    "story_id",
    "copy_of",
    "rules",
)


def export_record(row: Mapping[str, Any]) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row["id"],
        "url": row["url"],
        "canonical_url": row["canonical_url"],
        "source": row["source"],
        "title": row["title"],
        "language": row["language"],
        "published": iso(row["published_at"]),
        "fetched": iso(row["fetched_at"]),
        "story_id": row["story_id"],
        "copy_of": row["copy_of"],
        "rules": list(row["rules"]),
    }


def write_jsonl(rows: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(export_record(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for row in rows:
        record = export_record(row)
        record["rules"] = ";".join(record["rules"])
        record = {k: _cell(v) for k, v in record.items()}
        writer.writerow(record)
        count += 1
    return count


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in feed-derived text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
