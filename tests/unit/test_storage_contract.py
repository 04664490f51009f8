"""Storage contract: the same tests on SQLite and PostgreSQL (migrations, state, outbox, leases)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from monitor.config.models import SourceSpec
from monitor.delivery.outbox import enqueue
from monitor.storage import articles_repo, sources_repo
from monitor.storage.db import open_database
from monitor.storage.tables import alerts, articles, deliveries, sources

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def article(url: str, source: str = "wire") -> articles_repo.NewArticle:
    return articles_repo.NewArticle(
        source=source,
        guid=None,
        url=url,
        canonical_url=url,
        title="t",
        text="x",
        author=None,
        site_name=None,
        language="en",
        published_at=NOW,
        fetched_at=NOW,
        extraction="feed",
        tags=("wire",),
    )


def test_migrations_create_every_table_and_are_idempotent(db_url: str) -> None:
    engine = open_database(db_url)
    open_database(db_url).dispose()  # a second upgrade is a no-op
    names = set(sa.inspect(engine).get_table_names())
    assert {"sources", "seen_entries", "articles", "rule_matches", "alerts", "deliveries"} <= names
    engine.dispose()


def test_source_state_survives_and_times_stay_utc(db_url: str) -> None:
    engine = open_database(db_url)
    spec = SourceSpec(name="wire", url="https://ex.org/feed")
    with engine.begin() as conn:
        sources_repo.sync_sources(conn, [spec])
        sources_repo.record_success(
            conn,
            "wire",
            now=NOW,
            next_poll=NOW + timedelta(minutes=15),
            etag='"abc"',
            last_modified="Sat, 28 Mar 2026 12:00:00 GMT",
        )
    engine.dispose()
    engine = open_database(db_url)  # as after a restart
    with engine.begin() as conn:
        sources_repo.sync_sources(conn, [spec])
        (state,) = sources_repo.get_states(conn)
    assert state.etag == '"abc"' and state.backlog_seen
    assert state.next_poll_at == NOW + timedelta(minutes=15)
    assert state.next_poll_at.tzinfo is not None
    claimed = sources_repo.claim_due(
        engine, ["wire"], now=NOW, owner="a", lease=timedelta(minutes=5)
    )
    assert claimed == []  # not due before its next poll time
    later = NOW + timedelta(minutes=16)
    assert sources_repo.claim_due(
        engine, ["wire"], now=later, owner="a", lease=timedelta(minutes=5)
    ) == ["wire"]
    assert (
        sources_repo.claim_due(engine, ["wire"], now=later, owner="b", lease=timedelta(minutes=5))
        == []
    )
    engine.dispose()


def test_failures_are_counted_and_kept(db_url: str) -> None:
    engine = open_database(db_url)
    with engine.begin() as conn:
        sources_repo.sync_sources(conn, [SourceSpec(name="s", url="https://ex.org/f")])
        for _ in range(3):
            sources_repo.record_failure(
                conn, "s", now=NOW, next_poll=NOW, kind="timeout", error="slow"
            )
        (state,) = sources_repo.get_states(conn)
    assert state.error_count == 3 and state.last_error_kind == "timeout"
    engine.dispose()


def test_seen_entries_and_one_alert_per_rule_and_story(db_url: str) -> None:
    engine = open_database(db_url)
    with engine.begin() as conn:
        assert articles_repo.mark_seen(conn, "wire", "guid-1", NOW)
        assert not articles_repo.mark_seen(conn, "wire", "guid-1", NOW)
        assert articles_repo.unseen_keys(conn, "wire", ["guid-1", "guid-2"]) == {"guid-2"}
        first = articles_repo.insert_article(conn, article("https://ex.org/a"))
        copy = articles_repo.insert_article(conn, article("https://ex.org/b", "portal"))
        alert = enqueue(
            conn,
            rule="r",
            story_id=first,
            article_id=first,
            payload={"headline": "h"},
            channels=["mail", "hook"],
            now=NOW,
        )
        again = enqueue(
            conn,
            rule="r",
            story_id=first,
            article_id=copy,
            payload={"headline": "h"},
            channels=["mail", "hook"],
            now=NOW,
        )
        other_rule = enqueue(
            conn, rule="r2", story_id=first, article_id=copy, payload={}, channels=["mail"], now=NOW
        )
    assert alert is not None and again is None and other_rule is not None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(alerts)).scalar() == 2
        keys = conn.execute(sa.select(deliveries.c.idempotency_key)).scalars().all()
    assert len(keys) == 3 == len(set(keys))
    engine.dispose()


def test_a_story_joined_into_another_keeps_its_alert(db_url: str) -> None:
    """Two stories found to be one event: an alert under the absorbed story still counts."""
    engine = open_database(db_url)
    with engine.begin() as conn:
        older = articles_repo.insert_article(conn, article("https://ex.org/older"))
        absorbed = articles_repo.insert_article(conn, article("https://ex.org/absorbed"))
        later = articles_repo.insert_article(conn, article("https://ex.org/later"))
        first = enqueue(conn, rule="r", story_id=absorbed, article_id=absorbed, payload={},
                        channels=["mail"], now=NOW)
        again = enqueue(conn, rule="r", story_id=older, article_id=later, payload={},
                        channels=["mail"], now=NOW, joined_stories=[absorbed])
        other = enqueue(conn, rule="r", story_id=older, article_id=later, payload={},
                        channels=["mail"], now=NOW)
    assert first is not None and again is None
    assert other is not None  # without the join, the older story is a story of its own
    engine.dispose()


def test_rollback_after_mark_seen_leaves_nothing(db_url: str) -> None:
    """A crash after an entry is marked seen but before commit must not lose the entry."""
    engine = open_database(db_url)

    class Crash(Exception):
        pass

    try:
        with engine.begin() as conn:
            assert articles_repo.mark_seen(conn, "wire", "guid-9", NOW)
            articles_repo.insert_article(conn, article("https://ex.org/z"))
            raise Crash
    except Crash:
        pass
    with engine.connect() as conn:
        assert articles_repo.unseen_keys(conn, "wire", ["guid-9"]) == {"guid-9"}
        assert list(articles_repo.iter_articles(conn)) == []
    engine.dispose()


def test_changing_a_source_url_resets_validators_and_backlog(db_url: str) -> None:
    engine = open_database(db_url)
    with engine.begin() as conn:
        sources_repo.sync_sources(conn, [SourceSpec(name="s", url="https://ex.org/a")])
        sources_repo.record_success(conn, "s", now=NOW, next_poll=NOW, etag='"e"', last_modified=None)
        sources_repo.sync_sources(conn, [SourceSpec(name="s", url="https://ex.org/b")])
        (state,) = sources_repo.get_states(conn)
    assert state.url == "https://ex.org/b" and state.etag is None and not state.backlog_seen
    engine.dispose()


@pytest.mark.postgres
def test_replicas_starting_together_both_sync_the_sources(pg_url: str) -> None:
    """Two replicas starting at once on a fresh PostgreSQL database insert the same source rows:
    neither fails (the second used to die on the primary key), each row exists once. (SQLite
    serialises the two transactions itself.)"""
    engine = open_database(pg_url)
    specs = [SourceSpec(name=f"s{i}", url=f"https://ex.org/{i}") for i in range(50)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(sa.select(sources.c.name)).all()  # both read "missing" first
                barrier.wait(timeout=10)
                sources_repo.sync_sources(conn, specs)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with engine.connect() as conn:
        names = conn.execute(sa.select(sources.c.name)).scalars().all()
    assert sorted(names) == sorted(s.name for s in specs)
    engine.dispose()


def test_store_new_inserts_an_entrys_article_once(db_url: str) -> None:
    """Mark seen + insert (one statement on PostgreSQL): the second time, nothing is inserted."""
    engine = open_database(db_url)
    with engine.begin() as conn:
        stored = articles_repo.store_new(conn, article("https://ex.org/n"), "guid-n", NOW)
        again = articles_repo.store_new(conn, article("https://ex.org/n2"), "guid-n", NOW)
        other_source = articles_repo.store_new(
            conn, article("https://ex.org/n3", "portal"), "guid-n", NOW
        )
        assert stored is not None and again is None and other_source not in (None, stored)
        assert articles_repo.unseen_keys(conn, "wire", ["guid-n"]) == set()
        rows = conn.execute(
            sa.select(articles.c.id, articles.c.url, articles.c.tags, articles.c.published_at)
        ).all()
    assert [(r.id, r.url, r.tags, r.published_at) for r in rows] == [
        (stored, "https://ex.org/n", ["wire"], NOW),
        (other_source, "https://ex.org/n3", ["wire"], NOW),
    ]
    engine.dispose()
