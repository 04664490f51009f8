"""The 0006_health migration creates exactly what monitor/health/tables.py declares, and undoes it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from monitor.health.tables import source_health
from tests.support.migrations import migrated, schema_diff

INDEX = "ix_seen_entries_source_first_seen"


def _ours(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    table = obj if isinstance(obj, sa.Table) else getattr(obj, "table", None)
    return name == INDEX or (isinstance(table, sa.Table) and table.name == source_health.name)


def test_migration_matches_the_declared_table(tmp_path: Path) -> None:
    engine, config = migrated(tmp_path)
    assert schema_diff(engine, _ours) == []
    command.downgrade(config, "0005_dedup2")
    inspector = sa.inspect(engine)
    assert "source_health" not in inspector.get_table_names()
    assert INDEX not in {ix["name"] for ix in inspector.get_indexes("seen_entries")}
    engine.dispose()
