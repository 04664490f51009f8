"""Two replicas store articles with one canonical URL at once (real PostgreSQL): the second's
canonical-URL look-up happens under the classification lock, so it waits for the first to commit
and joins its story ("same-url") instead of founding a story of its own. The same through the
write stage (`ingest`), whose look-ups run ahead of the article's insert: they too must wait
for the lock, or the second replica would group with what it read before the first committed."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from monitor.bounds import FieldBounds
from monitor.dedup import DedupIndex, DedupResult
from monitor.dedup.prepare import prepare_fingerprints
from monitor.pipeline.model import AlertRoute, Worked
from monitor.pipeline.write import WriteContext, group, ingest
from monitor.storage import articles_repo as repo
from monitor.storage.db import open_database
from monitor.storage.direct import deferring
from monitor.storage.tables import articles, sources

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def _article(source: str, title: str, text: str) -> repo.NewArticle:
    url = "https://news.example/story"
    return repo.NewArticle(
        source=source, guid=None, url=url, canonical_url=url, title=title, text=text,
        author=None, site_name=None, language="en", published_at=NOW, fetched_at=NOW,
        extraction="feed", tags=(),
    )  # fmt: skip


@pytest.mark.postgres
def test_the_second_replica_sees_the_firsts_article_with_the_same_url(pg_url: str) -> None:
    engine = open_database(pg_url)
    first = _article(
        "a", "Dam bursts in a northern valley", "Rescue teams reached the valley. " * 6
    )
    second = _article("b", "Harbour strike enters its third week", "Dock workers stay out. " * 6)
    grouped = threading.Event()
    results: dict[str, tuple[int, DedupResult]] = {}

    def replica(name: str, article: repo.NewArticle, hold: float) -> None:
        index = DedupIndex()  # each replica has its own
        if name == "b":
            assert grouped.wait(5)
        with engine.begin() as conn, deferring(conn):
            article_id = repo.insert_article(conn, article)
            prints = prepare_fingerprints(article.title, article.text)
            decision = group(conn, index, article_id, article, prints)
            repo.set_grouping(
                conn, article_id, story_id=decision.story_id, copy_of=decision.copy_of
            )
            if name == "a":
                grouped.set()
                time.sleep(hold)  # still in its transaction, holding the lock
        results[name] = (article_id, decision)

    try:
        threads = [
            threading.Thread(target=replica, args=("a", first, 0.5)),
            threading.Thread(target=replica, args=("b", second, 0.0)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        first_id, first_decision = results["a"]
        _, second_decision = results["b"]
        assert second_decision.reason == "same-url"
        assert second_decision.story_id == first_decision.story_id
        assert second_decision.copy_of == first_id
    finally:
        engine.dispose()


WIRE = (
    "Flood waters rose overnight in the river town of Kessala, where rescue crews from Dorvan "
    "pulled 14 families from their roofs, the regional governor Amira Teslo said. "
) * 4


def _worked(source: str, url: str, title: str, text: str) -> Worked:
    article = replace(_article(source, title, text), url=url, canonical_url=url)
    return Worked(article=article, fingerprints=prepare_fingerprints(title, text))


@pytest.mark.postgres
@pytest.mark.parametrize("case", ["same-url", "wire copy"])
def test_through_the_write_stage_the_second_replica_reads_after_the_first_commits(
    pg_url: str, case: str
) -> None:
    engine = open_database(pg_url)
    with engine.begin() as conn:
        conn.execute(
            sources.insert(), [{"name": n, "url": f"http://{n}/", "error_count": 0} for n in "ab"]
        )
    if case == "same-url":
        first = _worked(
            "a", "https://n.example/s", "Dam bursts in a valley", "Rescue teams came. " * 6
        )
        second = _worked(
            "b", "https://n.example/s", "Harbour strike goes on", "Dock workers stay out. " * 6
        )
    else:
        first = _worked("a", "https://a.example/1", "Families rescued in Kessala", WIRE)
        second = _worked("b", "https://b.example/2", "Kessala: families rescued", WIRE)
    grouped = threading.Event()

    def replica(name: str, worked: Worked) -> None:
        ctx = WriteContext(
            grouper=DedupIndex(),  # each replica has its own
            route_for=lambda rule: AlertRoute(("console",)),
            clock=lambda: NOW,
            bounds=FieldBounds(),
        )
        if name == "b":
            assert grouped.wait(5)
        with engine.begin() as conn, deferring(conn):
            assert ingest(conn, ctx, f"entry-{name}", worked, alerting=False).stored
            if name == "a":
                grouped.set()
                time.sleep(0.5)  # still in its transaction, holding the lock

    try:
        threads = [
            threading.Thread(target=replica, args=("a", first)),
            threading.Thread(target=replica, args=("b", second)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        with engine.connect() as conn:
            a, b = conn.execute(
                sa.select(articles.c.id, articles.c.story_id, articles.c.copy_of).order_by(
                    articles.c.source
                )
            ).all()
        assert (b.story_id, b.copy_of) == (a.story_id, a.id)
    finally:
        engine.dispose()
