"""Statements run on the DB-API cursor (monitor.storage.direct) behave as SQLAlchemy's own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from monitor.storage.db import open_database
from monitor.storage.direct import Direct

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, unique=True, nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True)),
    sa.Column("tags", sa.JSON),
    sa.Column("count", sa.Integer, nullable=False, default=0),
    sa.Column("flag", sa.Boolean, nullable=False),
)
MOMENT = datetime(2026, 11, 26, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def conn(db_url: str) -> Iterator[sa.Connection]:
    """A transaction on a fresh database of each kind (the tests' own table in it)."""
    engine = open_database(db_url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection
    metadata.drop_all(engine)
    engine.dispose()


INSERT = Direct(
    items.insert()
    .values(
        name=sa.bindparam("b_name"),
        seen_at=sa.bindparam("b_at"),
        tags=sa.bindparam("b_tags"),
        count=3,
        flag=True,
    )
    .returning(items.c.id)
)
SELECT = Direct(
    sa.select(items.c.id, items.c.name, items.c.seen_at, items.c.tags, items.c.count).where(
        items.c.name == sa.bindparam("b_name")
    )
)


def test_values_are_bound_and_read_back_as_sqlalchemy_would(conn: sa.Connection) -> None:
    (row,) = INSERT.rows(conn, {"b_name": "a", "b_at": MOMENT, "b_tags": ["x", "y"]})
    mine = SELECT.first(conn, {"b_name": "a"})
    theirs = conn.execute(SELECT.statement, {"b_name": "a"}).one()
    assert tuple(mine) == tuple(theirs)
    assert mine.id == row[0] and mine.count == 3 and mine.tags == ["x", "y"]
    assert mine.seen_at.replace(tzinfo=UTC) == MOMENT  # SQLite keeps no zone; the moment stays
    # a row written by SQLAlchemy reads the same through Direct (same datetime format)
    conn.execute(items.insert(), {"name": "b", "seen_at": MOMENT, "tags": [], "flag": False})
    assert (
        SELECT.first(conn, {"b_name": "b"}).seen_at
        == conn.execute(SELECT.statement, {"b_name": "b"}).one().seen_at
    )
    assert SELECT.first(conn, {"b_name": "missing"}) is None


def test_a_driver_error_is_sqlalchemys_and_the_savepoint_recovers(conn: sa.Connection) -> None:
    INSERT.rows(conn, {"b_name": "a", "b_at": MOMENT, "b_tags": []})
    with pytest.raises(IntegrityError), conn.begin_nested():
        INSERT.rows(conn, {"b_name": "a", "b_at": MOMENT, "b_tags": []})
    assert [r.name for r in conn.execute(sa.select(items.c.name))] == ["a"]


def test_run_counts_rows_and_python_defaults_go_through_sqlalchemy(conn: sa.Connection) -> None:
    bare = Direct(items.insert())  # `count` has a Python-side default: SQLAlchemy fills it in
    bare.run(conn, {"name": "a", "seen_at": MOMENT, "tags": [], "flag": True})
    assert conn.execute(sa.select(items.c.count)).scalar_one() == 0
    touch = Direct(
        items.update().where(items.c.name == sa.bindparam("b_name")).values(count=items.c.count + 1)
    )
    assert touch.run(conn, {"b_name": "a"}) == 1
    assert touch.run(conn, {"b_name": "nobody"}) == 0
    expanding = Direct(
        sa.select(items.c.name).where(items.c.name.in_(sa.bindparam("b_names", expanding=True)))
    )
    assert [r.name for r in expanding.rows(conn, {"b_names": ["a", "z"]})] == ["a"]


def test_a_first_statement_begins_the_transaction_as_sqlalchemy_would(db_url: str) -> None:
    """On a connection with no transaction yet, a Direct statement begins one (SQLAlchemy's
    autobegin), so a rollback undoes it."""
    engine = open_database(db_url)
    metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            INSERT.rows(connection, {"b_name": "a", "b_at": MOMENT, "b_tags": []})
            assert connection.in_transaction()
            connection.rollback()
            assert connection.execute(sa.select(sa.func.count()).select_from(items)).scalar() == 0
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_errors_before_and_after_the_driver_are_sqlalchemys(conn: sa.Connection) -> None:
    """A value a bind processor refuses, a missing parameter, an error while fetching: all are
    SQLAlchemy's exceptions, as `conn.execute` raises them."""
    with pytest.raises(sa.exc.StatementError), conn.begin_nested():
        INSERT.rows(conn, {"b_name": "a", "b_at": object(), "b_tags": []})
    with pytest.raises(sa.exc.StatementError), conn.begin_nested():
        INSERT.rows(conn, {"b_name": "a", "b_tags": []})
    if conn.dialect.name == "sqlite":  # overflows only when the second row is computed
        overflow = Direct(
            sa.select(sa.func.abs(sa.literal_column("v")).label("a")).select_from(
                sa.text("(SELECT 1 AS v UNION ALL SELECT -9223372036854775808)")
            )
        )
        with pytest.raises(sa.exc.OperationalError), conn.begin_nested():
            overflow.rows(conn, {})


def test_a_rolled_back_savepoint_refuses_statements_as_sqlalchemy_does(conn: sa.Connection) -> None:
    with conn.begin_nested() as savepoint:
        savepoint.rollback()
        with pytest.raises(sa.exc.InvalidRequestError):
            INSERT.rows(conn, {"b_name": "a", "b_at": MOMENT, "b_tags": []})
    assert conn.execute(sa.select(sa.func.count()).select_from(items)).scalar() == 0


@pytest.mark.postgres
def test_a_lost_connection_is_invalidated(pg_url: str) -> None:
    engine = open_database(pg_url)
    metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            with engine.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                other.commit()
            with pytest.raises(sa.exc.OperationalError) as raised:
                INSERT.rows(connection, {"b_name": "a", "b_at": MOMENT, "b_tags": []})
            assert raised.value.connection_invalidated
            assert connection.invalidated
        with engine.begin() as fresh:  # the pool hands out a working connection again
            INSERT.rows(fresh, {"b_name": "b", "b_at": MOMENT, "b_tags": []})
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_results_a_plain_row_cannot_carry_are_left_to_sqlalchemy(conn: sa.Connection) -> None:
    INSERT.rows(conn, {"b_name": "a", "b_at": MOMENT, "b_tags": []})
    odd = Direct(sa.select(items.c.name.label("_tag"), items.c.count.label("class")))
    assert conn.execute(odd.statement).one()._asdict() == odd.first(conn, {})._asdict()
    money = Direct(sa.select(sa.cast(1.5, sa.Numeric(10, 2)).label("amount")))
    assert float(money.first(conn, {}).amount) == 1.5
    raw = Direct(sa.text("SELECT name FROM items"))
    assert [r.name for r in raw.rows(conn, {})] == ["a"]
