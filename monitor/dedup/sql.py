"""The deduplication index's SQL, built once per dialect (the writer runs it for every article).

Executing the same statement object skips SQLAlchemy's statement construction and cache-key
generation, which cost more than SQLite itself on the writer's hot path. The per-article lists
(fingerprints looked up, fingerprints and story keys stored, key counts added) travel as ONE
parameter: a PostgreSQL array (`= ANY(:array)`, `unnest(:array)`), a JSON array on SQLite
(`json_each(:json)`). One statement and one statement text whatever the list's length: the
server reuses its plan, SQLite its prepared statement, and no Python runs per list item. The
exception is SQLite's fingerprint insert (~190 rows an article): one prepared INSERT run per row
(`executemany`) costs less there than unpacking the JSON array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from monitor.dedup.tables import (
    dedup_documents,
    dedup_fingerprints,
    dedup_key_counts,
    dedup_stories,
    dedup_story_keys,
)
from monitor.storage.direct import Direct, Given, Read
from monitor.storage.listparam import array_param, bind, is_postgres, member_of

ADVISORY_LOCK_KEY = 0x6E6D6464  # "nmdd": one lock for all of deduplication

_docs = dedup_documents.c
_keys = dedup_story_keys.c
_prints = dedup_fingerprints.c

ADVISORY_LOCK = sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY))
KNOWN = Direct(
    sa.select(_docs.copy_of, _docs.story_id, _docs.reason).where(
        _docs.article_id == sa.bindparam("b_article")
    )
)
MERGED_INTO = sa.select(dedup_stories.c.merged_into).where(
    dedup_stories.c.id == sa.bindparam("b_story")
)
JOINED = sa.select(dedup_stories.c.id).where(dedup_stories.c.merged_into == sa.bindparam("b_story"))
SHINGLES = sa.select(_docs.article_id, _docs.shingles).where(
    _docs.article_id.in_(sa.bindparam("b_ids", expanding=True))
)
KEYS = sa.select(_keys.article_id, _keys.key).where(
    _keys.article_id.in_(sa.bindparam("b_ids", expanding=True))
)
NEW_STORY = Direct(dedup_stories.insert().returning(dedup_stories.c.id))
INSERT_DOCUMENT = Direct(dedup_documents.insert())
TOUCH_STORY = Direct(
    dedup_stories.update()
    .where(
        dedup_stories.c.id == sa.bindparam("b_story"),
        dedup_stories.c.last_seen_at < sa.bindparam("b_seen"),
    )
    .values(last_seen_at=sa.bindparam("b_seen"))
)
_DROP_EMPTY_COUNTS = dedup_key_counts.delete().where(dedup_key_counts.c.count <= 0)
_COUNTS = sa.select(dedup_key_counts.c.key, dedup_key_counts.c.count)


class Lookups:
    """The lookups bounded by an index's `max_candidates`, for both dialects."""

    def __init__(self, max_candidates: int) -> None:
        self.same_hash = Direct(
            sa.select(_docs.article_id, _docs.copy_of, _docs.story_id)
            .where(
                _docs.text_hash == sa.bindparam("b_hash"),
                _docs.seen_at >= sa.bindparam("b_cutoff"),
            )
            .order_by(_docs.article_id)
            .limit(max_candidates)
        )
        self._copy = {
            pg: Direct(
                self._copy_candidates(
                    member_of(_prints.hash, "b_prints", postgres=pg),
                    max_candidates,
                )
            )
            for pg in (True, False)
        }
        self._story = {
            pg: Direct(
                self._story_candidates(
                    member_of(_keys.key, "b_keys", postgres=pg),
                    max_candidates,
                )
            )
            for pg in (True, False)
        }

    @staticmethod
    def _copy_candidates(wanted: sa.ColumnElement[bool], limit: int) -> sa.Select[Any]:
        shared = sa.func.count().label("shared")
        candidates = (
            sa.select(_prints.article_id, shared)
            .where(wanted)
            .group_by(_prints.article_id)
            .having(sa.func.count() >= sa.bindparam("b_need"))
            .order_by(shared.desc(), _prints.article_id)
            .limit(limit)
            .subquery()
        )
        return (
            sa.select(_docs.article_id, _docs.copy_of, _docs.story_id, _docs.seen_at)
            .join(candidates, candidates.c.article_id == _docs.article_id)
            .where(_docs.seen_at >= sa.bindparam("b_cutoff"))
        )

    @staticmethod
    def _story_candidates(wanted: sa.ColumnElement[bool], limit: int) -> sa.Select[Any]:
        shared = sa.func.count().label("shared")
        return (
            sa.select(_keys.article_id, _keys.story_id, _keys.published_at, shared)
            .where(
                wanted,
                _keys.published_at >= sa.bindparam("b_from"),
                _keys.published_at <= sa.bindparam("b_to"),
                _keys.story_id != sa.bindparam("b_exclude"),
            )
            .group_by(_keys.article_id, _keys.story_id, _keys.published_at)
            .having(sa.func.count() >= sa.bindparam("b_need"))
            .order_by(shared.desc(), _keys.article_id)
            .limit(limit)
        )

    def copy_candidates(
        self,
        conn: sa.Connection,
        prints: Sequence[int],
        need: int,
        cutoff: datetime,
        given: Given | None = None,
    ) -> Sequence[Any]:
        """Stored articles in the window sharing at least `need` of `prints`, most shared first."""
        direct, params = self.copy_read(conn, prints, need, cutoff)
        return direct.rows(conn, params, given)

    def copy_read(
        self, conn: sa.Connection, prints: Sequence[int], need: int, cutoff: datetime
    ) -> Read:
        params = {"b_prints": bind(conn, prints), "b_need": need, "b_cutoff": cutoff}
        return self._copy[is_postgres(conn)], params

    def same_hash_read(self, text_hash: str, cutoff: datetime) -> Read:
        """Stored articles in the window with this text hash."""
        return self.same_hash, {"b_hash": text_hash, "b_cutoff": cutoff}

    def story_candidates(
        self,
        conn: sa.Connection,
        keys: list[str],
        *,
        start: datetime,
        end: datetime,
        need: int,
        exclude: int | None,
    ) -> Sequence[Any]:
        """Write-ups published in [start, end] sharing at least `need` of `keys`."""
        params = {
            "b_keys": bind(conn, keys),
            "b_from": start,
            "b_to": end,
            "b_need": need,
            "b_exclude": -1 if exclude is None else exclude,  # ids are positive
        }
        return self._story[is_postgres(conn)].rows(conn, params)


