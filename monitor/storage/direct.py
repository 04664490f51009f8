"""The writer's hot statements, run on the DB-API cursor of the caller's connection.

For each statement the writer runs per article, SQLAlchemy's own work on every execution (cache
key, execution context, parameter and result objects, events) costs more than SQLite takes to run
it. :class:`Direct` compiles a statement once per dialect and parameter set with SQLAlchemy,
and from then on binds through the same type processors (datetimes as SQLAlchemy stores them on
SQLite) and executes on the DB-API cursor of the same connection, so it joins the caller's
transaction and savepoints. Driver errors are raised as SQLAlchemy's exceptions
(``IntegrityError``...), so callers catch what they always did. A statement that needs
SQLAlchemy at execution time (Python-side column defaults, expanding ``IN`` lists, callable
parameter values, Numeric results, labels a named tuple cannot carry, ``text()`` queries that
return rows) is simply executed by SQLAlchemy.

On PostgreSQL, inside :func:`deferring` (the writer's transactions), the statements whose result
nobody reads (`Direct.later`: the dedup index's inserts, the article's grouping) are queued and
sent together in one round trip before the next statement; each was a round trip of its own,
and the writer waited for the GIL again after each. Reads known in advance travel the same way:
`Direct.rows_after` runs them in the round trip of the statement it runs, just before it, and
returns their rows in a :class:`Given` that the later calls (`rows(..., given=)`) take instead
of asking the database again.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from keyword import iskeyword
from typing import Any, cast
from weakref import WeakKeyDictionary, WeakSet

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.engine.util import TransactionalContext
from sqlalchemy.sql.compiler import SQLCompiler

from monitor.storage.listparam import is_postgres

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Plan:
    sql: str
    positional: tuple[str, ...] | None  # qmark order (SQLite); None: named parameters
    fixed: dict[str, Any]  # values the statement carries itself (`.values(error_count=0)`)
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor | None, ...]
    row: Callable[..., tuple[Any, ...]] | None  # a named tuple class for the result rows


_UNSAFE_RESULTS = (sa.Numeric,)  # their result processors need the driver's column type


def _plan(statement: sa.Executable, dialect: Dialect, keys: list[str]) -> _Plan | None:
    compiled = cast(sa.ClauseElement, statement).compile(dialect=dialect, column_keys=keys)
    assert isinstance(compiled, SQLCompiler)
    columns = compiled._result_columns
    names = [c.keyname for c in columns]
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.escaped_bind_names
        or any(b.callable is not None or b.expanding for b in compiled.binds.values())
        or any(isinstance(c.type, _UNSAFE_RESULTS) for c in columns)
        or len(set(names)) != len(names)
        or not all(n.isidentifier() and not n.startswith("_") and not iskeyword(n) for n in names)
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
    results = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
    row = namedtuple("Row", names) if columns else None
    positional = tuple(compiled.positiontup or ()) if compiled.positional else None
    return _Plan(compiled.string, positional, fixed, binds, results, row)


class Direct:
    """One statement, executed on the DB-API cursor (see the module docstring)."""

    executed = 0  # statements run on the cursor, all instances (SQLAlchemy's events miss them)
    round_trips = 0  # waits for the server's answers: one per statement, one per pipeline

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        # per dialect object (engines of one backend may differ: JSON serialiser...), then per
        # parameter names; a race only compiles the same plan twice
        self._plans: WeakKeyDictionary[Dialect, dict[tuple[str, ...], _Plan | None]] = (
            WeakKeyDictionary()
        )

    def _plan_for(self, conn: sa.Connection, params: Mapping[str, Any]) -> _Plan | None:
        plans = self._plans.get(conn.dialect)
        if plans is None:
            plans = self._plans.setdefault(conn.dialect, {})
        key = tuple(params)
        try:
            return plans[key]
        except KeyError:
            plan = plans[key] = _plan(self.statement, conn.dialect, sorted(params))
            return plan

    def rows(
        self, conn: sa.Connection, params: Mapping[str, Any], given: Given | None = None
    ) -> Sequence[Any]:
        """The result rows (named tuples) of the statement run with `params`; taken from `given`
        instead when it holds this very read (same statement, same parameters)."""
        if given is not None:
            found = given.take(self, params)
            if found is not None:
                return found
        plan = self._plan_for(conn, params)
        if plan is None or plan.row is None:  # a text() query has no known columns
            return conn.execute(self.statement, dict(params)).all()
        return _rows(plan, self._execute(conn, plan, params, fetch=True))

    def first(
        self, conn: sa.Connection, params: Mapping[str, Any], given: Given | None = None
    ) -> Any:
        """The first result row, or None."""
        found = self.rows(conn, params, given)
        return found[0] if found else None

    def rows_after(
        self, conn: sa.Connection, params: Mapping[str, Any], reads: Sequence[Read]
    ) -> tuple[Sequence[Any], Given]:
        """This statement's rows, with `reads` (SELECTs whose parameters are known now) run just
        before it, and their rows as a :class:`Given`. On PostgreSQL inside :func:`deferring`
        all of it is one round trip (after the deferred writes); elsewhere, one statement after
        the other. The caller vouches that nothing it writes between now and taking a read from
        the `Given` changes that read's answer (this statement included: its reads ran before
        it)."""
        given = Given()
        batch: list[tuple[_Plan, Mapping[str, Any], Direct]] = []
        for direct, values in reads:
            plan = direct._plan_for(conn, values)
            if plan is None or plan.row is None or conn not in _PENDING:
                given.put(direct, values, direct.rows(conn, values))  # one after the other
            else:
                batch.append((plan, values, direct))
        if not batch:
            return self.rows(conn, params), given
        plan = self._plan_for(conn, params)
        mine = [(plan, params, True)] if plan is not None and plan.row is not None else []
        results = _send(conn, [*((p, v, True) for p, v, _ in batch), *mine])
        for (p, v, direct), fetched in zip(batch, results, strict=False):
            given.put(direct, v, _rows(p, fetched))
        if plan is None or not mine:
            return self.rows(conn, params), given  # needs SQLAlchemy: after the reads
        return _rows(plan, results[-1]), given

    def run(self, conn: sa.Connection, params: Mapping[str, Any]) -> int:
        """Run the statement; the number of rows it changed."""
        plan = self._plan_for(conn, params)
        if plan is None:
            return int(conn.execute(self.statement, dict(params)).rowcount)
        return int(self._execute(conn, plan, params, fetch=False))

    def later(self, conn: sa.Connection, params: Mapping[str, Any]) -> None:
        """Run the statement, whose result nobody reads, now or, inside :func:`deferring` on
        PostgreSQL, with the next statement this connection runs (see :func:`flush`)."""
        pending = _PENDING.get(conn)
        plan = self._plan_for(conn, params) if pending is not None else None
        if pending is None or plan is None:
            self.run(conn, params)
        else:
            _check_transaction(conn)  # begins one, as running it would: its COMMIT sends it
            pending.append((plan, params))

    @staticmethod
    def _execute(
        conn: sa.Connection, plan: _Plan, params: Mapping[str, Any], *, fetch: bool
    ) -> Any:
        """The fetched rows (`fetch`) or the row count. The checks and error handling are
        SQLAlchemy's own (`Connection._execute_context`, `_handle_dbapi_exception`): a closed
        or rolled-back transaction is refused, a first statement begins one, errors become
        SQLAlchemy's exceptions and a lost connection is invalidated."""
        if _PENDING.get(conn):
            return _send(conn, [(plan, params, fetch)])[0]
        _check_transaction(conn)
        bound: Any = params
        cursor = None
        try:
            bound = _bound(plan, params)
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            Direct.executed += 1
            Direct.round_trips += 1
            cursor.execute(plan.sql, bound)
            return (cursor.fetchall() if cursor.description else []) if fetch else cursor.rowcount
        except BaseException as exc:  # noqa: BLE001 - SQLAlchemy's handler re-raises every one
            conn._handle_dbapi_exception(exc, plan.sql, bound, cursor, None)
        finally:
            if cursor is not None:
                cursor.close()


