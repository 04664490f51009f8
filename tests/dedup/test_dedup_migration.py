"""The 0002_dedup migration creates exactly the tables declared in monitor/dedup/tables.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

import monitor.storage
from monitor.dedup.tables import DEDUP_TABLES
from monitor.storage.tables import metadata

MIGRATIONS = Path(monitor.storage.__file__).parent / "migrations"


def _ours(obj: object, ours: set[str]) -> bool:
    table = obj if isinstance(obj, sa.Table) else getattr(obj, "table", None)
    return isinstance(table, sa.Table) and table.name in ours


def test_migration_matches_the_declared_tables(tmp_path: Path) -> None:
    if not (MIGRATIONS / "env.py").exists():
        pytest.skip("monitor/storage/migrations/env.py does not exist yet")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrated.sqlite'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    command.upgrade(config, "head")
    ours = {t.name for t in DEDUP_TABLES}
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"include_object": lambda obj, name, kind, reflected, other: _ours(obj, ours)},
        )
        diff = compare_metadata(context, metadata)
    assert diff == []
    command.downgrade(config, "0001_initial")
    assert not ours & set(sa.inspect(engine).get_table_names())
    engine.dispose()