# ------------------------------------------------------------------------------ bulk writes

_PG_FINGERPRINTS = Direct(
    dedup_fingerprints.insert().from_select(
        ["hash", "article_id"],
        sa.select(
            sa.func.unnest(array_param("b_hashes", sa.BigInteger)),
            sa.bindparam("b_article", type_=sa.BigInteger),
        ),
    )
)
_PG_KEYS = Direct(
    dedup_story_keys.insert().from_select(
        ["key", "article_id", "story_id", "published_at"],
        sa.select(
            sa.func.unnest(array_param("b_keys", sa.String)),
            sa.bindparam("b_article", type_=sa.BigInteger),
            sa.bindparam("b_story", type_=sa.BigInteger),
            sa.bindparam("b_published", type_=sa.DateTime(timezone=True)),
        ),
    )
)


def _pg_counts() -> sa.Executable:
    statement = postgresql.insert(dedup_key_counts).from_select(
        ["key", "count"],
        sa.select(
            sa.func.unnest(array_param("b_keys", sa.String)),
            sa.func.unnest(array_param("b_counts", sa.Integer)),
        ),
    )
    upsert: sa.Executable = statement.on_conflict_do_update(
        index_elements=[dedup_key_counts.c.key],
        set_={"count": dedup_key_counts.c.count + statement.excluded.count},
    )
    return upsert


_PG_COUNTS = Direct(_pg_counts())
# SQLite: one prepared INSERT run per row (executemany) costs less than unpacking a JSON array in
# one statement (json_each): 0.9 vs 1.3 ms for 190 fingerprints into a new table, 3.3 vs 4.3 ms
# into one of 1.9 million rows
_SQLITE_FINGERPRINTS = "INSERT INTO dedup_fingerprints (hash, article_id) VALUES (?, ?)"
_SQLITE_KEYS = Direct(
    sa.text(
        'INSERT INTO dedup_story_keys ("key", article_id, story_id, published_at) '
        "SELECT value, :b_article, :b_story, :b_published FROM json_each(:b_keys)"
    ).bindparams(sa.bindparam("b_published", type_=sa.DateTime(timezone=True)))
)
# "WHERE true": SQLite's parser would otherwise read the ON of ON CONFLICT as a join's.
_SQLITE_COUNTS = Direct(
    sa.text(
        'INSERT INTO dedup_key_counts ("key", count) '
        "SELECT k.value, n.value FROM json_each(:b_keys) AS k "
        "JOIN json_each(:b_counts) AS n ON n.key = k.key WHERE true "
        'ON CONFLICT ("key") DO UPDATE SET count = dedup_key_counts.count + excluded.count'
    )
)


def insert_fingerprints(conn: sa.Connection, article_id: int, hashes: Sequence[int]) -> None:
    if not hashes:
        return
    if is_postgres(conn):
        _PG_FINGERPRINTS.later(conn, {"b_hashes": list(hashes), "b_article": article_id})
    else:
        conn.exec_driver_sql(_SQLITE_FINGERPRINTS, [(h, article_id) for h in hashes])


def insert_keys(
    conn: sa.Connection,
    article_id: int,
    story_id: int,
    published_at: datetime,
    keys: Sequence[str],
) -> None:
    if not keys:
        return
    params = {
        "b_keys": bind(conn, keys),
        "b_article": article_id,
        "b_story": story_id,
        "b_published": published_at,
    }
    (_PG_KEYS if is_postgres(conn) else _SQLITE_KEYS).later(conn, params)


def add_counts(conn: sa.Connection, keys: Mapping[str, int]) -> None:
    """Add `keys` (key -> amount, sorted by key on the way) to the counts; may be negative."""
    if not keys:
        return
    ordered = sorted(keys.items())
    params = {
        "b_keys": bind(conn, [k for k, _ in ordered]),
        "b_counts": bind(conn, [n for _, n in ordered]),
    }
    (_PG_COUNTS if is_postgres(conn) else _SQLITE_COUNTS).later(conn, params)
    if any(n < 0 for n in keys.values()):
        conn.execute(_DROP_EMPTY_COUNTS)


_GET_COUNTS = {
    pg: Direct(_COUNTS.where(member_of(dedup_key_counts.c.key, "b_keys", postgres=pg)))
    for pg in (True, False)
}


def get_counts(
    conn: sa.Connection, keys: Sequence[str], given: Given | None = None
) -> dict[str, int]:
    rows = _GET_COUNTS[is_postgres(conn)].rows(conn, counts_read(conn, keys)[1], given)
    return {str(r[0]): int(r[1]) for r in rows}


def counts_read(conn: sa.Connection, keys: Sequence[str]) -> Read:
    return _GET_COUNTS[is_postgres(conn)], {"b_keys": bind(conn, keys)}
