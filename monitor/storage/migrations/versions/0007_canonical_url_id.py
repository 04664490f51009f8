"""The canonical-URL look-up index also orders by id.

The write stage asks, for every new article, for the earliest other article with the same
canonical URL (`WHERE canonical_url = ? ORDER BY id LIMIT 1`). With an index on the URL alone,
PostgreSQL without fresh statistics walked the primary key in id order instead (67 ms per look-up
at 38,000 articles, growing with the table); an index on (canonical_url, id) answers the filter
and the order at once whatever the statistics say.
"""

from __future__ import annotations

from alembic import op

revision = "0007_canonical_url_id"
down_revision = "0006_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_canonical_url_id", "articles", ["canonical_url", "id"])
    op.drop_index("ix_articles_canonical_url", table_name="articles")


def downgrade() -> None:
    op.create_index("ix_articles_canonical_url", "articles", ["canonical_url"])
    op.drop_index("ix_articles_canonical_url_id", table_name="articles")
