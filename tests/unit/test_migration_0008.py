"""The 0008 migration stores SQLite's dedup look-up tables WITHOUT ROWID, keeps their rows and
indexes, and undoes it; tables.py declares the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from monitor.storage.tables import metadata
from tests.support.migrations import migrated, schema_diff

TABLES = ("dedup_fingerprints", "dedup_story_keys")


def _ddl(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", TABLES
        )
        return {name: sql for name, sql in rows}


def _ours(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    table = getattr(obj, "table", obj)
    return getattr(table, "name", name) in TABLES


def test_rows_survive_both_ways_and_the_tables_are_clustered(tmp_path: Path) -> None:
    engine, config = migrated(tmp_path, "0007_canonical_url_id")
    published = datetime(2026, 11, 26, tzinfo=UTC).isoformat(" ")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO dedup_fingerprints (hash, article_id) VALUES (7, 1), (-3, 2), (7, 2)"
        )
        conn.exec_driver_sql(
            "INSERT INTO dedup_story_keys (key, article_id, story_id, published_at) "
            "VALUES ('moura', 1, 1, ?), ('mopti', 2, 1, ?)",
            (published, published),
        )
    assert not any("WITHOUT ROWID" in sql for sql in _ddl(engine).values())

    command.upgrade(config, "head")
    assert all(sql.endswith("WITHOUT ROWID") for sql in _ddl(engine).values())
    with engine.connect() as conn:
        prints = conn.exec_driver_sql("SELECT hash, article_id FROM dedup_fingerprints").all()
        keys = conn.exec_driver_sql("SELECT key, article_id, story_id FROM dedup_story_keys").all()
    assert schema_diff(engine, _ours) == []
    assert sorted(prints) == [(-3, 2), (7, 1), (7, 2)]
    assert sorted(keys) == [("mopti", 2, 1), ("moura", 1, 1)]

    command.downgrade(config, "0007_canonical_url_id")
    assert not any("WITHOUT ROWID" in sql for sql in _ddl(engine).values())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM dedup_fingerprints").scalar() == 3
    engine.dispose()


def test_the_declared_tables_create_the_same_clustered_tables(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'declared.sqlite'}")
    metadata.create_all(engine, tables=[metadata.tables[name] for name in TABLES])
    assert all("WITHOUT ROWID" in sql for sql in _ddl(engine).values())
    engine.dispose()
