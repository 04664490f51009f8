"""Benchmark: deduplication cost per article with a large stored index (product.md §10).

Fills a DedupIndex with N synthetic articles (default 100,000; 1 in 10 a copy of an earlier one,
spread over the 7-day window), then measures, with N articles stored: the cost of classifying
and recording one more article, the cost of the copy lookup alone, and peak memory (RSS).
SQLite in a temporary file by default; pass --url for PostgreSQL.

    .venv/bin/python bench/bench_dedup.py [--articles 100000] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

import sqlalchemy as sa

from monitor.dedup import DedupIndex, DedupInput
from monitor.dedup.index import _prepare
from monitor.dedup.tables import DEDUP_TABLES
from monitor.storage.tables import articles, metadata

START = datetime(2024, 3, 1, tzinfo=UTC)
VOCABULARY = [f"w{n}" for n in range(30_000)]
NAMES = [f"Place{n}" for n in range(5_000)]
CUMULATIVE = list(accumulate(1 / (rank + 1) for rank in range(len(VOCABULARY))))


def synthetic(rng: random.Random, article_id: int, span: timedelta, total: int) -> DedupInput:
    paragraphs = []
    for _ in range(6):
        words = rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=40)
        words[rng.randrange(40)] = rng.choice(NAMES)
        words.append(str(rng.randrange(2, 500)))
        paragraphs.append(" ".join(words) + ".")
    when = START + span * (article_id / total)
    return DedupInput(
        article_id,
        " ".join(rng.choices(VOCABULARY[:3000], k=8)),
        "\n\n".join(paragraphs),
        "en",
        when,
        when,
        f"source{article_id % 50}",
    )


def copy_of(rng: random.Random, original: DedupInput, article_id: int) -> DedupInput:
    paragraphs = original.text.split("\n\n")
    kept = paragraphs[: rng.randint(1, 3)] if rng.random() < 0.5 else paragraphs
    when = original.fetched + timedelta(minutes=30)
    return DedupInput(
        article_id,
        "Another headline",
        "Share\n\n" + "\n\n".join(kept),
        "en",
        when,
        when,
        "aggregator",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--measure", type=int, default=1_000)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    engine = sa.create_engine(url)
    metadata.drop_all(engine, tables=[articles, *DEDUP_TABLES])
    metadata.create_all(engine, tables=[articles, *DEDUP_TABLES])
    index = DedupIndex(window=timedelta(days=7))
    rng = random.Random(7)
    span = timedelta(days=6)
    total = args.articles + args.measure
    recent: list[DedupInput] = []

    def make(article_id: int) -> DedupInput:
        if recent and rng.random() < 0.1:
            return copy_of(rng, rng.choice(recent[-2000:]), article_id)
        value = synthetic(rng, article_id, span, total)
        recent.append(value)
        return value

    started = time.perf_counter()
    batch = 1_000
    for first in range(1, args.articles + 1, batch):
        with engine.begin() as conn:
            for article_id in range(first, min(first + batch, args.articles + 1)):
                index.classify(conn, make(article_id))
    fill = time.perf_counter() - started

    probes = [make(args.articles + 1 + n) for n in range(args.measure)]
    with engine.connect() as conn:
        started = time.perf_counter()
        for probe in probes:
            index._find_copy(conn, _prepare(probe))
        lookup = (time.perf_counter() - started) / len(probes)
    with engine.begin() as conn:
        started = time.perf_counter()
        for probe in probes:
            index.classify(conn, probe)
        insert = (time.perf_counter() - started) / len(probes)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = ""
    if url.startswith("sqlite:///"):
        size = f"{Path(url.removeprefix('sqlite:///')).stat().st_size / 1e6:.0f} MB"
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.python_version()},"
        f" {engine.dialect.name}"
    )
    print(f"{'measure':42} {'value':>12}")
    print(f"{'stored articles':42} {args.articles:>12,}")
    print(f"{'fill time (incl. generating the articles)':42} {fill:>11.0f}s")
    print(f"{'classify + record, per article':42} {insert * 1000:>10.2f}ms")
    print(f"{'copy lookup only, per article':42} {lookup * 1000:>10.2f}ms")
    print(f"{'peak memory (RSS)':42} {peak_mb:>10.0f}MB")
    if size:
        print(f"{'database size':42} {size:>12}")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