Read = tuple[Direct, Mapping[str, Any]]  # a SELECT and its parameters


class Given:
    """Rows of reads already run (see `Direct.rows_after`), each handed out once, to the call
    that would have run the same statement with the same parameters."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, tuple[tuple[str, Any], ...]], Sequence[Any]] = {}

    def put(self, direct: Direct, params: Mapping[str, Any], rows: Sequence[Any]) -> None:
        self._rows[_key(direct, params)] = rows

    def take(self, direct: Direct, params: Mapping[str, Any]) -> Sequence[Any] | None:
        return self._rows.pop(_key(direct, params), None)

    def __len__(self) -> int:
        return len(self._rows)


def _key(direct: Direct, params: Mapping[str, Any]) -> tuple[int, tuple[tuple[str, Any], ...]]:
    return id(direct), tuple(sorted((k, _frozen(v)) for k, v in params.items()))


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _rows(plan: _Plan, fetched: Sequence[Any]) -> list[Any]:
    row, procs = plan.row, plan.results
    assert row is not None
    if not any(procs):
        return [row(*r) for r in fetched]
    return [row(*(p(v) if p else v for p, v in zip(procs, r, strict=True))) for r in fetched]


def _check_transaction(conn: sa.Connection) -> None:
    if (conn._transaction and not conn._transaction.is_active) or (
        conn._nested_transaction and not conn._nested_transaction.is_active
    ):
        conn._invalid_transaction()
    elif conn._trans_context_manager:
        TransactionalContext._trans_ctx_check(conn)
    if conn._transaction is None:
        conn._autobegin()  # BEGIN IMMEDIATE on SQLite, through the engine's "begin" event


def _bound(plan: _Plan, params: Mapping[str, Any]) -> Any:
    values = {**plan.fixed, **params} if plan.fixed else dict(params)
    for name, proc in plan.binds:
        if name in values:
            values[name] = proc(values[name])
    return values if plan.positional is None else [values[n] for n in plan.positional]


# ------------------------------------------------------------------- deferred writes (PostgreSQL)

# the statements `Direct.later` queued, per connection (this checkout, not the pooled DB-API
# connection: an invalidated connection cannot even be asked for its `info`)
_PENDING: WeakKeyDictionary[sa.Connection, list[tuple[_Plan, Mapping[str, Any]]]] = (
    WeakKeyDictionary()
)


_INSTALLED: WeakSet[sa.Engine] = WeakSet()  # engines with the hooks of `install`


@contextmanager
def deferring(conn: sa.Connection) -> Iterator[None]:
    """Within the block, `Direct.later` queues its statements on a PostgreSQL connection; they
    are sent together, in one round trip (psycopg's pipeline mode), before the next statement
    the connection runs (ours, SQLAlchemy's, SAVEPOINT/RELEASE, COMMIT: see `install`), at
    :func:`flush`, or when the block ends. A rollback, or an exception out of the block, drops
    them. Elsewhere (SQLite, no pipeline support) a no-op."""
    if (
        not (is_postgres(conn) and _pipelines())
        or conn.engine not in _INSTALLED  # without the hooks, order could not be kept
        or conn in _PENDING
    ):
        yield  # nothing deferred, or an enclosing block already defers (and flushes)
        return
    _PENDING[conn] = []
    try:
        yield
        flush(conn)  # the block ended normally: nothing it deferred is left behind
    finally:
        _PENDING.pop(conn, None)


def flush(conn: sa.Connection) -> None:
    """Send the queued statements in one pipeline and wait for them; the first error is raised
    as SQLAlchemy's exception (the rest of the pipeline was not run)."""
    if _PENDING.get(conn):
        _send(conn, [])


Wanted = tuple[_Plan, Mapping[str, Any], bool]  # a statement, its parameters, fetch its rows


def _send(conn: sa.Connection, wanted: Sequence[Wanted]) -> list[Any]:
    """The queued statements, then `wanted` (statements of ours whose answers are wanted: the
    same round trip), in one pipeline; each wanted one's rows (fetch) or row count, as
    `Direct._execute`."""
    pending = _PENDING[conn]
    statements = [*pending, *((plan, params) for plan, params, _ in wanted)]
    pending.clear()
    _check_transaction(conn)
    dbapi: Any = conn.connection.dbapi_connection
    cursors = []
    texts = "; ".join(plan.sql for plan, _ in statements)
    try:
        with dbapi.pipeline():
            for plan, params in statements:
                cursors.append(dbapi.cursor())
                Direct.executed += 1
                cursors[-1].execute(plan.sql, _bound(plan, params))
        Direct.round_trips += 1
        answers = cursors[len(cursors) - len(wanted) :]
        return [
            (cursor.fetchall() if cursor.description else []) if fetch else cursor.rowcount
            for cursor, (_, _, fetch) in zip(answers, wanted, strict=True)
        ]
    except BaseException as exc:  # noqa: BLE001 - SQLAlchemy's handler re-raises every one
        conn._handle_dbapi_exception(exc, texts, None, None, None)
    finally:
        for cursor in cursors:
            cursor.close()


def install(engine: sa.Engine) -> None:
    """Keep deferred statements in order on `engine`: flushed before SQLAlchemy runs anything
    else on the connection and before COMMIT, dropped on ROLLBACK (to a savepoint too)."""

    def before(conn: sa.Connection, *_: Any) -> None:
        flush(conn)

    def before_commit(conn: sa.Connection) -> None:
        if not _PENDING.get(conn):
            return
        try:
            flush(conn)
        except Exception:
            # SQLAlchemy neither commits nor rolls back when this event raises; the server's
            # transaction is aborted, so end it here or the pool gets the connection back so
            # (the next checkout's ping would fail)
            if not conn.invalidated and conn.connection.dbapi_connection is not None:
                conn.connection.dbapi_connection.rollback()
            raise

    def drop(conn: sa.Connection, *_: Any) -> None:
        pending = _PENDING.get(conn)
        if pending:
            pending.clear()

    _INSTALLED.add(engine)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", before_commit)
    event.listen(engine, "rollback", drop)
    event.listen(engine, "rollback_savepoint", drop)


@lru_cache(maxsize=1)
def _pipelines() -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - PostgreSQL needs psycopg
        return False
    return bool(psycopg.Pipeline.is_supported())
