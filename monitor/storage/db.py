"""Database engines: SQLite (WAL, the embedded default) or PostgreSQL, plus schema upgrades.

`open_database` creates the engine for a URL and applies the Alembic migrations, so the daemon
always runs on the current schema; `monitor db upgrade` calls the same `upgrade` on its own.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from monitor.errors import MonitorError
from monitor.storage import direct

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6E6D6F6E  # "nmon": the advisory lock held while migrating


class DatabaseError(MonitorError):
    """The database cannot be opened or upgraded."""


# Page cache per SQLite connection (pages are cached as they are read, up to this). SQLite's
# default of 2 MB made every insert into the dedup indexes re-read its B-tree pages once the
# database outgrew it: writer CPU per article 5.0 -> 3.6 ms at 10,000 articles with 32 MB
# (bench/bench_write.py; 64 MB gave the same).
SQLITE_CACHE_KIB = 32 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int = 30_000) -> None:
    # pysqlite's legacy transaction handling does not open a transaction before a SAVEPOINT,
    # so a savepoint released inside our transaction would commit on its own. Turn it off and
    # emit BEGIN ourselves (the SQLAlchemy recipe), so a rollback undoes everything.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.close()


READ_ONLY = "monitor_read_only"  # execution option: this connection only reads (see below)


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front (waiting up to busy_timeout). A deferred
    # transaction that reads and then writes fails at once with "database is locked" when another
    # connection wrote in between; our transactions are short, so serialising them costs little.
    # A connection marked READ_ONLY never writes: a deferred BEGIN reads a WAL snapshot without
    # waiting for the writer (with IMMEDIATE each poll's "which entries are new" query queued
    # behind the group-commit writer: 39 s of waiting threads in a 400-source cycle).
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str, *, pool_size: int = 5, busy_timeout: float = 30.0) -> Engine:
    """An engine for `url` with `pool_size` pooled connections (plus as many again on demand);
    for SQLite, creates the directory and turns on WAL mode; a lock is waited for at most
    `busy_timeout` seconds."""
    sizing = {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": 60}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            sizing = {}  # an in-memory database lives in one connection
        engine = create_engine(
            url, connect_args={"timeout": busy_timeout, "check_same_thread": False}, **sizing
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(busy_timeout * 1000)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if busy_timeout < 30:  # a health check: do not wait long for a busy server either
        engine = create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": max(int(busy_timeout), 1)},
            **sizing,
        )
    else:
        engine = create_engine(parsed, pool_pre_ping=True, **sizing)
    if engine.dialect.name == "postgresql":
        direct.install(engine)  # deferred writes stay in order (monitor.storage.direct)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    try:
        if engine.dialect.name == "postgresql":
            # replicas starting together must not race each other's migrations
            with engine.connect() as lock:
                lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
                try:
                    command.upgrade(alembic_config(engine), revision)
                finally:
                    lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                    lock.commit()
        else:
            command.upgrade(alembic_config(engine), revision)
    except Exception as exc:
        raise DatabaseError(f"cannot upgrade the database schema: {exc}") from exc


def open_database(url: str, *, pool_size: int = 5) -> Engine:
    """Create the engine and bring the schema up to date."""
    engine = create_db_engine(url, pool_size=pool_size)
    upgrade(engine)
    return engine
