"""The 0009 migration makes PostgreSQL's autovacuum visit the dedup look-up tables after a fixed
number of inserted rows (so their look-ups stay index-only scans), undoes it, and tables.py
declares the same; SQLite is left as it was."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from monitor.storage.db import alembic_config, open_database
from monitor.storage.tables import metadata
from tests.support.migrations import migrated

migration = importlib.import_module("monitor.storage.migrations.versions.0009_vacuum_inserts")
TABLES = tuple(migration.INSERT_THRESHOLDS)


def _options(engine: sa.Engine) -> dict[str, list[str] | None]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", (list(TABLES),)
        )
        return {name: (sorted(options) if options else None) for name, options in rows}


def _expected(table: str) -> list[str]:
    rows = migration.INSERT_THRESHOLDS[table]
    return sorted(
        [
            f"autovacuum_vacuum_insert_threshold={rows}",
            "autovacuum_vacuum_insert_scale_factor=0",
        ]
    )


@pytest.mark.postgres
def test_postgres_tables_get_the_insert_thresholds_and_lose_them_on_downgrade(
    pg_url: str,
) -> None:
    engine = open_database(pg_url)
    try:
        assert _options(engine) == {t: _expected(t) for t in TABLES}
        config = alembic_config(engine)
        command.downgrade(config, "0008_without_rowid")
        assert _options(engine) == {t: None for t in TABLES}
        command.upgrade(config, "head")
        assert _options(engine) == {t: _expected(t) for t in TABLES}
    finally:
        engine.dispose()


def test_the_declared_tables_carry_the_same_settings() -> None:
    for table in TABLES:
        ddl = str(CreateTable(metadata.tables[table]).compile(dialect=postgresql.dialect()))
        rows = migration.INSERT_THRESHOLDS[table]
        assert (
            f"WITH (autovacuum_vacuum_insert_threshold = {rows}, "
            "autovacuum_vacuum_insert_scale_factor = 0)"
        ) in ddl


def test_sqlite_is_unchanged_both_ways(tmp_path: Path) -> None:
    engine, config = migrated(tmp_path, "0008_without_rowid")
    before = sa.inspect(engine).get_table_names()
    command.upgrade(config, "head")
    command.downgrade(config, "0008_without_rowid")
    assert sa.inspect(engine).get_table_names() == before
    engine.dispose()
