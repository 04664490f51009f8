"""The story side of the dedup index: finding the stories a write-up matches, joining them.

`StoryLinks` is the base of :class:`monitor.dedup.index.DedupIndex`: it looks up candidate
write-ups by their rare story keys (and takes the stories of write-ups that share a long passage
with this one), decides with :func:`monitor.dedup.story.compare`, and joins stories in the
database. See docs/dedup.md, *Stories*.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from monitor.dedup import counts, sql
from monitor.dedup import shingles as sh
from monitor.dedup.cache import LruCache
from monitor.dedup.model import Regrouped
from monitor.dedup.story import (
    StoryFeatures,
    StoryThresholds,
    compare,
    lookup_need,
    veto,
    weight,
)
from monitor.dedup.tables import dedup_documents, dedup_stories, dedup_story_keys
from monitor.storage.direct import Given


@dataclass(frozen=True)
class Member:
    """A stored article found as a copy candidate, with the overlap measured against it."""

    article_id: int
    root: int  # its copy group's original
    story_id: int
    found: sh.Overlap | None  # None: same text hash


@dataclass(frozen=True)
class StoryHit:
    story_id: int
    score: float
    article_id: int
    keys: frozenset[str]
    reason: str


class StoryLinks:
    """Story look-ups and joins over the dedup tables (the attributes are set by DedupIndex)."""

    story_thresholds: StoryThresholds
    max_lookup_keys: int
    max_key_frequency: int
    window: timedelta
    _keys_cache: LruCache[frozenset[str]]
    _sql: sql.Lookups

    def _story_hits(
        self,
        conn: sa.Connection,
        wanted: frozenset[str],
        published_at: datetime,
        *,
        exclude: int | None,
        given: Given | None = None,
    ) -> list[StoryHit]:
        """The stories whose write-ups `wanted` matches, best first (one hit per story)."""
        thresholds = self.story_thresholds
        df = counts.get(conn, [*wanted, counts.STORIES], given)
        stories = df.pop(counts.STORIES, 0)
        # Only rare keys can make a match (at least `min_rare_shared` of them must be shared), so
        # only they are looked up, rarest first and bounded: the lookup never scans common keys.
        rare = sorted(
            (
                k
                for k in wanted
                if weight(k, df, stories, thresholds) >= thresholds.rare_weight
                and df.get(k, 0) <= self.max_key_frequency
            ),
            key=lambda k: (df.get(k, 0), k),
        )[: self.max_lookup_keys]
        # an identical headline counts for one rare key, and a short excerpt needs only the rare
        # keys it has (see story.compare)
        needed = lookup_need(rare, thresholds)
        if len(rare) < needed:
            return []
        span = thresholds.window
        candidates = self._sql.story_candidates(
            conn,
            rare,
            start=published_at - span,
            end=published_at + span,
            need=max(needed - 1, 1),
            exclude=exclude,
        )
        if not candidates:
            return []
        their = self._key_sets(conn, [(c.article_id, str(c.published_at)) for c in candidates])
        mine = StoryFeatures(wanted, published_at)
        weights: dict[str, float] = {}  # shared by this lookup's comparisons (same df)
        best: dict[int, StoryHit] = {}
        for c in candidates:
            other = StoryFeatures(their.get(c.article_id, frozenset()), utc(c.published_at))
            match = compare(
                mine, other, df=df, stories=stories, thresholds=thresholds, weights=weights
            )
            if not match.same:
                continue
            hit = StoryHit(c.story_id, match.score, c.article_id, other.keys, match.reason)
            known = best.get(c.story_id)
            if known is None or hit_rank(hit) > hit_rank(known):
                best[c.story_id] = hit
        return sorted(best.values(), key=hit_rank, reverse=True)

    def _key_sets(
        self, conn: sa.Connection, wanted: Sequence[tuple[int, str]]
    ) -> dict[int, frozenset[str]]:
        out: dict[int, frozenset[str]] = {}
        missing: dict[int, str] = {}
        for key in wanted:
            cached = self._keys_cache.get(key)
            if cached is None:
                missing[key[0]] = key[1]
            else:
                out[key[0]] = cached
        if missing:
            found: dict[int, set[str]] = {}
            for article_id, key in conn.execute(sql.KEYS, {"b_ids": sorted(missing)}):
                found.setdefault(article_id, set()).add(key)
            for article_id, stamp in missing.items():
                value = frozenset(found.get(article_id, ()))
                out[article_id] = value
                self._keys_cache.put((article_id, stamp), value)
        return out

    def _merge_stories(
        self,
        conn: sa.Connection,
        best: StoryHit,
        others: Iterable[StoryHit],
        seen_at: datetime,
        changes: dict[int, Regrouped],
        guards: Sequence[frozenset[str]] = (),
    ) -> int:
        """Join `best`'s story with the other matched stories whose matched write-up contradicts
        neither `best`'s nor any of `guards` (casualty figures, dates); the oldest story id
        survives. Returns the surviving story."""
        joined = [best.story_id]
        for hit in others:
            if hit.story_id in joined:
                continue
            if all(veto(hit.keys, keys) is None for keys in (best.keys, *guards)):
                joined.append(hit.story_id)
        survivor = min(joined)
        absorbed = sorted(s for s in joined if s != survivor)
        if absorbed:
            self._absorb_stories(conn, survivor, absorbed, changes)
        touch_story(conn, survivor, seen_at)
        return survivor

    def _absorb_stories(
        self,
        conn: sa.Connection,
        survivor: int,
        absorbed: Sequence[int],
        changes: dict[int, Regrouped],
    ) -> None:
        docs = dedup_documents.c
        for row in conn.execute(
            sa.select(docs.article_id, docs.copy_of).where(docs.story_id.in_(absorbed))
        ):
            changes[row.article_id] = Regrouped(row.article_id, row.copy_of, survivor)
        conn.execute(
            dedup_documents.update().where(docs.story_id.in_(absorbed)).values(story_id=survivor)
        )
        conn.execute(
            dedup_story_keys.update()
            .where(dedup_story_keys.c.story_id.in_(absorbed))
            .values(story_id=survivor)
        )
        conn.execute(
            dedup_stories.update()
            .where(
                sa.or_(dedup_stories.c.id.in_(absorbed), dedup_stories.c.merged_into.in_(absorbed))
            )
            .values(merged_into=survivor)
        )
        counts.add(conn, {counts.STORIES: -len(absorbed)})

    def _with_passages(
        self,
        conn: sa.Connection,
        published_at: datetime,
        mine: frozenset[str],
        hits: list[StoryHit],
        passages: Sequence[Member],
    ) -> list[StoryHit]:
        """Add the stories of write-ups that share a long passage with this one (different
        excerpts or a rewrite of one wire article) to the key-based `hits`, unless their casualty
        figures or dates contradict this one's or they were published too far apart."""
        known = {h.story_id for h in hits}
        wanted = [m for m in passages if m.story_id not in known]
        if not wanted:
            return hits
        docs = dedup_documents.c
        stamps = dict(
            conn.execute(
                sa.select(docs.article_id, docs.published_at).where(
                    docs.article_id.in_([m.article_id for m in wanted])
                )
            ).all()
        )
        sets = self._key_sets(conn, [(m.article_id, str(stamps[m.article_id])) for m in wanted])
        added = list(hits)
        for m in wanted:
            theirs = sets[m.article_id]
            apart = abs(utc(stamps[m.article_id]) - published_at)
            if m.story_id in known or apart > self.story_thresholds.window:
                continue
            if veto(mine, theirs) is not None:
                continue
            assert m.found is not None
            reason = f"passage shared={m.found.shared} {m.found.describe()}"
            added.append(StoryHit(m.story_id, m.found.containment, m.article_id, theirs, reason))
            known.add(m.story_id)
        return sorted(added, key=hit_rank, reverse=True)

    def _add_keys(
        self,
        conn: sa.Connection,
        article_id: int,
        story_id: int,
        published_at: datetime,
        keys: frozenset[str],
        new_stories: int = 0,
    ) -> None:
        """Index the article's story keys and count them (and a new story) in the window."""
        counts.add(conn, {**dict.fromkeys(keys, 1), **({counts.STORIES: 1} if new_stories else {})})
        sql.insert_keys(conn, article_id, story_id, published_at, sorted(keys))


def hit_rank(hit: StoryHit) -> tuple[float, int]:
    return (round(hit.score, 9), -hit.story_id)


def touch_story(conn: sa.Connection, story_id: int, seen_at: datetime) -> None:
    sql.TOUCH_STORY.later(conn, {"b_story": story_id, "b_seen": seen_at})


def utc(moment: datetime) -> datetime:
    """Aware UTC; a naive value (SQLite returns those) is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
