"""The database-backed deduplication index the pipeline calls: copy groups first, then stories.

`DedupIndex.classify` runs inside the caller's transaction (or savepoint) and never commits. It
compares the article with every stored article that shares its text hash or enough lookup
fingerprints, verified on the exact shingle sets. The copy relation is kept as *groups*: an
article that is a copy of any member joins the group, and an article that is a copy of members of
several groups joins them into one. Each group's original is its fullest text, so when the full
wire text arrives after a lead-only copy, the earlier members become copies of it; the group keeps
its story. An article that is no copy is a new write-up: it joins the story of the write-ups it
matches (see ``story``), joining stories that it shows to be one event when they do not contradict
each other, or the stories of write-ups that share a long passage with it. Earlier articles
whose original or story changed are returned in ``DedupResult.regrouped`` for the caller to
write on its own rows. The story look-ups and joins are in ``stories`` (``StoryLinks``).

Copy groups are the same whatever the arrival order, as long as the candidate lookups are
complete (they are bounded: see ``max_candidates``); stories too, except where a join is refused
because the write-ups compared contradict each other, which depends on which were compared
(docs/dedup.md, *Order*). On PostgreSQL a transaction-scoped advisory lock
serialises classification across replicas; on SQLite the database's single writer does the same.
Re-classifying an article returns the recorded decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray

from monitor.dedup import counts, sql
from monitor.dedup import shingles as sh
from monitor.dedup.cache import LruCache
from monitor.dedup.model import CarriedBy, DedupInput, DedupResult, Regrouped
from monitor.dedup.prepare import Fingerprints, prepare_fingerprints
from monitor.dedup.stories import Member, StoryHit, StoryLinks, touch_story, utc
from monitor.dedup.story import StoryThresholds
from monitor.dedup.tables import (
    dedup_documents,
    dedup_fingerprints,
    dedup_stories,
    dedup_story_keys,
)
from monitor.storage.direct import Given, Read
from monitor.storage.tables import articles


@dataclass(frozen=True)
class _Prepared:
    item: DedupInput
    seen_at: datetime
    published_at: datetime
    prints: Fingerprints


class DedupIndex(StoryLinks):
    """Copies and stories over a sliding time window, stored in the database."""

    def __init__(
        self,
        *,
        window: timedelta = timedelta(days=7),
        copy_thresholds: sh.CopyThresholds | None = None,
        story_thresholds: StoryThresholds | None = None,
        max_candidates: int = 40,
        max_lookup_keys: int = 24,
        max_key_frequency: int = 300,
        cache_size: int = 50_000,
    ) -> None:
        self.window = window
        self.copy_thresholds = copy_thresholds or sh.CopyThresholds()
        self.story_thresholds = story_thresholds or StoryThresholds()
        self.max_candidates = max_candidates
        self.max_lookup_keys = max_lookup_keys
        self.max_key_frequency = max_key_frequency
        self._keys_cache: LruCache[frozenset[str]] = LruCache(cache_size)
        self._shingles_cache: LruCache[NDArray[np.uint32]] = LruCache(cache_size // 5)
        self._sql = sql.Lookups(max_candidates)

    # ----------------------------------------------------------------------------------- calls

    def lock(self, conn: sa.Connection) -> None:
        """Serialise classification with other replicas until this transaction ends (PostgreSQL's
        advisory lock, taken once per transaction; SQLite's single writer does it by itself).
        `classify` takes it too; a caller that reads what classification depends on first
        takes it before that read."""
        if conn.dialect.name == "postgresql":
            _hold_lock(conn)

    def classify(
        self, conn: sa.Connection, item: DedupInput, given: Given | None = None
    ) -> DedupResult:
        """Decide whether `item` is a copy and which story it belongs to; record it. `given`:
        the rows of `reads_ahead(conn, item)`, run by the caller beforehand."""
        self.lock(conn)
        if not item.fresh:
            known = sql.KNOWN.first(conn, {"b_article": item.article_id})
            if known is not None:
                return DedupResult(known.copy_of, known.story_id, known.reason)
        p = _prepared(item)
        members, passages = self._copy_members(conn, p, given)
        if members:
            return self._join_copies(conn, p, members)
        keys = p.prints.story_keys
        hits = self._story_hits(conn, keys, p.published_at, exclude=None, given=given)
        hits = self._with_passages(conn, p.published_at, p.prints.story_keys, hits, passages)
        changes: dict[int, Regrouped] = {}
        new_stories = 0
        if hits:
            best = hits[0]
            story_id = self._merge_stories(conn, best, hits[1:], p.seen_at, changes)
            reason = f"story:joined {best.reason}"
        else:
            story_id, new_stories = self._new_story(conn, p), 1
            reason = "story:new"
        self._record(conn, p, None, story_id, reason)
        self._add_keys(
            conn, p.item.article_id, story_id, p.published_at, p.prints.story_keys, new_stories
        )
        return DedupResult(None, story_id, reason, _sorted(changes))

    def reads_ahead(self, conn: sa.Connection, item: DedupInput) -> list[Read]:
        """The look-ups `classify(conn, item)` starts with (same text, copy candidates, the
        counts of its story keys), for a caller that stores the article to run them in the same
        round trip, before it (`Direct.rows_after`), under `lock`, and hand their rows to
        `classify` as `given`. Nothing they read is written in between: the article's own rows
        in the index are written by `classify`. Only for a fresh item with its fingerprints."""
        if not item.fresh or item.fingerprints is None:
            return []
        p = _prepared(item)
        cutoff = p.seen_at - self.window
        reads = []
        if p.prints.text_hash is not None:
            reads.append(self._sql.same_hash_read(p.prints.text_hash, cutoff))
        if self._looks_up_copies(p.prints):
            prints = p.prints.fingerprints
            reads.append(self._sql.copy_read(conn, prints, _copy_need(prints), cutoff))
        story_counts = counts.read(conn, [*p.prints.story_keys, counts.STORIES])
        return reads if story_counts is None else [*reads, story_counts]

    def also_carried_by(self, conn: sa.Connection, story_id: int) -> list[CarriedBy]:
        """Every article of the story still in the window, oldest first (copies flagged).

        A story that was joined into another is followed to the one it joined.
        """
        story_id = self.current_story(conn, story_id)
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

    def current_story(self, conn: sa.Connection, story_id: int) -> int:
        """The story `story_id` now belongs to (itself unless it was joined into another)."""
        merged = conn.execute(sql.MERGED_INTO, {"b_story": story_id}).scalar()
        return int(merged) if merged is not None else story_id

    def story_ids(self, conn: sa.Connection, story_id: int) -> list[int]:
        """`story_id`'s current story and every story joined into it (for alert look-ups)."""
        current = self.current_story(conn, story_id)
        joined = conn.execute(sql.JOINED, {"b_story": current}).scalars()
        return sorted({current, *(int(s) for s in joined)})

    def prune(self, conn: sa.Connection, now: datetime) -> int:
        """Forget articles seen before ``now - window``; returns how many were forgotten."""
        cutoff = utc(now) - self.window
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
        live = conn.execute(
            sa.select(sa.func.count())
            .select_from(dedup_stories)
            .where(dedup_stories.c.last_seen_at < cutoff, dedup_stories.c.merged_into.is_(None))
        ).scalar_one()
        conn.execute(dedup_stories.delete().where(dedup_stories.c.last_seen_at < cutoff))
        counts.add(conn, {counts.STORIES: -int(live)} if live else {})
        return removed.rowcount

    # -------------------------------------------------------------------------------- copies

    def _copy_members(
        self, conn: sa.Connection, p: _Prepared, given: Given | None = None
    ) -> tuple[list[Member], list[Member]]:
        """Every stored article in the window that this text is a copy of (bounded lookup), and
        those that are no copy but share a long passage with it (see `_with_passages`)."""
        cutoff = p.seen_at - self.window
        found: dict[int, Member] = {}
        if p.prints.text_hash is not None:
            same_hash, params = self._sql.same_hash_read(p.prints.text_hash, cutoff)
            for same in same_hash.rows(conn, params, given):
                found[same.article_id] = Member(
                    same.article_id, same.copy_of or same.article_id, same.story_id, None
                )
        passages: dict[int, Member] = {}
        if not self._looks_up_copies(p.prints):
            return list(found.values()), []
        prints = p.prints.fingerprints
        rows = self._sql.copy_candidates(conn, prints, _copy_need(prints), cutoff, given)
        sets = self._shingle_sets(conn, [(r.article_id, str(r.seen_at)) for r in rows])
        mine = sh.unpack_sorted(p.prints.packed_shingles) if rows else None
        for row in rows:
            if row.article_id in found or mine is None:
                continue
            overlap = sh.overlap_sorted(mine, sets[row.article_id])
            member = Member(row.article_id, row.copy_of or row.article_id, row.story_id, overlap)
            if sh.is_copy(overlap, self.copy_thresholds):
                found[row.article_id] = member
            elif (need := self.story_thresholds.min_passage) is not None and overlap.shared >= need:
                passages[row.article_id] = member
        by_id = lambda m: m.article_id  # noqa: E731
        return sorted(found.values(), key=by_id), sorted(passages.values(), key=by_id)

    def _looks_up_copies(self, prints: Fingerprints) -> bool:
        minimum = self.copy_thresholds.min_shingles
        return bool(prints.fingerprints) and prints.shingle_count >= minimum

    def _shingle_sets(
        self, conn: sa.Connection, wanted: Sequence[tuple[int, str]]
    ) -> dict[int, NDArray[np.uint32]]:
        out: dict[int, NDArray[np.uint32]] = {}
        missing = []
        for key in wanted:
            cached = self._shingles_cache.get(key)
            if cached is None:
                missing.append(key)
            else:
                out[key[0]] = cached
        if missing:
            stamps = dict(missing)
            for article_id, blob in conn.execute(sql.SHINGLES, {"b_ids": sorted(stamps)}):
                value = sh.unpack_sorted(blob)
                out[article_id] = value
                self._shingles_cache.put((article_id, stamps[article_id]), value)
        return out

    def _join_copies(self, conn: sa.Connection, p: _Prepared, members: list[Member]) -> DedupResult:
        """Join the copy groups of `members` (and their stories) and pick the fullest original."""
        docs = dedup_documents.c
        roots = sorted({m.root for m in members})  # the groups joined
        group = conn.execute(
            sa.select(
                docs.article_id,
                docs.copy_of,
                docs.story_id,
                docs.shingle_count,
                docs.published_at,
            ).where(sa.or_(docs.article_id.in_(roots), docs.copy_of.in_(roots)))
        ).all()
        stories = sorted({r.story_id for r in group} | {m.story_id for m in members})
        story_id = stories[0]
        changes: dict[int, Regrouped] = {}
        if len(stories) > 1:
            self._absorb_stories(conn, story_id, stories[1:], changes)
        # The fullest text is the original; on a tie the earlier publication, then the current
        # original (the choice of original within a group does not change the groups).
        current = {m.root for m in members}
        mine = (-p.prints.shingle_count, utc(p.published_at), 1, p.item.article_id)
        fullest = min(
            (
                (
                    -r.shingle_count,
                    utc(r.published_at),
                    int(r.article_id not in current),
                    r.article_id,
                )
                for r in group
            ),
            default=mine,
        )
        new_root = p.item.article_id if mine[:2] < fullest[:2] else fullest[3]
        for r in group:
            wanted = None if r.article_id == new_root else new_root
            if r.copy_of != wanted:
                conn.execute(
                    dedup_documents.update()
                    .where(docs.article_id == r.article_id)
                    .values(copy_of=wanted)
                )
                changes[r.article_id] = Regrouped(r.article_id, wanted, story_id)
        best = max(members, key=_member_rank)
        reason = "text-hash" if best.found is None else f"near-duplicate {best.found.describe()}"
        copy_of = None if new_root == p.item.article_id else new_root
        if copy_of is None:
            reason = f"fuller original of {best.article_id} ({reason})"
        touch_story(conn, story_id, p.seen_at)
        self._record(conn, p, copy_of, story_id, reason)
        # Every member's story keys are indexed, so this text may show the group's story to be one
        # with another that no earlier member matched (as it would have, had it come first).
        hits = self._story_hits(conn, p.prints.story_keys, p.published_at, exclude=story_id)
        if hits:
            # the group's original must not contradict the story joined either
            guards = []
            if copy_of is not None:
                stamp = conn.execute(
                    sa.select(docs.published_at).where(docs.article_id == copy_of)
                ).scalar_one()
                guards.append(self._key_sets(conn, [(copy_of, str(stamp))])[copy_of])
            story_id = self._merge_stories(
                conn, self._own_hit(story_id, p), hits, p.seen_at, changes, guards
            )
            changes.pop(p.item.article_id, None)
        self._add_keys(conn, p.item.article_id, story_id, p.published_at, p.prints.story_keys)
        return DedupResult(copy_of, story_id, reason, _sorted(changes))

    @staticmethod
    def _own_hit(story_id: int, p: _Prepared) -> StoryHit:
        return StoryHit(story_id, 1.0, p.item.article_id, p.prints.story_keys, "")

    def _new_story(self, conn: sa.Connection, p: _Prepared) -> int:
        (story_id,) = sql.NEW_STORY.first(
            conn,
            {
                "first_article_id": p.item.article_id,
                "title": p.item.title,
                "created_at": p.seen_at,
                "last_seen_at": p.seen_at,
            },
        )
        return int(story_id)  # counted in the window by the caller's _add_keys

    def _record(
        self,
        conn: sa.Connection,
        p: _Prepared,
        copy_of: int | None,
        story_id: int,
        reason: str,
    ) -> None:
        sql.INSERT_DOCUMENT.later(
            conn,
            {
                "article_id": p.item.article_id,
                "source": p.item.source,
                "title": p.item.title,
                "seen_at": p.seen_at,
                "published_at": p.published_at,
                "text_hash": p.prints.text_hash or "",
                "shingle_count": p.prints.shingle_count,
                "shingles": p.prints.packed_shingles,
                "copy_of": copy_of,
                "story_id": story_id,
                "reason": reason[:200],
            },
        )
        sql.insert_fingerprints(conn, p.item.article_id, p.prints.fingerprints)


def _prepared(item: DedupInput) -> _Prepared:
    seen_at = utc(item.fetched)
    return _Prepared(
        item=item,
        seen_at=seen_at,
        published_at=utc(item.published) if item.published else seen_at,
        prints=item.fingerprints or prepare_fingerprints(item.title, item.text),
    )


def _copy_need(prints: Sequence[int]) -> int:
    """How many of its fingerprints a copy candidate must share."""
    return 2 if len(prints) >= 4 else 1


def _member_rank(m: Member) -> tuple[int, float, float, int]:
    if m.found is None:
        return (1, 1.0, 1.0, -m.article_id)
    return (0, m.found.jaccard, m.found.containment, -m.article_id)


def _sorted(changes: dict[int, Regrouped]) -> tuple[Regrouped, ...]:
    return tuple(changes[k] for k in sorted(changes))


_LOCK_HELD = "monitor_dedup_lock_held"  # conn.info key: the transaction that holds the lock


def _hold_lock(conn: sa.Connection) -> None:
    """Take the dedup advisory lock for the current transaction, once: a group-commit batch
    classifies up to 200 articles in one transaction, and each lock call was a round trip
    (~0.4 ms of ~14 ms per article on PostgreSQL). The innermost transaction is what counts:
    a savepoint that is rolled back releases a lock taken inside it, so every savepoint of the
    writer's replay path takes it again."""
    tx = conn.get_nested_transaction() or conn.get_transaction()
    if tx is None or conn.info.get(_LOCK_HELD) is not tx:
        conn.execute(sql.ADVISORY_LOCK)
        conn.info[_LOCK_HELD] = tx
