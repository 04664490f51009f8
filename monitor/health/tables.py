"""The persisted health state of each source: one `source_health` row per source.

The row holds the state last reported to the operator (`status`, and `since`, when the current
episode began), so notices are sent on transitions only, never per poll or per evaluation. It
also holds what the pipeline observed on the source's own URL: the size it usually serves and
whether the latest response was a placeholder (parked domain, "coming soon").
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from monitor.storage.tables import UTCDateTime, metadata, seen_entries

source_health = Table(
    "source_health",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("since", UTCDateTime()),
    Column("detail", Text),
    Column("tracked_since", UTCDateTime(), nullable=False),
    Column("typical_size", Integer),
    Column("typical_html", Boolean),
    Column("placeholder", Text),
    Column("placeholder_at", UTCDateTime()),
)

# Cadence and "last new entry" read each source's newest first-seen times.
Index("ix_seen_entries_source_first_seen", seen_entries.c.source, seen_entries.c.first_seen_at)
