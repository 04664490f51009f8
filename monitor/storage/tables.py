"""The database schema of the core pipeline, as SQLAlchemy Core tables on one shared `metadata`.

Other packages (deduplication, delivery) declare their own tables on the same `metadata` in their
own modules; Alembic migrations under `monitor/storage/migrations/versions` create them all. Every
piece of state that must survive a crash is a row here: poll schedule, seen entries, articles,
rule matches, the alert outbox and per-channel deliveries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BigInteger ids on PostgreSQL, INTEGER (rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

sources = Table(
    "sources",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("url", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("next_poll_at", UTCDateTime()),
    Column("last_polled_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_kind", String(40)),
    Column("backlog_seen", Boolean, nullable=False, default=False),
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime()),
    # 0004_pipeline: disabled on HTTP 410, feed cut to the newest N, articles skipped by budget
    Column("disabled_at", UTCDateTime()),
    Column("disabled_reason", Text),
    Column("entries_cut", Integer, nullable=False, default=0, server_default="0"),
    Column("last_note", Text),
    Column("skipped_count", Integer, nullable=False, default=0, server_default="0"),
    Column("last_skipped", Text),
)
Index("ix_sources_next_poll_at", sources.c.next_poll_at)

seen_entries = Table(
    "seen_entries",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("entry_key", String(700), primary_key=True),
    Column("first_seen_at", UTCDateTime(), nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False, index=True),
    Column("guid", Text),
    Column("url", Text, nullable=False),
    Column("canonical_url", String(2000), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("author", Text),
    Column("site_name", Text),
    Column("language", String(20)),
    Column("published_at", UTCDateTime()),
    Column("fetched_at", UTCDateTime(), nullable=False, index=True),
    Column("extraction", String(20), nullable=False),
    Column("tags", JSON, nullable=False, default=list),
    Column("story_id", BigInteger, index=True),
    Column("copy_of", BigInteger, index=True),
)
# the write stage looks up the earliest article with a canonical URL (migration 0007)
Index("ix_articles_canonical_url_id", articles.c.canonical_url, articles.c.id)

rule_matches = Table(
    "rule_matches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("article_id", BigInteger, ForeignKey("articles.id"), nullable=False),
    Column("rule", String(200), nullable=False, index=True),
    Column("matched_at", UTCDateTime(), nullable=False),
    Column("explanation", JSON, nullable=False),
    UniqueConstraint("article_id", "rule", name="uq_rule_matches_article_rule"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("rule", String(200), nullable=False),
    Column("story_id", BigInteger, nullable=False),
    Column("article_id", BigInteger, ForeignKey("articles.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("rule", "story_id", name="uq_alerts_rule_story"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("alert_id", BigInteger, ForeignKey("alerts.id"), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("idempotency_key", String(100), nullable=False, unique=True),
    Column("state", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False, index=True),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime()),
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime()),
    UniqueConstraint("alert_id", "channel", name="uq_deliveries_alert_channel"),
)
