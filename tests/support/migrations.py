"""Helpers for the migration tests: a SQLite database at a revision, and the differences between
the migrated schema and what the tables declare."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from monitor.storage.db import alembic_config
from monitor.storage.tables import metadata

Include = Callable[[object, "str | None", str, bool, object], bool]


def migrated(tmp_path: Path, revision: str = "head") -> tuple[sa.Engine, Config]:
    """A SQLite file database upgraded to `revision`, and its Alembic config."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrated.sqlite'}")
    config = alembic_config(engine)
    command.upgrade(config, revision)
    return engine, config


def schema_diff(engine: sa.Engine, include: Include) -> list[object]:
    """Alembic's differences between the database and `metadata`, limited by `include`."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include})
        return list(compare_metadata(context, metadata))
