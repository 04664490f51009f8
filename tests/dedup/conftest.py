"""Database backends for the deduplication contract tests: SQLite in a file, real PostgreSQL.

PostgreSQL is reached at 127.0.0.1:5432 (user postgres, database ``test``) and each test gets a
schema of its own, dropped afterwards. When the server is unreachable the PostgreSQL cases skip
with the reason, unless MONITOR_REQUIRE_POSTGRES=1, in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.dedup.tables import DEDUP_TABLES
from monitor.storage.db import create_db_engine
from monitor.storage.tables import articles, metadata

POSTGRES_URL = os.environ.get(
    "MONITOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _sqlite(tmp_path: Path) -> sa.Engine:
    # the application's engine: explicit BEGIN IMMEDIATE, so savepoints behave as on PostgreSQL
    return create_db_engine(f"sqlite:///{tmp_path / 'dedup.sqlite'}")


def _postgres_schema() -> tuple[sa.Engine, str]:
    schema = f"dedup_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("MONITOR_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(
            f"PostgreSQL unreachable at {POSTGRES_URL} (set MONITOR_REQUIRE_POSTGRES=1 to fail)"
        )
    admin.dispose()
    engine = sa.create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    return engine, schema


def _drop_schema(schema: str) -> None:
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine with the articles and dedup tables created, on each backend."""
    if request.param == "sqlite":
        eng = _sqlite(tmp_path)
        metadata.create_all(eng, tables=[articles, *DEDUP_TABLES])
        yield eng
        eng.dispose()
        return
    eng, schema = _postgres_schema()
    try:
        metadata.create_all(eng, tables=[articles, *DEDUP_TABLES])
        yield eng
    finally:
        eng.dispose()
        _drop_schema(schema)
