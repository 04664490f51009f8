"""Labelled article corpora: the file format of test fixtures, quality commands and benchmarks.

A corpus is a directory of ``*.md`` files. Each file is one article: a YAML front matter block
between ``---`` lines carrying the article's metadata and its labels, then the body, one paragraph
per blank-line-separated block. Fixture files describe themselves: the labels are the expectation.

Front-matter keys read here: ``id`` (defaults to the file stem), ``title``, ``lang``, ``source``,
``published`` (ISO 8601), ``url``; every other key is kept in ``labels`` untouched
(for example ``flagship: true``, ``story: moura-2022``, ``copy_of: ap-moura``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError, ConfigProblem


@dataclass(frozen=True)
class CorpusArticle:
    """One labelled article read from a corpus file."""

    id: str
    title: str
    paragraphs: tuple[str, ...]
    lang: str | None = None
    source: str = ""
    url: str = ""
    published: datetime | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def body(self) -> str:
        """The body text, paragraphs separated by a blank line."""
        return "\n\n".join(self.paragraphs)


def parse_article(text: str, *, path: Path | None = None) -> CorpusArticle:
    """Parse one corpus file's text; raises ConfigError naming the file on a bad header."""
    name = str(path) if path else "<article>"
    if not text.startswith("---"):
        raise ConfigError([ConfigProblem(name, "", None, "missing '---' front matter")])
    try:
        _, header, body = text.split("---", 2)
        meta = yaml.safe_load(header) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError([ConfigProblem(name, "", None, f"bad front matter: {exc}")]) from exc
    if not isinstance(meta, dict):
        raise ConfigError([ConfigProblem(name, "", meta, "front matter must be a mapping")])
    meta = dict(meta)
    paragraphs = tuple(p.strip() for p in body.strip().split("\n\n") if p.strip())
    published = meta.pop("published", None)
    if isinstance(published, str):
        published = datetime.fromisoformat(published)
    if isinstance(published, datetime) and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return CorpusArticle(
        id=str(meta.pop("id", path.stem if path else "article")),
        title=str(meta.pop("title", "")),
        paragraphs=paragraphs,
        lang=meta.pop("lang", None),
        source=str(meta.pop("source", "")),
        url=str(meta.pop("url", "")),
        published=published if isinstance(published, datetime) else None,
        labels=meta,
        path=path,
    )


def load_corpus(directory: Path) -> list[CorpusArticle]:
    """Read every ``*.md`` article under `directory` (recursively), sorted by path."""
    return list(iter_corpus(directory))


def iter_corpus(directory: Path) -> Iterator[CorpusArticle]:
    """Yield the articles of a corpus directory in path order."""
    for path in sorted(directory.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        yield parse_article(path.read_text(encoding="utf-8"), path=path)
