"""A list of values as ONE bound parameter, for both dialects.

`column IN (:a, :b, ...)` renders a new statement text for every list length: SQLAlchemy rewrites
the SQL on each execution and the database prepares it again. With one parameter the text is
fixed: a PostgreSQL array (`column = ANY(:list)`) or, on SQLite, a JSON array read by
`json_each` (`column IN (SELECT value FROM json_each(:list))`). Build the clause once per dialect
with :func:`member_of` and bind the list with :func:`bind`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def array_param(name: str, item: Any) -> sa.BindParameter[Any]:
    """A PostgreSQL array parameter of `item` values."""
    return sa.bindparam(name, type_=postgresql.ARRAY(item))


def json_values(name: str) -> sa.Select[Any]:
    """SQLite: the values of the JSON array bound to `name`."""
    values = sa.func.json_each(sa.bindparam(name)).table_valued("value")
    return sa.select(values.c.value)


def member_of(
    column: sa.ColumnElement[Any], name: str, *, postgres: bool
) -> sa.ColumnElement[bool]:
    """`column` is one of the list bound to `name`."""
    if postgres:
        return column == sa.any_(array_param(name, column.type))
    return column.in_(json_values(name))


def is_postgres(conn: sa.Connection) -> bool:
    return conn.dialect.name == "postgresql"


def bind(conn: sa.Connection, values: Sequence[Any]) -> Any:
    """`values` as the dialect's one parameter: a list (array), or a JSON array for SQLite."""
    return list(values) if is_postgres(conn) else json.dumps(list(values))
