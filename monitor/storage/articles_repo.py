"""Articles, the entries already seen per source, and rule matches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from monitor.storage.tables import articles, rule_matches, seen_entries


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
    seen = set(
        conn.execute(
            select(seen_entries.c.entry_key).where(
                seen_entries.c.source == source, seen_entries.c.entry_key.in_(list(wanted))
            )
        ).scalars()
    )
    return wanted - seen


def mark_seen(conn: Connection, source: str, key: str, now: datetime) -> bool:
    """Record the entry as seen; False if another worker recorded it first.

    One `INSERT … ON CONFLICT DO NOTHING` (SQLite and PostgreSQL): no savepoint, no exception,
    so the write stage's group commit stays cheap."""
    values = {"source": source, "entry_key": key, "first_seen_at": now}
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(seen_entries)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(seen_entries.c.entry_key)
    )
    return conn.execute(statement).first() is not None


def insert_article(conn: Connection, article: NewArticle) -> int:
    values = dict(article.__dict__)
    values["tags"] = list(article.tags)
    key = conn.execute(articles.insert().values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def find_by_canonical_url(conn: Connection, url: str, exclude_id: int) -> Mapping[str, Any] | None:
    row = (
        conn.execute(
            select(articles.c.id, articles.c.story_id, articles.c.copy_of)
            .where(articles.c.canonical_url == url, articles.c.id != exclude_id)
            .order_by(articles.c.id)
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def set_grouping(conn: Connection, article_id: int, *, story_id: int, copy_of: int | None) -> None:
    conn.execute(
        update(articles)
        .where(articles.c.id == article_id)
        .values(story_id=story_id, copy_of=copy_of)
    )


def record_match(
    conn: Connection, article_id: int, rule: str, explanation: Mapping[str, Any], now: datetime
) -> None:
    conn.execute(
        rule_matches.insert().values(
            article_id=article_id, rule=rule, matched_at=now, explanation=dict(explanation)
        )
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
