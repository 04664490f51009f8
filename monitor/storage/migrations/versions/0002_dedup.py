"""Deduplication index: documents, winnowed fingerprints, story keys, key counts and stories.

Mirrors `monitor/dedup/tables.py`; see docs/dedup.md for what each table holds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_dedup"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dedup_stories",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("first_article_id", sa.BigInteger, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dedup_stories"),
        sa.UniqueConstraint("first_article_id", name="uq_dedup_stories_first_article_id"),
    )
    op.create_index("ix_dedup_stories_last_seen_at", "dedup_stories", ["last_seen_at"])
    op.create_table(
        "dedup_documents",
        sa.Column("article_id", sa.BigInteger, autoincrement=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("shingle_count", sa.Integer, nullable=False),
        sa.Column("shingles", sa.LargeBinary, nullable=False),
        sa.Column("copy_of", sa.BigInteger),
        sa.Column("story_id", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_dedup_documents"),
    )
    op.create_index("ix_dedup_documents_seen_at", "dedup_documents", ["seen_at"])
    op.create_index("ix_dedup_documents_text_hash", "dedup_documents", ["text_hash"])
    op.create_index("ix_dedup_documents_story_id", "dedup_documents", ["story_id"])
    op.create_table(
        "dedup_fingerprints",
        sa.Column("hash", sa.BigInteger, autoincrement=False),
        sa.Column("article_id", sa.BigInteger, autoincrement=False),
        sa.PrimaryKeyConstraint("hash", "article_id", name="pk_dedup_fingerprints"),
    )
    op.create_index("ix_dedup_fingerprints_article_id", "dedup_fingerprints", ["article_id"])
    op.create_table(
        "dedup_story_keys",
        sa.Column("key", sa.String(120)),
        sa.Column("article_id", sa.BigInteger, autoincrement=False),
        sa.Column("story_id", sa.BigInteger, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id", name="pk_dedup_story_keys"),
    )
    op.create_index("ix_dedup_story_keys_article_id", "dedup_story_keys", ["article_id"])
    op.create_table(
        "dedup_key_counts",
        sa.Column("key", sa.String(120)),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_dedup_key_counts"),
    )


def downgrade() -> None:
    op.drop_table("dedup_key_counts")
    op.drop_table("dedup_story_keys")
    op.drop_table("dedup_fingerprints")
    op.drop_table("dedup_documents")
    op.drop_table("dedup_stories")
