"""Initial schema: sources, seen entries, articles, rule matches, alert outbox, deliveries."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("next_poll_at", TS),
        sa.Column("last_polled_at", TS),
        sa.Column("last_success_at", TS),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_kind", sa.String(40)),
        sa.Column("backlog_seen", sa.Boolean, nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", TS),
    )
    op.create_table(
        "seen_entries",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("entry_key", sa.String(700), primary_key=True),
        sa.Column("first_seen_at", TS, nullable=False),
    )
    op.create_table(
        "articles",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False, index=True),
        sa.Column("guid", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("canonical_url", sa.String(2000), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("site_name", sa.Text),
        sa.Column("language", sa.String(20)),
        sa.Column("published_at", TS),
        sa.Column("fetched_at", TS, nullable=False, index=True),
        sa.Column("extraction", sa.String(20), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("story_id", sa.BigInteger, index=True),
        sa.Column("copy_of", sa.BigInteger, index=True),
    )
    op.create_table(
        "rule_matches",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.BigInteger, sa.ForeignKey("articles.id"), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False, index=True),
        sa.Column("matched_at", TS, nullable=False),
        sa.Column("explanation", sa.JSON, nullable=False),
        sa.UniqueConstraint("article_id", "rule", name="uq_rule_matches_article_rule"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("story_id", sa.BigInteger, nullable=False),
        sa.Column("article_id", sa.BigInteger, sa.ForeignKey("articles.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False, index=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.UniqueConstraint("rule", "story_id", name="uq_alerts_rule_story"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.BigInteger, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False, unique=True),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False, index=True),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", TS),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", TS),
        sa.UniqueConstraint("alert_id", "channel", name="uq_deliveries_alert_channel"),
    )


def downgrade() -> None:
    for table in ("deliveries", "alerts", "rule_matches", "articles", "seen_entries", "sources"):
        op.drop_table(table)
