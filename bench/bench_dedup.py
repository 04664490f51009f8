"""Benchmark: deduplication cost per article with a large stored index (product.md §10, issue 8).

Stores N synthetic articles (default 100,000; 1 in 10 a copy of a recent one, spread over six days
of the 7-day window) directly in the index tables, with the rows `DedupIndex.classify` would
write for them (bulk insert: filling through classify would take hours on a shared machine), then
measures with N articles stored:

- classify + record per article, each in its own SAVEPOINT of a transaction of 50 articles (how the
  pipeline's writer calls it), fingerprints computed by classify;
- the same with the fingerprints computed beforehand (what the writer does when a worker process
  prepared them), when the code under test has `prepare_fingerprints`;
- the story lookup alone and the copy lookup alone (rolled back);
- peak memory (RSS) and the database size.

SQLite in a temporary file by default; pass --url for PostgreSQL (its dedup tables are dropped and
re-created). The script works against the current code and against older checkouts (run it with
PYTHONPATH=<old checkout> to measure "before").

    .venv/bin/python bench/bench_dedup.py [--articles 100000] [--url postgresql+psycopg://...]

With --realnews it instead scores copies and stories on the real-news corpus of realnews/
(labels.jsonl; texts outside the repository, see realnews/README.md), classifying the pages
directly (no pipeline) in publication order and N shuffled orders, all published at one time as
realnews/evaluate.py does, and counts the alerts each order would give (the labelled relevant
pages standing for the rule's matches; one alert per story, stories joined later counted):

    .venv/bin/python bench/bench_dedup.py --realnews /work/realnews-texts --orders 20
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import monitor.dedup.index as dedup_index
from monitor.dedup import DedupIndex, DedupInput
from monitor.dedup import shingles as sh
from monitor.dedup.tables import (
    DEDUP_TABLES,
    dedup_documents,
    dedup_fingerprints,
    dedup_key_counts,
    dedup_stories,
    dedup_story_keys,
)
from monitor.storage.db import create_db_engine
from monitor.storage.tables import articles, metadata

try:  # the current code
    from monitor.dedup import prepare_fingerprints
except ImportError:  # an older checkout
    prepare_fingerprints = None  # type: ignore[assignment]

START = datetime(2024, 3, 1, tzinfo=UTC)
VOCABULARY = [f"w{n}" for n in range(30_000)]
NAMES = [f"Place{n}" for n in range(5_000)]
CUMULATIVE = list(accumulate(1 / (rank + 1) for rank in range(len(VOCABULARY))))
STORIES_KEY = "#stories"


def synthetic(rng: random.Random, article_id: int, when: datetime) -> DedupInput:
    paragraphs = []
    for _ in range(6):
        words = rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=40)
        words[rng.randrange(40)] = rng.choice(NAMES)
        words.append(str(rng.randrange(2, 500)))
        paragraphs.append(" ".join(words) + ".")
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


def prepared(item: DedupInput) -> tuple[str | None, frozenset[int], frozenset[int], frozenset[str]]:
    """Text hash, shingles, fingerprints and story keys, with whichever API the code has."""
    if prepare_fingerprints is not None:
        p = prepare_fingerprints(item.title, item.text)
        shingles = frozenset(int(s) for s in sh.unpack_sorted(p.packed_shingles))
        return p.text_hash, shingles, frozenset(p.fingerprints), p.story_keys
    from monitor.dedup.story import extract_features

    old = dedup_index._prepare(item)  # type: ignore[attr-defined]
    keys = extract_features(item.title, item.text, old.published_at).keys
    return old.text_hash, old.shingles, old.fingerprints, frozenset(k[:120] for k in keys)


def chunks(rows: Sequence[dict[str, Any]], size: int = 5_000) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def fill(
    engine: sa.Engine, items: Sequence[DedupInput], originals: dict[int, int], processes: int
) -> None:
    """Write the rows classify would have written for `items` (copies per `originals`)."""
    has_merged = "merged_into" in dedup_stories.c
    story_of: dict[int, int] = {}
    docs: list[dict[str, Any]] = []
    prints: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    stories: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    with multiprocessing.Pool(processes) as pool:  # the text work only; rows are built here
        texts = pool.map(prepared, items, chunksize=500)
    for item, (text_hash, shingles, fingerprints, story_keys) in zip(items, texts, strict=True):
        root = originals.get(item.article_id)
        if root is None:
            story = story_of[item.article_id] = len(stories) + 1
            stories.append(
                {
                    "id": story,
                    "first_article_id": item.article_id,
                    "title": item.title,
                    "created_at": item.fetched,
                    "last_seen_at": item.fetched,
                    **({"merged_into": None} if has_merged else {}),
                }
            )
        else:
            story = story_of[item.article_id] = story_of[root]
        # the current index keeps every member's story keys; older versions only originals'
        if root is None or prepare_fingerprints is not None:
            keys.extend(
                {
                    "key": k,
                    "article_id": item.article_id,
                    "story_id": story,
                    "published_at": item.fetched,
                }
                for k in sorted(story_keys)
            )
            counts.update(story_keys)
        docs.append(
            {
                "article_id": item.article_id,
                "source": item.source,
                "title": item.title,
                "seen_at": item.fetched,
                "published_at": item.fetched,
                "text_hash": text_hash or "",
                "shingle_count": len(shingles),
                "shingles": sh.pack(shingles),
                "copy_of": root,
                "story_id": story,
                "reason": "bench",
            }
        )
        prints.extend({"hash": h, "article_id": item.article_id} for h in sorted(fingerprints))
    counts[STORIES_KEY] = len(stories)
    with engine.begin() as conn:
        for table, rows in (
            (dedup_stories, stories),
            (dedup_documents, docs),
            (dedup_fingerprints, prints),
            (dedup_story_keys, keys),
            (dedup_key_counts, [{"key": k, "count": n} for k, n in sorted(counts.items())]),
        ):
            for part in chunks(rows):
                conn.execute(table.insert(), list(part))
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('dedup_stories', 'id'),"
                    " (SELECT max(id) FROM dedup_stories))"
                )
            )
            conn.execute(sa.text("ANALYZE"))
        else:
            conn.execute(sa.text("ANALYZE"))


def per_article(run: Callable[[], None], count: int) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) / count * 1000


def realnews(texts: Path, orders: int) -> None:
    """Pairwise copy/story scores on the labelled real-news pages, over shuffled orders."""
    import json
    from itertools import combinations

    labels = [json.loads(line) for line in (Path("realnews") / "labels.jsonl").open()]
    pages = []
    for label in labels:
        path = texts / f"{label['id']}.txt"
        if path.exists():
            lines = path.read_text().splitlines()
            body = "\n\n".join(line for line in lines[1:] if line.strip())
            pages.append((label, lines[0], body))
    ids = [label["id"] for label, _, _ in pages]
    size = Counter(label["syndication_group"] for label, _, _ in pages)
    group = {
        label["id"]: label["syndication_group"] if size[label["syndication_group"]] > 1 else None
        for label, _, _ in pages
    }
    event = {label["id"]: label.get("event") for label, _, _ in pages}
    language = {label["id"]: label["language"] for label, _, _ in pages}
    prints = {label["id"]: prepare_fingerprints(title, body) for label, title, body in pages}
    when = datetime(2025, 6, 1, tzinfo=UTC)

    relevant = {label["id"] for label, _, _ in pages if label.get("relevant")}
    alerts: list[list[str]] = []  # per run: the relevant pages that alert (one per story)

    def run(seed: int | None) -> tuple[dict[str, str], dict[str, int]]:
        """Classify the pages in one order; the relevant pages stand for the rule's matches, and
        one alerts when its story (or a story since joined into it) has no alert yet."""
        order = list(pages) if seed is None else random.Random(seed).sample(pages, len(pages))
        engine = sa.create_engine("sqlite://")
        metadata.create_all(engine, tables=[articles, *DEDUP_TABLES])
        index = DedupIndex()
        final: dict[str, tuple[int | None, int]] = {}
        name: dict[int, str] = {}
        joined_into: dict[int, int] = {}
        alerted: set[int] = set()
        alerts.append([])

        def current(story: int) -> int:
            while story in joined_into:
                story = joined_into[story]
            return story

        with engine.begin() as conn:
            for number, (label, title, body) in enumerate(order, start=1):
                name[number] = label["id"]
                at = when + timedelta(minutes=number)
                item = DedupInput(number, title, body, None, at, at, "s", prints[label["id"]])
                result = index.classify(conn, item)
                final[label["id"]] = (result.copy_of, result.story_id)
                for change in result.regrouped:
                    was = current(final[name[change.article_id]][1])
                    if was != current(change.story_id):
                        joined_into[was] = current(change.story_id)
                    final[name[change.article_id]] = (change.copy_of, change.story_id)
                story_now = current(result.story_id)
                if label["id"] in relevant and not any(current(s) == story_now for s in alerted):
                    alerted.add(result.story_id)
                    alerts[-1].append(label["id"])
        engine.dispose()
        root = {i: name[c] if c is not None else i for i, (c, _) in final.items()}
        return root, {i: s for i, (_, s) in final.items()}

    def pairs(truth: dict[str, Any], predicted: dict[str, Any]) -> str:
        tp = fp = fn = 0
        for a, b in combinations(ids, 2):
            same = truth[a] is not None and truth[a] == truth[b]
            said = predicted[a] == predicted[b]
            tp += same and said
            fp += said and not same
            fn += same and not said
        return f"P {tp / max(tp + fp, 1):.3f} R {tp / max(tp + fn, 1):.3f} ({tp} of {tp + fn})"

    def share(predicted: dict[str, Any], wanted: Callable[[str, str], bool]) -> str:
        hits = [predicted[a] == predicted[b] for a, b in combinations(ids, 2) if wanted(a, b)]
        return f"{sum(hits)}/{len(hits)}"

    story_truth = {i: event[i] or group[i] for i in ids}
    runs = [run(seed) for seed in [None, *range(1, orders + 1)]]
    root, story = runs[0]
    merged = {
        s
        for s in set(story.values())
        if len({event[i] for i in ids if story[i] == s and event[i]}) > 1
    }

    def same_group(a: str, b: str) -> bool:
        return group[a] is not None and group[a] == group[b]

    def same_language(a: str, b: str) -> bool:
        return same_group(a, b) and language[a] == language[b]

    def partition(values: dict[str, Any]) -> frozenset[frozenset[str]]:
        return frozenset(frozenset(i for i in ids if values[i] == v) for v in set(values.values()))

    print(
        f"pages: {len(pages)}; syndication groups with 2+ pages: {sum(v > 1 for v in size.values())}"
    )
    print(f"copy pairs (same syndication group): {pairs(group, root)}")
    print(f"  same group and language, recognised as copies: {share(root, same_language)}")
    print(f"story pairs (same event or group): {pairs(story_truth, story)}")
    print(f"  same syndication group, one story: {share(story, same_group)}")
    print(f"stories merging distinct labelled events: {len(merged)}")
    print(
        f"arrival orders: {len(runs)}; distinct copy partitions:"
        f" {len({partition(r[0]) for r in runs})}, distinct story partitions:"
        f" {len({partition(r[1]) for r in runs})}"
    )
    counts = Counter(len(a) for a in alerts)
    twice = Counter(
        g
        for run_alerts in alerts
        for g, n in Counter(group[i] for i in run_alerts if group[i]).items()
        if n > 1
    )
    print(
        "alerts, the labelled relevant pages standing for the rule's matches (count: orders): "
        + ", ".join(f"{c}: {n}" for c, n in sorted(counts.items()))
    )
    print(
        "  syndication groups alerting twice (orders): "
        + (", ".join(f"{g} ({n})" for g, n in sorted(twice.items())) or "none")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--measure", type=int, default=500)
    parser.add_argument("--url", default="")
    parser.add_argument("--processes", type=int, default=4, help="processes preparing the fill")
    parser.add_argument("--realnews", type=Path, help="score the real-news corpus (texts dir)")
    parser.add_argument("--orders", type=int, default=20, help="shuffled orders for --realnews")
    args = parser.parse_args()
    if args.realnews:
        realnews(args.realnews, args.orders)
        return
    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    engine = create_db_engine(url)  # the daemon's settings (SQLite: WAL, its page cache)
    metadata.drop_all(engine, tables=[articles, *DEDUP_TABLES])
    metadata.create_all(engine, tables=[articles, *DEDUP_TABLES])
    index = DedupIndex(window=timedelta(days=7))
    rng = random.Random(7)
    total = args.articles + 3 * args.measure
    span = timedelta(days=6)
    recent: list[DedupInput] = []
    originals: dict[int, int] = {}

    def make(article_id: int) -> DedupInput:
        if recent and rng.random() < 0.1:
            source = rng.choice(recent[-2000:])
            originals[article_id] = source.article_id
            return copy_of(rng, source, article_id)
        value = synthetic(rng, article_id, START + span * (article_id / total))
        recent.append(value)
        return value

    started = time.perf_counter()
    stored = [make(n) for n in range(1, args.articles + 1)]
    fill(engine, stored, originals, args.processes)
    fill_seconds = time.perf_counter() - started
    del stored
    base = args.articles + 1
    probes = [make(base + n) for n in range(args.measure)]
    ready = [make(base + args.measure + n) for n in range(args.measure)]

    def classify_all(items: Sequence[DedupInput], batch: int = 50) -> None:
        for first in range(0, len(items), batch):
            with engine.begin() as conn:
                for item in items[first : first + batch]:
                    with conn.begin_nested():
                        index.classify(conn, item)

    figures: list[tuple[str, str]] = []

    def lookups() -> None:
        with engine.connect() as conn:
            old = hasattr(index, "_find_story")
            for item in probes:
                if old:
                    p = dedup_index._prepare(item)  # type: ignore[attr-defined]
                    from monitor.dedup.story import extract_features

                    features = extract_features(item.title, item.text, p.published_at)
                    index._find_story(conn, p, features)  # type: ignore[attr-defined]
                else:
                    keys = prepared(item)[3]
                    index._story_hits(conn, keys, item.fetched, exclude=None)
            conn.rollback()

    def copy_lookups() -> None:
        with engine.connect() as conn:
            for item in probes:
                if hasattr(index, "_find_copy"):
                    index._find_copy(conn, dedup_index._prepare(item))  # type: ignore[attr-defined]
                else:
                    seen = item.fetched
                    p = dedup_index._Prepared(
                        item, seen, seen, prepare_fingerprints(item.title, item.text)
                    )
                    index._copy_members(conn, p)
            conn.rollback()

    story_ms = per_article(lookups, len(probes))
    copy_ms = per_article(copy_lookups, len(probes))
    classify_ms = per_article(lambda: classify_all(probes), len(probes))
    figures.append(("story lookup only (incl. key extraction)", f"{story_ms:.2f}ms"))
    figures.append(("copy lookup only (incl. fingerprinting)", f"{copy_ms:.2f}ms"))
    figures.append(("classify + record (savepoint, 50/txn)", f"{classify_ms:.2f}ms"))
    if prepare_fingerprints is not None:
        with_prints = [
            DedupInput(
                **{**item.__dict__, "fingerprints": prepare_fingerprints(item.title, item.text)}
            )
            for item in ready
        ]
        ms = per_article(lambda: classify_all(with_prints), len(with_prints))
        figures.append(("classify + record, fingerprints given", f"{ms:.2f}ms"))
        started = time.perf_counter()
        for item in ready:
            prepare_fingerprints(item.title, item.text)
        figures.append(
            (
                "prepare_fingerprints alone (worker side)",
                f"{(time.perf_counter() - started) / len(ready) * 1000:.2f}ms",
            )
        )
    if engine.dialect.name == "postgresql":
        # PostgreSQL answers the look-ups from their covering indexes alone (index-only scans)
        # only on pages the visibility map marks all-visible, which VACUUM sets: the same
        # look-ups again (pages cached), then after a VACUUM
        for when in ("again", "after VACUUM"):
            if when != "again":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    for table in ("dedup_story_keys", "dedup_fingerprints", "dedup_documents"):
                        conn.exec_driver_sql(f"VACUUM {table}")
            story_ms = per_article(lookups, len(probes))
            copy_ms = per_article(copy_lookups, len(probes))
            figures.append((f"story lookup only, {when}", f"{story_ms:.2f}ms"))
            figures.append((f"copy lookup only, {when}", f"{copy_ms:.2f}ms"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.python_version()},"
        f" {engine.dialect.name}"
    )
    print(f"{'measure':44} {'value':>12}")
    print(f"{'stored articles':44} {args.articles:>12,}")
    print(f"{'fill time (bulk, incl. generating)':44} {fill_seconds:>11.0f}s")
    for name, value in figures:
        print(f"{name:44} {value:>12}")
    print(f"{'peak memory (RSS)':44} {peak_mb:>10.0f}MB")
    if url.startswith("sqlite:///"):
        size = Path(url.removeprefix("sqlite:///")).stat().st_size / 1e6
        print(f"{'database size':44} {size:>10.0f}MB")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
