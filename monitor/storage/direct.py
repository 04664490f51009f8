"""The writer's hot statements, run on the DB-API cursor of the caller's connection.

For each statement the writer runs per article, SQLAlchemy's own work on every execution (cache
key, execution context, parameter and result objects, events) costs more than SQLite takes to run
it. :class:`Direct` compiles a statement once per dialect and parameter set with SQLAlchemy,
and from then on binds through the same type processors (datetimes as SQLAlchemy stores them on
SQLite) and executes on the DB-API cursor of the same connection, so it joins the caller's
transaction and savepoints. Driver errors are raised as SQLAlchemy's exceptions
(``IntegrityError``...), so callers catch what they always did. A statement that needs
SQLAlchemy at execution time (Python-side column defaults, expanding ``IN`` lists, callable
parameter values) is simply executed by SQLAlchemy.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Plan:
    sql: str
    positional: tuple[str, ...] | None  # qmark order (SQLite); None: named parameters
    fixed: dict[str, Any]  # values the statement carries itself (`.values(error_count=0)`)
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor | None, ...]
    row: Callable[..., tuple[Any, ...]] | None  # a named tuple class for the result rows


def _plan(statement: sa.Executable, dialect: Dialect, keys: list[str]) -> _Plan | None:
    compiled = cast(sa.ClauseElement, statement).compile(dialect=dialect, column_keys=keys)
    assert isinstance(compiled, SQLCompiler)
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.escaped_bind_names
        or any(b.callable is not None or b.expanding for b in compiled.binds.values())
    ):
        return None  # needs SQLAlchemy at execution time
    fixed = {
        name: bind.value
        for bind, name in compiled.bind_names.items()
        if not bind.required and name not in keys
    }
    binds = tuple(
        (name, cast(Processor, proc))
        for name, proc in compiled._bind_processors.items()
        if callable(proc)  # a sequence of processors is for tuple-valued IN lists: not used here
    )
    columns = compiled._result_columns
    results = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
    row = namedtuple("Row", [c.keyname for c in columns], rename=True) if columns else None
    positional = tuple(compiled.positiontup or ()) if compiled.positional else None
    return _Plan(compiled.string, positional, fixed, binds, results, row)


class Direct:
    """One statement, executed on the DB-API cursor (see the module docstring)."""

    executed = 0  # statements run on the cursor, all instances (SQLAlchemy's events miss them)

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan | None] = {}

    def _plan_for(self, conn: sa.Connection, params: Mapping[str, Any]) -> _Plan | None:
        key = (conn.dialect.name, tuple(params))
        try:
            return self._plans[key]
        except KeyError:
            plan = self._plans[key] = _plan(self.statement, conn.dialect, sorted(params))
            return plan

    def rows(self, conn: sa.Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        """The result rows (named tuples) of the statement run with `params`."""
        plan = self._plan_for(conn, params)
        if plan is None:
            return conn.execute(self.statement, dict(params)).all()
        cursor = self._run(conn, plan, params)
        try:
            fetched = cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
        assert plan.row is not None or not fetched
        procs = plan.results
        if not any(procs):
            return [plan.row(*r) for r in fetched] if plan.row else []
        return [
            plan.row(*(p(v) if p else v for p, v in zip(procs, r, strict=True)))  # type: ignore[misc]
            for r in fetched
        ]

    def first(self, conn: sa.Connection, params: Mapping[str, Any]) -> Any:
        """The first result row, or None."""
        found = self.rows(conn, params)
        return found[0] if found else None

    def run(self, conn: sa.Connection, params: Mapping[str, Any]) -> int:
        """Run the statement; the number of rows it changed."""
        plan = self._plan_for(conn, params)
        if plan is None:
            return int(conn.execute(self.statement, dict(params)).rowcount)
        cursor = self._run(conn, plan, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    @staticmethod
    def _run(conn: sa.Connection, plan: _Plan, params: Mapping[str, Any]) -> Any:
        values = {**plan.fixed, **params} if plan.fixed else dict(params)
        for name, proc in plan.binds:
            if name in values:
                values[name] = proc(values[name])
        bound: Any = values if plan.positional is None else [values[n] for n in plan.positional]
        if not conn.in_transaction():
            conn.begin()  # what SQLAlchemy's autobegin would do (BEGIN IMMEDIATE on SQLite)
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        Direct.executed += 1
        try:
            cursor.execute(plan.sql, bound)
        except conn.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise sa.exc.DBAPIError.instance(
                plan.sql, bound, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from exc
        except BaseException:
            cursor.close()
            raise
        return cursor
