"""Benchmark: the write stage alone — CPU per article on the writer thread (issue 8).

The writer is the pipeline's one serial stage: every article is stored, grouped (copies and
stories), matched and enqueued there, and a poll outcome is recorded per source. This measures
exactly that work, with nothing else running: N distinct farm-like articles (the loopback news
farm's texts, ~8 KB pages, 4% matching the shipped rule), their fingerprints prepared beforehand
as a worker process does, written by `monitor.pipeline.write.ingest` in group-commit transactions
of `--batch` articles, each followed by the poll bookkeeping of its source (`observe_fetch`,
`record_success`). It prints milliseconds of writer time per article and SQL statements per
article, on SQLite (a temporary file) and, with --backend postgres, on a fresh PostgreSQL
database (MONITOR_TEST_POSTGRES_URL).

    .venv/bin/python -m bench.bench_write [--articles 2000] [--backend sqlite,postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from bench.newsfarm import _TOPICAL, SENTENCES, Farm, _sentence
from monitor.bounds import FieldBounds
from monitor.dedup import DedupIndex
from monitor.dedup.prepare import prepare_fingerprints
from monitor.health import observe_fetch, page_facts
from monitor.pipeline.model import AlertRoute, MatchOut, Worked
from monitor.pipeline.write import WriteContext, ingest
from monitor.storage import sources_repo
from monitor.storage.articles_repo import NewArticle
from monitor.storage.db import open_database
from monitor.storage.direct import Direct, deferring
from monitor.storage.tables import sources

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
PG_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def articles(n: int, shared: bool = False) -> list[tuple[str, Worked, bytes]]:
    """(source, worked, feed body) for n distinct articles, one per source (with `shared`, their
    sentences drawn from the farm's pool of 4,000, as the farm's --shared-sentences)."""
    farm = Farm(n, 1, 8080)
    out = []
    for site in range(n):
        rng = random.Random(site)
        paragraphs = [
            " ".join(rng.choices(SENTENCES, k=rng.randint(3, 5)) if shared
                     else [_sentence(rng) for _ in range(rng.randint(3, 5))])
            for _ in range(12)
        ]
        matching = site % 25 == 0
        if matching:
            paragraphs[1] = f"{_TOPICAL} {paragraphs[1]}"
        title = farm.title(site, 0)
        text = "\n\n".join(paragraphs)
        article = NewArticle(
            source=f"site-{site}",
            guid=None,
            url=f"http://{farm.host(site)}/s{site}/a/0",
            canonical_url=f"http://{farm.host(site)}/s{site}/a/0",
            title=title,
            text=text,
            author="Staff Writer",
            site_name=f"Site {site}",
            language="en",
            published_at=NOW - timedelta(minutes=site % 600),
            fetched_at=NOW,
            extraction="trafilatura",
            tags=(),
        )
        matches = (MatchOut("wagner-demo", {"rule": "wagner-demo", "terms": ["wagner"]}),)
        worked = Worked(
            article=article,
            matches=matches if matching else (),
            fingerprints=prepare_fingerprints(title, text),
        )
        out.append((f"site-{site}", worked, farm.feed(site)[0]))
    return out


def run(url: str, n: int, batch: int, shared: bool = False) -> dict[str, float]:
    engine = open_database(url)
    with engine.begin() as conn:
        conn.execute(
            sources.insert(),
            [{"name": f"site-{i}", "url": f"http://x/{i}", "error_count": 0} for i in range(n)],
        )
    items = articles(n, shared)
    facts = [page_facts(feed, "application/rss+xml") for _, _, feed in items]
    ctx = WriteContext(
        grouper=DedupIndex(),
        route_for=lambda rule: AlertRoute(("console",)),
        clock=lambda: NOW,
        bounds=FieldBounds(),
    )
    statements: Counter[str] = Counter()

    def count(*args: Any) -> None:
        statements["all"] += 1

    event.listen(engine, "before_cursor_execute", count)
    direct_before = Direct.executed  # statements run on the cursor, which the event does not see
    trips_before = Direct.round_trips
    started = time.process_time()
    wall = time.perf_counter()
    for i in range(0, n, batch):
        with engine.begin() as conn, deferring(conn):  # as the writer's transactions
            for (source, worked, _), fact in zip(
                items[i : i + batch], facts[i : i + batch], strict=True
            ):
                observe_fetch(conn, source, fact, NOW)
                ingest(conn, ctx, key=f"{source}:0", worked=worked, alerting=True)
                sources_repo.record_success(
                    conn, source, now=NOW, next_poll=NOW + timedelta(minutes=15),
                    etag='"e"', last_modified=None,
                )
    cpu = time.process_time() - started
    elapsed = time.perf_counter() - wall
    engine.dispose()
    return {
        "cpu_ms": 1000 * cpu / n,
        "wall_ms": 1000 * elapsed / n,
        "statements": (statements["all"] + Direct.executed - direct_before) / n,
        # every statement SQLAlchemy runs waits for its answer; ours wait once per pipeline
        "round_trips": (statements["all"] + Direct.round_trips - trips_before) / n,
        "per_s": n / elapsed,
    }


def fresh_postgres() -> str:
    name = f"bench_write_{os.getpid()}"
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--shared-sentences", action="store_true",
                        help="texts drawn from the farm's pool of 4,000 sentences (many copy "
                        "candidates per article, the farm before 2026-11-26)")
    args = parser.parse_args()
    results = {}
    for backend in args.backend.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results[backend] = run(f"sqlite:///{Path(tmp) / 'w.db'}", args.articles, args.batch, args.shared_sentences)
        else:
            url = fresh_postgres()
            try:
                results[backend] = run(url, args.articles, args.batch, args.shared_sentences)
            finally:
                drop_postgres(url)
    print(f"\nwrite stage, {args.articles} distinct articles, batches of {args.batch}\n")
    print("| measure | " + " | ".join(results) + " |")
    print("|---|" + "---:|" * len(results))
    for key, label in (
        ("cpu_ms", "writer CPU per article (ms)"),
        ("wall_ms", "wall per article (ms)"),
        ("per_s", "articles/s (writer alone)"),
        ("statements", "SQL statements per article"),
        ("round_trips", "round trips per article (waits for the database)"),
    ):
        print(f"| {label} | " + " | ".join(f"{r[key]:.2f}" for r in results.values()) + " |")


if __name__ == "__main__":
    main()
