"""The 0007 migration gives articles exactly the canonical-URL index tables.py declares, and
undoes it; on PostgreSQL the write stage's look-up (filter on the URL, order by id) is answered
by that index on a table that was never analysed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from monitor.storage.db import open_database
from monitor.storage.tables import articles
from tests.support.migrations import migrated, schema_diff

NEW, OLD = "ix_articles_canonical_url_id", "ix_articles_canonical_url"


def _ours(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    return kind == "index" and name in (NEW, OLD)


def test_migration_matches_the_declared_index(tmp_path: Path) -> None:
    engine, config = migrated(tmp_path)
    assert schema_diff(engine, _ours) == []
    command.downgrade(config, "0006_health")
    names = {ix["name"] for ix in sa.inspect(engine).get_indexes("articles")}
    assert OLD in names and NEW not in names
    engine.dispose()


@pytest.mark.postgres
def test_postgres_looks_up_a_canonical_url_through_the_index(pg_url: str) -> None:
    engine = open_database(pg_url)
    with engine.begin() as conn:
        conn.execute(
            articles.insert(),
            [
                {
                    "source": "s",
                    "url": f"https://ex.org/{i}",
                    "canonical_url": f"https://ex.org/{i}",
                    "title": "t",
                    "text": "x",
                    "fetched_at": datetime(2026, 11, 26, tzinfo=UTC),
                    "extraction": "feed",
                    "tags": [],
                }
                for i in range(3000)
            ],
        )
        plan = "\n".join(
            conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM articles WHERE canonical_url = 'https://ex.org/7' "
                "AND id != 1 ORDER BY id LIMIT 1"
            ).scalars()
        )
    engine.dispose()
    assert NEW in plan, plan
