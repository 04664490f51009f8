"""The writer thread: jobs committed together, a failing job rolled back alone, and the
housekeeping hook run after each commit, once the batch's results are handed back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from monitor.pipeline.write import Writer
from monitor.storage.db import create_db_engine


def _engine(tmp_path: Path) -> sa.Engine:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER PRIMARY KEY)")
    return engine


def test_jobs_commit_together_and_a_failing_one_alone(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    gate, running = threading.Event(), threading.Event()
    seen: list[str] = []
    writer = Writer(
        engine,
        on_commit=lambda: seen.append("commit"),
        after_commit=lambda: seen.append("after"),
    )
    try:
        def block(conn: sa.Connection) -> bool:
            running.set()
            return gate.wait(5)

        def insert(v: int) -> Callable[[sa.Connection], int]:
            return lambda conn: conn.exec_driver_sql(f"INSERT INTO t (v) VALUES ({v})").rowcount

        blocker = writer.submit(block)  # holds the thread while the rest queue up
        assert running.wait(5)

        good = [writer.submit(insert(v)) for v in (1, 2)]
        bad = writer.submit(insert(1))  # primary key taken by the first job of its batch
        last = writer.submit(insert(3))
        gate.set()
        assert blocker.result(5) is True
        assert [f.result(5) for f in good] == [1, 1]
        assert last.result(5) == 1
        try:
            bad.result(5)
        except sa.exc.IntegrityError:
            pass
        else:
            raise AssertionError("the duplicate insert should have failed")
    finally:
        writer.close(5)
    with engine.connect() as conn:
        assert [r[0] for r in conn.exec_driver_sql("SELECT v FROM t ORDER BY v")] == [1, 2, 3]
    assert seen == ["commit", "after", "commit", "after"]  # the blocker's batch, then the rest
    assert writer.committed == 5
