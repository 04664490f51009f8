"""Articles, the entries already seen per source, and rule matches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from monitor.storage.direct import Direct, Given, Read
from monitor.storage.tables import articles, rule_matches, seen_entries


def _mark_seen(module: Any) -> Executable:
    statement: Executable = (
        module.insert(seen_entries).on_conflict_do_nothing().returning(seen_entries.c.entry_key)
    )
    return statement


# Built once: the write stage runs these for every article (no per-call statement construction).
_MARK_SEEN = {"postgresql": Direct(_mark_seen(postgresql)), "sqlite": Direct(_mark_seen(sqlite))}
_SEEN = select(seen_entries.c.entry_key).where(
    seen_entries.c.source == bindparam("b_source"),
    seen_entries.c.entry_key.in_(bindparam("b_keys", expanding=True)),
)
_INSERT_ARTICLE = Direct(articles.insert().returning(articles.c.id))
_BY_CANONICAL_URL = Direct(
    select(articles.c.id, articles.c.story_id, articles.c.copy_of)
    .where(articles.c.canonical_url == bindparam("b_url"), articles.c.id != bindparam("b_exclude"))
    .order_by(articles.c.id)
    .limit(1)
)
_SET_GROUPING = Direct(
    update(articles)
    .where(articles.c.id == bindparam("b_id"))
    .values(story_id=bindparam("b_story"), copy_of=bindparam("b_copy"))
)
_INSERT_MATCH = rule_matches.insert()
_FIELDS = [c for c in articles.c if c.name not in ("id", "story_id", "copy_of")]


def _pg_store_new() -> Executable:
    """Mark the entry seen and insert its article only if that was new: ONE statement."""
    seen = (
        postgresql.insert(seen_entries)
        .values(
            source=bindparam("source"),
            entry_key=bindparam("b_key"),
            first_seen_at=bindparam("b_seen_at"),
        )
        .on_conflict_do_nothing()
        .returning(seen_entries.c.entry_key)
        .cte("seen")
    )
    values = select(*(bindparam(c.name, type_=c.type) for c in _FIELDS)).where(
        exists(select(seen.c.entry_key))
    )
    statement: Executable = (
        articles.insert()
        .from_select([c.name for c in _FIELDS], values, include_defaults=False)
        .returning(articles.c.id)
    )
    return statement


_PG_STORE_NEW = Direct(_pg_store_new())


@dataclass(frozen=True)
class NewArticle:
    source: str
    guid: str | None
    url: str
    canonical_url: str
    title: str
    text: str
    author: str | None
    site_name: str | None
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    extraction: str
    tags: tuple[str, ...]


def unseen_keys(conn: Connection, source: str, keys: Iterable[str]) -> set[str]:
    """The keys among `keys` that `source` has not recorded yet."""
    wanted = set(keys)
    if not wanted:
        return set()
    seen = set(conn.execute(_SEEN, {"b_source": source, "b_keys": sorted(wanted)}).scalars())
    return wanted - seen


def mark_seen(conn: Connection, source: str, key: str, now: datetime) -> bool:
    """Record the entry as seen; False if another worker recorded it first.

    One `INSERT … ON CONFLICT DO NOTHING` (SQLite and PostgreSQL): no savepoint, no exception,
    so the write stage's group commit stays cheap."""
    values = {"source": source, "entry_key": key, "first_seen_at": now}
    statement = _MARK_SEEN["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    return statement.first(conn, values) is not None


def store_new(conn: Connection, article: NewArticle, key: str, now: datetime) -> int | None:
    """Record the entry `key` as seen and insert its article; the article's id, or None (and
    nothing inserted) if another worker recorded the entry first. One statement, one round
    trip, on PostgreSQL (a data-modifying CTE); `mark_seen` then `insert_article` on SQLite."""
    return store_new_after(conn, article, key, now, ())[0]


def store_new_after(
    conn: Connection, article: NewArticle, key: str, now: datetime, reads: Sequence[Read]
) -> tuple[int | None, Given]:
    """`store_new`, with `reads` run just before it in its round trip on PostgreSQL (see
    `Direct.rows_after`); their rows come back in the `Given`. On SQLite they are not run."""
    if conn.dialect.name == "postgresql":
        values = {**article.__dict__, "tags": list(article.tags), "b_key": key, "b_seen_at": now}
        rows, given = _PG_STORE_NEW.rows_after(conn, values, reads)
        return (int(rows[0][0]) if rows else None), given
    # SQLite: a statement is a function call, not a round trip, so nothing is run ahead (the
    # Given is empty and each look-up is made when it is needed, as it always was)
    if not mark_seen(conn, article.source, key, now):
        return None, Given()
    return insert_article(conn, article), Given()


def insert_article(conn: Connection, article: NewArticle) -> int:
    values = dict(article.__dict__)
    values["tags"] = list(article.tags)
    (row,) = _INSERT_ARTICLE.rows(conn, values)
    return int(row[0])


def find_by_canonical_url(
    conn: Connection, url: str, exclude_id: int, given: Given | None = None
) -> Mapping[str, Any] | None:
    """The oldest other article with canonical URL `url`. From `given` when it holds the
    `canonical_url_read` run before article `exclude_id` was stored (the same answer)."""
    found = given.take(*canonical_url_read(url)) if given is not None else None
    if found is None:
        found = _BY_CANONICAL_URL.rows(conn, {"b_url": url, "b_exclude": exclude_id})
    return dict(found[0]._asdict()) if found else None


def canonical_url_read(url: str) -> Read:
    """The look-up of `find_by_canonical_url`, to run before the article is stored (nothing to
    exclude then: ids are positive)."""
    return _BY_CANONICAL_URL, {"b_url": url, "b_exclude": 0}


def set_grouping(conn: Connection, article_id: int, *, story_id: int, copy_of: int | None) -> None:
    _SET_GROUPING.later(conn, {"b_id": article_id, "b_story": story_id, "b_copy": copy_of})


def record_match(
    conn: Connection, article_id: int, rule: str, explanation: Mapping[str, Any], now: datetime
) -> None:
    conn.execute(
        _INSERT_MATCH,
        {
            "article_id": article_id,
            "rule": rule,
            "matched_at": now,
            "explanation": dict(explanation),
        },
    )


def iter_articles(
    conn: Connection, since: datetime | None = None, *, page: int = 500
) -> Iterator[Mapping[str, Any]]:
    """Stored articles in id order, each with the names of the rules it matched.

    Rows are read a page at a time, each page in its own short transaction, so a long export
    never holds the database (SQLite transactions take the write lock).
    """
    last_id = 0
    while True:
        query = select(articles).where(articles.c.id > last_id).order_by(articles.c.id).limit(page)
        if since is not None:
            query = query.where(articles.c.fetched_at >= since)
        rows = [dict(row) for row in conn.execute(query).mappings()]
        ids = [int(row["id"]) for row in rows]
        matches: dict[int, list[str]] = {}
        if ids:
            found = conn.execute(
                select(rule_matches.c.article_id, rule_matches.c.rule)
                .where(rule_matches.c.article_id.in_(ids))
                .order_by(rule_matches.c.rule)
            )
            for article_id, rule in found:
                matches.setdefault(int(article_id), []).append(rule)
        if conn.in_transaction() and not conn.in_nested_transaction():
            conn.commit()
        for row in rows:
            yield {**row, "rules": matches.get(int(row["id"]), [])}
        if len(rows) < page:
            return
        last_id = ids[-1]
