"""Deferred writes (`Direct.later` inside `deferring`): on PostgreSQL they are sent together
before the next statement of the connection, whoever runs it, and at COMMIT; a rollback (to a
savepoint too) drops them; an error in one is raised as SQLAlchemy's. On SQLite they run at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError

from monitor.storage.db import open_database
from monitor.storage.direct import Direct, deferring, flush

metadata = sa.MetaData()
items = sa.Table(
    "deferred_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String, nullable=False),
)
ADD = Direct(items.insert().values(id=sa.bindparam("b_id"), name=sa.bindparam("b_name")))
RENAME = Direct(
    items.update().where(items.c.id == sa.bindparam("b_id")).values(name=sa.bindparam("b_name"))
)
NAMES = Direct(sa.select(items.c.id, items.c.name).order_by(items.c.id))


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = open_database(db_url)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def _names(engine: sa.Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [(r.id, r.name) for r in NAMES.rows(conn, {})]


def test_deferred_writes_run_in_order_before_any_later_statement(engine: sa.Engine) -> None:
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn, deferring(conn):
        before = Direct.executed
        ADD.later(conn, {"b_id": 1, "b_name": "a"})
        RENAME.later(conn, {"b_id": 1, "b_name": "b"})
        assert Direct.executed - before == (0 if postgres else 2)  # queued on PostgreSQL
        assert [(r.id, r.name) for r in NAMES.rows(conn, {})] == [(1, "b")]  # ours
        ADD.later(conn, {"b_id": 2, "b_name": "c"})
        assert conn.execute(sa.select(sa.func.count()).select_from(items)).scalar() == 2  # theirs
        ADD.later(conn, {"b_id": 3, "b_name": "d"})  # sent as the block ends
    assert _names(engine) == [(1, "b"), (2, "c"), (3, "d")]


def test_a_rollback_to_a_savepoint_drops_what_was_deferred_inside_it(engine: sa.Engine) -> None:
    with engine.begin() as conn, deferring(conn):
        ADD.later(conn, {"b_id": 1, "b_name": "kept"})
        with pytest.raises(RuntimeError), conn.begin_nested():  # SAVEPOINT: sends the first
            ADD.later(conn, {"b_id": 2, "b_name": "dropped"})
            raise RuntimeError("the job failed")
        flush(conn)
    assert _names(engine) == [(1, "kept")]


def test_an_error_in_a_deferred_write_is_raised_as_sqlalchemys(engine: sa.Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn, deferring(conn):
        ADD.later(conn, {"b_id": 1, "b_name": "a"})
        ADD.later(conn, {"b_id": 1, "b_name": "same key"})
        flush(conn)
    assert _names(engine) == []  # the transaction was rolled back whole
    with engine.begin() as conn, deferring(conn):  # the connection is usable again
        ADD.later(conn, {"b_id": 5, "b_name": "e"})
    assert _names(engine) == [(5, "e")]


def test_outside_deferring_a_later_write_runs_at_once(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        before = Direct.executed
        ADD.later(conn, {"b_id": 1, "b_name": "a"})
        assert Direct.executed - before == 1


def test_a_commit_inside_the_block_sends_what_was_deferred(engine: sa.Engine) -> None:
    with engine.connect() as conn, deferring(conn):
        ADD.later(conn, {"b_id": 1, "b_name": "a"})
        conn.commit()
        assert _names(engine) == [(1, "a")]  # seen from another connection: committed
        ADD.later(conn, {"b_id": 2, "b_name": "b"})
        conn.rollback()
    assert _names(engine) == [(1, "a")]


def test_a_nested_block_keeps_what_the_outer_one_deferred(engine: sa.Engine) -> None:
    with engine.begin() as conn, deferring(conn):
        ADD.later(conn, {"b_id": 1, "b_name": "outer"})
        with deferring(conn):
            ADD.later(conn, {"b_id": 2, "b_name": "inner"})
        ADD.later(conn, {"b_id": 3, "b_name": "outer again"})
    assert _names(engine) == [(1, "outer"), (2, "inner"), (3, "outer again")]


@pytest.mark.postgres
def test_a_failed_commit_leaves_no_broken_connection_in_the_pool(pg_url: str) -> None:
    """(PostgreSQL: SQLite runs the second insert at once, and it fails there.)"""
    engine = open_database(pg_url)
    metadata.create_all(engine)
    with engine.connect() as conn, deferring(conn):
        ADD.later(conn, {"b_id": 1, "b_name": "a"})
        ADD.later(conn, {"b_id": 1, "b_name": "same key"})
        with pytest.raises(IntegrityError):
            conn.commit()
    for _ in range(3):  # every pooled connection answers
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    assert _names(engine) == []
    engine.dispose()


def test_an_error_in_a_write_sent_with_a_read_is_raised_by_the_read(engine: sa.Engine) -> None:
    """(On PostgreSQL the queued writes and our next statement share one round trip.)"""
    with pytest.raises(IntegrityError), engine.begin() as conn, deferring(conn):
        ADD.later(conn, {"b_id": 1, "b_name": "a"})
        ADD.later(conn, {"b_id": 1, "b_name": "same key"})
        NAMES.rows(conn, {})
    assert _names(engine) == []


def test_an_engine_without_the_hooks_runs_deferred_writes_at_once(db_url: str) -> None:
    """(SQLAlchemy's own statements would not send the queue first: nothing is queued there.)"""
    engine = sa.create_engine(sa.make_url(db_url))  # not through monitor.storage.db
    metadata.create_all(engine)
    try:
        with engine.begin() as conn, deferring(conn):
            before = Direct.executed
            ADD.later(conn, {"b_id": 1, "b_name": "a"})
            assert Direct.executed - before == 1
            assert conn.execute(sa.select(sa.func.count()).select_from(items)).scalar() == 1
    finally:
        metadata.drop_all(engine)
        engine.dispose()


# ------------------------------------------------------------------ reads run ahead (rows_after)

NAMED = Direct(sa.select(items.c.id, items.c.name).where(items.c.name == sa.bindparam("b_name")))
ADD_RETURNING = Direct(
    items.insert()
    .values(id=sa.bindparam("b_id"), name=sa.bindparam("b_name"))
    .returning(items.c.id)
)


def test_reads_run_ahead_see_the_deferred_writes_but_not_the_statement_they_travel_with(
    engine: sa.Engine,
) -> None:
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn, deferring(conn):
        ADD.later(conn, {"b_id": 1, "b_name": "a"})
        trips = Direct.round_trips
        rows, given = ADD_RETURNING.rows_after(
            conn,
            {"b_id": 2, "b_name": "b"},
            [(NAMED, {"b_name": "a"}), (NAMED, {"b_name": "b"}), (NAMES, {})],
        )
        # the deferred write, three reads and the insert: one round trip on PostgreSQL (SQLite
        # ran the write at once)
        assert Direct.round_trips - trips == (1 if postgres else 4)
        assert [r.id for r in rows] == [2]
        assert len(given) == 3
        assert NAMES.rows(conn, {}, given) == [(1, "a")]  # read before the insert
        assert [r.id for r in NAMED.rows(conn, {"b_name": "a"}, given)] == [1]
        assert NAMED.rows(conn, {"b_name": "b"}, given) == []  # before it, too
        trips = Direct.round_trips
        # each read is handed out once; other parameters are not the same read
        assert [r.id for r in NAMED.rows(conn, {"b_name": "b"}, given)] == [2]
        assert len(given) == 0
        assert [r.id for r in NAMED.rows(conn, {"b_name": "a"}, given)] == [1]
        assert Direct.round_trips - trips == 2  # both asked the database
    assert _names(engine) == [(1, "a"), (2, "b")]


def test_an_error_before_the_reads_is_raised_as_sqlalchemys_and_loses_nothing_committed(
    engine: sa.Engine,
) -> None:
    with engine.begin() as conn:
        ADD.run(conn, {"b_id": 1, "b_name": "committed"})
    with pytest.raises(IntegrityError), engine.begin() as conn, deferring(conn):
        ADD.later(conn, {"b_id": 1, "b_name": "same key"})  # fails when it is sent
        ADD_RETURNING.rows_after(conn, {"b_id": 2, "b_name": "b"}, [(NAMES, {})])
    assert _names(engine) == [(1, "committed")]


def test_without_reads_rows_after_is_rows(engine: sa.Engine) -> None:
    with engine.begin() as conn, deferring(conn):
        rows, given = ADD_RETURNING.rows_after(conn, {"b_id": 7, "b_name": "g"}, [])
        assert [r.id for r in rows] == [7] and len(given) == 0


BAD_READ = Direct(
    sa.select(sa.cast(sa.bindparam("b_text", type_=sa.String), sa.Integer).label("n"))
)


@pytest.mark.postgres
def test_a_failing_read_ahead_is_raised_as_sqlalchemys_and_rolls_back_its_savepoint_only(
    pg_url: str,
) -> None:
    engine = open_database(pg_url)
    metadata.create_all(engine)
    try:
        with engine.begin() as conn, deferring(conn):
            ADD.later(conn, {"b_id": 1, "b_name": "kept"})
            with pytest.raises(DataError), conn.begin_nested():
                ADD.later(conn, {"b_id": 2, "b_name": "same article"})
                ADD_RETURNING.rows_after(
                    conn, {"b_id": 3, "b_name": "c"}, [(BAD_READ, {"b_text": "not a number"})]
                )
            rows, given = ADD_RETURNING.rows_after(
                conn, {"b_id": 4, "b_name": "d"}, [(NAMED, {"b_name": "kept"})]
            )
            assert [r.id for r in rows] == [4]
            assert [r.id for r in NAMED.rows(conn, {"b_name": "kept"}, given)] == [1]
        assert _names(engine) == [(1, "kept"), (4, "d")]
    finally:
        metadata.drop_all(engine)
        engine.dispose()
