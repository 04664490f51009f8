"""The database-backed deduplication index the pipeline calls: copies first, then stories.

`DedupIndex.classify` runs inside the caller's transaction. It looks the article up as an exact
copy (text hash), then as a near-duplicate (sampled fingerprints, verified on the exact shingle
sets), and otherwise as a new write-up that joins or opens a story. It records the article in the
index tables and leaves the ``articles`` row to the caller. On PostgreSQL a transaction-scoped
advisory lock serialises classification across replicas, so two copies of one new story that
arrive at once on two replicas cannot both become originals; on SQLite the database's single
writer does the same. Re-classifying an article returns the recorded decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from monitor.dedup import counts
from monitor.dedup import shingles as sh
from monitor.dedup.model import CarriedBy, DedupInput, DedupResult
from monitor.dedup.story import StoryFeatures, StoryThresholds, compare, extract_features
from monitor.dedup.tables import (
    dedup_documents,
    dedup_fingerprints,
    dedup_stories,
    dedup_story_keys,
)
from monitor.dedup.text import content_tokens, text_hash
from monitor.storage.tables import articles

_ADVISORY_LOCK_KEY = 0x6E6D6464  # "nmdd": one lock for all of deduplication
_MIN_HASHED_WORDS = 8


@dataclass(frozen=True)
class _Prepared:
    item: DedupInput
    seen_at: datetime
    published_at: datetime
    text_hash: str | None
    shingles: frozenset[int]
    fingerprints: frozenset[int]


class DedupIndex:
    """Copies and stories over a sliding time window, stored in the database."""

    def __init__(
        self,
        *,
        window: timedelta = timedelta(days=7),
        copy_thresholds: sh.CopyThresholds | None = None,
        story_thresholds: StoryThresholds | None = None,
        max_candidates: int = 20,
        max_key_frequency: int = 300,
    ) -> None:
        self.window = window
        self.copy_thresholds = copy_thresholds or sh.CopyThresholds()
        self.story_thresholds = story_thresholds or StoryThresholds()
        self.max_candidates = max_candidates
        self.max_key_frequency = max_key_frequency

    def classify(self, conn: sa.Connection, item: DedupInput) -> DedupResult:
        """Decide whether `item` is a copy and which story it belongs to; record it."""
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
        known = conn.execute(
            sa.select(
                dedup_documents.c.copy_of, dedup_documents.c.story_id, dedup_documents.c.reason
            ).where(dedup_documents.c.article_id == item.article_id)
        ).first()
        if known is not None:
            return DedupResult(known.copy_of, known.story_id, known.reason)
        prepared = _prepare(item)
        found = self._find_copy(conn, prepared)
        if found is not None:
            copy_of, story_id, reason = found
            self._record(conn, prepared, DedupResult(copy_of, story_id, reason))
            _touch_story(conn, story_id, prepared.seen_at)
            return DedupResult(copy_of, story_id, reason)
        features = extract_features(item.title, item.text, prepared.published_at)
        story_id, reason = self._find_story(conn, prepared, features)
        result = DedupResult(None, story_id, reason)
        self._record(conn, prepared, result)
        if features.keys:
            counts.add(conn, {k[:120]: 1 for k in features.keys})
            conn.execute(
                dedup_story_keys.insert(),
                [
                    {
                        "key": key[:120],
                        "article_id": item.article_id,
                        "story_id": story_id,
                        "published_at": prepared.published_at,
                    }
                    for key in sorted({k[:120] for k in features.keys})
                ],
            )
        return result

    def also_carried_by(self, conn: sa.Connection, story_id: int) -> list[CarriedBy]:
        """Every article of the story still in the window, oldest first (copies flagged)."""
        rows = conn.execute(
            sa.select(
                dedup_documents.c.article_id,
                dedup_documents.c.source,
                dedup_documents.c.title,
                dedup_documents.c.copy_of,
                articles.c.url,
            )
            .select_from(
                dedup_documents.outerjoin(articles, articles.c.id == dedup_documents.c.article_id)
            )
            .where(dedup_documents.c.story_id == story_id)
            .order_by(dedup_documents.c.seen_at, dedup_documents.c.article_id)
        )
        return [
            CarriedBy(r.article_id, r.source, r.title, r.url or "", r.copy_of is not None)
            for r in rows
        ]

    def prune(self, conn: sa.Connection, now: datetime) -> int:
        """Forget articles seen before ``now - window``; returns how many were forgotten."""
        cutoff = _utc(now) - self.window
        old = sa.select(dedup_documents.c.article_id).where(dedup_documents.c.seen_at < cutoff)
        conn.execute(dedup_fingerprints.delete().where(dedup_fingerprints.c.article_id.in_(old)))
        old_keys = conn.execute(
            sa.select(dedup_story_keys.c.key, sa.func.count())
            .where(dedup_story_keys.c.article_id.in_(old))
            .group_by(dedup_story_keys.c.key)
        ).all()
        counts.add(conn, {str(k): -int(n) for k, n in old_keys})
        conn.execute(dedup_story_keys.delete().where(dedup_story_keys.c.article_id.in_(old)))
        removed = conn.execute(dedup_documents.delete().where(dedup_documents.c.seen_at < cutoff))
        gone = conn.execute(
            dedup_stories.delete().where(dedup_stories.c.last_seen_at < cutoff)
        ).rowcount
        counts.add(conn, {counts.STORIES: -gone} if gone else {})
        return removed.rowcount

    def _find_copy(self, conn: sa.Connection, p: _Prepared) -> tuple[int, int, str] | None:
        docs = dedup_documents.c
        cutoff = p.seen_at - self.window
        if p.text_hash is not None:
            same = conn.execute(
                sa.select(docs.article_id, docs.copy_of, docs.story_id)
                .where(docs.text_hash == p.text_hash, docs.seen_at >= cutoff)
                .order_by(docs.seen_at, docs.article_id)
                .limit(1)
            ).first()
            if same is not None:
                return (same.copy_of or same.article_id, same.story_id, "text-hash")
        if not p.fingerprints or len(p.shingles) < self.copy_thresholds.min_shingles:
            return None
        shared = sa.func.count().label("shared")
        candidates = (
            sa.select(dedup_fingerprints.c.article_id, shared)
            .join(dedup_documents, docs.article_id == dedup_fingerprints.c.article_id)
            .where(dedup_fingerprints.c.hash.in_(sorted(p.fingerprints)), docs.seen_at >= cutoff)
            .group_by(dedup_fingerprints.c.article_id)
            .having(sa.func.count() >= (2 if len(p.fingerprints) >= 4 else 1))
            .order_by(shared.desc())
            .limit(self.max_candidates)
            .subquery()
        )
        rows = conn.execute(
            sa.select(
                docs.article_id, docs.copy_of, docs.story_id, docs.shingles, docs.seen_at
            ).join(candidates, candidates.c.article_id == docs.article_id)
        ).all()
        best: tuple[tuple[float, float], int, int, str] | None = None
        for row in rows:
            found = sh.overlap(p.shingles, sh.unpack(row.shingles))
            if not sh.is_copy(found, self.copy_thresholds):
                continue
            rank = (found.jaccard, found.containment)
            if best is None or rank > best[0]:
                root = row.copy_of or row.article_id
                best = (rank, root, row.story_id, f"near-duplicate {found.describe()}")
        return None if best is None else best[1:]

    def _find_story(
        self, conn: sa.Connection, p: _Prepared, features: StoryFeatures
    ) -> tuple[int, str]:
        keys = dedup_story_keys.c
        span = self.story_thresholds.window
        near = (keys.published_at >= p.published_at - span) & (
            keys.published_at <= p.published_at + span
        )
        wanted = sorted({k[:120] for k in features.keys})
        best: tuple[float, int, str] | None = None
        df = counts.get(conn, [*wanted, counts.STORIES])
        stories = df.pop(counts.STORIES, 0)
        # A key carried by very many write-ups ("e:mali") cannot single out a story; leaving it out
        # of the lookup keeps the candidate query from scanning a large part of the index.
        selective = [k for k in wanted if df.get(k, 0) <= self.max_key_frequency]
        if selective:
            shared = sa.func.count().label("shared")
            candidates = conn.execute(
                sa.select(keys.article_id, keys.story_id, keys.published_at, shared)
                .where(keys.key.in_(selective), near)
                .group_by(keys.article_id, keys.story_id, keys.published_at)
                .order_by(shared.desc(), keys.article_id)
                .limit(self.max_candidates)
            ).all()
            if candidates:
                their_keys: dict[int, set[str]] = {}
                for article_id, key in conn.execute(
                    sa.select(keys.article_id, keys.key).where(
                        keys.article_id.in_([c.article_id for c in candidates])
                    )
                ):
                    their_keys.setdefault(article_id, set()).add(key)
                for c in candidates:
                    other = StoryFeatures(
                        frozenset(their_keys.get(c.article_id, ())), _utc(c.published_at)
                    )
                    match = compare(
                        features, other, df=df, stories=stories, thresholds=self.story_thresholds
                    )
                    if match.same and (best is None or match.score > best[0]):
                        best = (match.score, c.story_id, f"story:joined {match.reason}")
        if best is not None:
            _touch_story(conn, best[1], p.seen_at)
            return best[1], best[2]
        story_id = conn.execute(
            dedup_stories.insert()
            .values(
                first_article_id=p.item.article_id,
                title=p.item.title,
                created_at=p.seen_at,
                last_seen_at=p.seen_at,
            )
            .returning(dedup_stories.c.id)
        ).scalar_one()
        counts.add(conn, {counts.STORIES: 1})
        return int(story_id), "story:new"

    def _record(self, conn: sa.Connection, p: _Prepared, result: DedupResult) -> None:
        conn.execute(
            dedup_documents.insert().values(
                article_id=p.item.article_id,
                source=p.item.source,
                title=p.item.title,
                seen_at=p.seen_at,
                published_at=p.published_at,
                text_hash=p.text_hash or "",
                shingle_count=len(p.shingles),
                shingles=sh.pack(p.shingles),
                copy_of=result.copy_of,
                story_id=result.story_id,
                reason=result.reason[:200],
            )
        )
        if p.fingerprints:
            conn.execute(
                dedup_fingerprints.insert(),
                [{"hash": h, "article_id": p.item.article_id} for h in sorted(p.fingerprints)],
            )


def _touch_story(conn: sa.Connection, story_id: int, seen_at: datetime) -> None:
    conn.execute(
        dedup_stories.update()
        .where(dedup_stories.c.id == story_id, dedup_stories.c.last_seen_at < seen_at)
        .values(last_seen_at=seen_at)
    )


def _prepare(item: DedupInput) -> _Prepared:
    words = content_tokens(item.text)
    sequence = sh.shingle_sequence(words)
    shingles = frozenset(sequence)
    seen_at = _utc(item.fetched)
    return _Prepared(
        item=item,
        seen_at=seen_at,
        published_at=_utc(item.published) if item.published else seen_at,
        text_hash=text_hash(words) if len(words) >= _MIN_HASHED_WORDS else None,
        shingles=shingles,
        fingerprints=sh.fingerprints(sequence),
    )


def _utc(moment: datetime) -> datetime:
    """Aware UTC; a naive value (SQLite returns those) is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
