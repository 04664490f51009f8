"""Two replicas store articles with one canonical URL at once (real PostgreSQL): the second's
canonical-URL look-up happens under the classification lock, so it waits for the first to commit
and joins its story ("same-url") instead of founding a story of its own."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from monitor.dedup import DedupIndex, DedupResult
from monitor.dedup.prepare import prepare_fingerprints
from monitor.pipeline.write import group
from monitor.storage import articles_repo as repo
from monitor.storage.db import open_database
from monitor.storage.direct import deferring

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
