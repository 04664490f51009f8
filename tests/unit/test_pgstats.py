"""StatsKeeper analyses a young dedup table once it holds enough rows and again when it has
doubled (real PostgreSQL), after which the copy look-up is planned on the index; it checks at
most once per interval and a failure is logged, never raised."""

from __future__ import annotations

import logging
import random
import uuid

import pytest
import sqlalchemy as sa

from monitor.storage.db import open_database
from monitor.storage.pgstats import MIN_ROWS, StatsKeeper


def _add_prints(engine: sa.Engine, first_article: int, count: int, rng: random.Random) -> None:
    rows = [
        {"hash": rng.getrandbits(62), "article_id": first_article + i // 100} for i in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO dedup_fingerprints (hash, article_id) VALUES (:hash, :article_id)"
            ),
            rows,
        )
    engine.dispose()  # a backend flushes its table counters when it exits


def _estimate(engine: sa.Engine, probes: list[int]) -> int:
    """The planner's row estimate for one article's look-up of `probes`."""
    with engine.connect() as conn:
        plan = conn.execute(
            sa.text(
                "EXPLAIN (FORMAT JSON) SELECT article_id FROM dedup_fingerprints "
                "WHERE hash = ANY(:p)"
            ),
            {"p": probes},
        ).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


@pytest.mark.postgres
def test_a_young_table_is_analysed_at_each_doubling(pg_url: str) -> None:
    engine = open_database(pg_url)
    rng = random.Random(7)
    keeper = StatsKeeper(engine)
    probes = [rng.getrandbits(62) for _ in range(290)]
    try:
        with engine.begin() as conn:  # autovacuum must not analyse it behind the test's back
            conn.exec_driver_sql("ALTER TABLE dedup_fingerprints SET (autovacuum_enabled = off)")
        _add_prints(engine, 1, MIN_ROWS // 2, rng)
        assert keeper.refresh() == []  # too small to matter

        _add_prints(engine, 1_000, 2 * MIN_ROWS, rng)
        rows = MIN_ROWS // 2 + 2 * MIN_ROWS
        assert _estimate(engine, probes) >= rows // 2  # no statistics: "most rows match"
        assert keeper.refresh() == ["dedup_fingerprints"]
        assert _estimate(engine, probes) <= 2 * len(probes)  # ~one per probe: index probes
        assert keeper.refresh() == []  # fresh now

        _add_prints(engine, 2_000, MIN_ROWS, rng)  # 1.4x: still fresh enough
        assert keeper.refresh() == []
        _add_prints(engine, 3_000, 3 * MIN_ROWS, rng)  # 2.6x the analysed count
        assert keeper.refresh() == ["dedup_fingerprints"]
        assert list(keeper.analysed) == ["dedup_fingerprints", "dedup_fingerprints"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_tables_another_role_owns_are_left_alone(pg_url: str) -> None:
    """ANALYZE would skip them with a warning and they would look stale at every check."""
    engine = open_database(pg_url)  # the tables belong to the administrator
    role = f"monitor_reader_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE dedup_fingerprints SET (autovacuum_enabled = off)")
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
    _add_prints(engine, 1, 2 * MIN_ROWS, random.Random(3))
    reader = sa.create_engine(sa.make_url(pg_url).set(username=role, password=None))
    try:
        assert StatsKeeper(reader).refresh() == []
        assert StatsKeeper(engine).refresh() == ["dedup_fingerprints"]  # the owner's is done
    finally:
        reader.dispose()
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        engine.dispose()


def test_checks_at_most_once_per_interval_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    engine = sa.create_engine("sqlite://")  # no pg_stat_user_tables: every check fails
    keeper = StatsKeeper(engine, every=5.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="monitor.storage.pgstats"):
        keeper.maybe_refresh()
        keeper.maybe_refresh()
        now[0] += 4.9
        keeper.maybe_refresh()
        assert len(caplog.records) == 1
        now[0] += 0.2
        keeper.maybe_refresh()
    assert len(caplog.records) == 2
    assert "could not refresh table statistics" in caplog.records[0].getMessage()
    assert list(keeper.analysed) == []
