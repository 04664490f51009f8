"""The write stage's look-ups run ahead of the article's insert (`ingest`: the canonical URL and
the dedup index's `reads_ahead`, in the insert's round trip on PostgreSQL). The decisions are
the ones the index makes asking the database itself, whatever is written in the same batch
before; and on PostgreSQL a new write-up costs three round trips, not seven (counting the
statements SQLAlchemy runs too)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from monitor.bounds import FieldBounds
from monitor.dedup import DedupIndex, DedupInput, DedupResult
from monitor.dedup.prepare import prepare_fingerprints
from monitor.pipeline.model import AlertRoute, Worked
from monitor.pipeline.write import WriteContext, ingest
from monitor.storage.articles_repo import NewArticle
from monitor.storage.db import open_database
from monitor.storage.direct import Direct, deferring
from monitor.storage.tables import articles, sources

NOW = datetime(2026, 11, 27, 9, tzinfo=UTC)
WIRE = (
    "Flood waters rose overnight in the river town of Kessala, where rescue crews from Dorvan "
    "pulled 14 families from their roofs, the regional governor Amira Teslo said on Thursday. "
    "The Halvern dam upstream released water after three days of rain, engineers said. "
) * 3
OTHER = (
    "The port authority of Lindqvist approved a second container terminal after a vote of the "
    "harbour board, ending a dispute with the dockers' union that lasted 11 months. "
) * 3


def _worked(source: str, url: str, title: str, text: str, minutes: int) -> Worked:
    article = NewArticle(
        source=source, guid=None, url=url, canonical_url=url, title=title, text=text,
        author=None, site_name=None, language="en",
        published_at=NOW + timedelta(minutes=minutes), fetched_at=NOW, extraction="trafilatura",
        tags=(),
    )  # fmt: skip
    return Worked(article=article, matches=(), fingerprints=prepare_fingerprints(title, text))


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = open_database(db_url)
    with engine.begin() as conn:
        conn.execute(
            sources.insert(), [{"name": n, "url": f"http://{n}/", "error_count": 0} for n in "abcd"]
        )
    yield engine
    engine.dispose()


def test_decisions_from_reads_run_ahead_are_the_index_s_own(engine: sa.Engine) -> None:
    postgres = engine.dialect.name == "postgresql"
    index = DedupIndex()
    ctx = WriteContext(
        grouper=index,
        route_for=lambda rule: AlertRoute(("console",)),
        clock=lambda: NOW,
        bounds=FieldBounds(),
    )
    jobs = [
        _worked("a", "https://a.example/flood", "Families rescued from roofs in Kessala", WIRE, 0),
        # the wire copy on another site, in the same batch: sees the first one's deferred rows
        _worked("b", "https://b.example/wire/77", "Kessala flood: families rescued", WIRE, 5),
        # another text under the first one's canonical URL (a page updated in place)
        _worked(
            "c", "https://a.example/flood", "Kessala update", "Rescue crews returned. " * 12, 9
        ),
        _worked("d", "https://d.example/port", "Lindqvist gets a second terminal", OTHER, 12),
    ]
    trips: list[int] = []
    theirs = [0]  # statements SQLAlchemy runs (the lock, key sets...): a round trip each

    def count(*_: object) -> None:
        theirs[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    with engine.begin() as conn, deferring(conn):
        for i, worked in enumerate(jobs):
            before = Direct.round_trips + theirs[0]
            assert ingest(conn, ctx, key=f"k{i}", worked=worked, alerting=True).stored
            trips.append(Direct.round_trips + theirs[0] - before)
    sa.event.remove(engine, "before_cursor_execute", count)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(articles.c.id, articles.c.story_id, articles.c.copy_of).order_by(
                articles.c.id
            )
        ).all()
    first, copy, same_url, other = rows
    assert (first.copy_of, copy.copy_of) == (None, first.id)
    assert copy.story_id == first.story_id
    assert (same_url.copy_of, same_url.story_id) == (first.id, first.story_id)  # "same-url"
    assert other.copy_of is None and other.story_id != first.story_id
    if postgres:
        # a new write-up: store + the look-ups (one round trip), the story look-up, the new
        # story's id (7 before the look-ups ran ahead), the first one of the transaction also
        # takes the classification lock (8); the copy also fetches the shingles and the copy
        # group it joins (9)
        assert trips[0] <= 4 and trips[1] <= 6 and trips[3] <= 3, trips

    # the same articles classified by the index alone (no reads given), in a fresh index over
    # the same rows: the same decisions
    fresh = DedupIndex()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM dedup_fingerprints")
        conn.exec_driver_sql("DELETE FROM dedup_story_keys")
        conn.exec_driver_sql("DELETE FROM dedup_key_counts")
        conn.exec_driver_sql("DELETE FROM dedup_documents")
        conn.exec_driver_sql("DELETE FROM dedup_stories")
        decisions: list[DedupResult] = []
        for row, worked in zip(rows, jobs, strict=True):
            assert worked.article is not None
            article = replace(worked.article, fetched_at=NOW)
            decisions.append(
                fresh.classify(
                    conn,
                    DedupInput(
                        article_id=row.id,
                        title=article.title,
                        text=article.text,
                        language=article.language,
                        published=article.published_at,
                        fetched=article.fetched_at,
                        source=article.source,
                        fingerprints=worked.fingerprints,
                        fresh=True,
                    ),
                )
            )
    assert [d.copy_of for d in decisions] == [None, rows[0].id, None, None]
    assert decisions[1].story_id == decisions[0].story_id
    assert decisions[3].story_id != decisions[0].story_id
