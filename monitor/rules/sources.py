"""Reads articles from plain files for rule examples, tests and the quality score.

Two formats: a corpus file (``.md`` with YAML front matter, see :mod:`monitor.corpus`) and plain
text (``.txt``: the first non-empty line is the title, the rest the body; paragraphs are separated
by blank lines, or by single line breaks when the text has no blank line at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.corpus import CorpusArticle, parse_article
from monitor.rules.document import Document


def document_from_corpus(article: CorpusArticle) -> Document:
    """The rule engine's view of a labelled corpus article."""
    tags = article.labels.get("tags") or ()
    return Document(
        title=article.title,
        body=article.body,
        language=article.lang,
        source=article.source,
        url=article.url,
        published=article.published,
        tags=frozenset(str(t) for t in tags) if isinstance(tags, list) else frozenset(),
    )


def document_from_text(text: str, *, url: str = "") -> Document:
    """A plain-text article: first non-empty line is the title, the rest the body."""
    lines = text.replace("\r\n", "\n").strip().split("\n")
    title, rest = lines[0].strip(), "\n".join(lines[1:]).strip()
    if "\n\n" not in rest:
        rest = "\n\n".join(line.strip() for line in rest.split("\n") if line.strip())
    return Document(title=title, body=rest, url=url)


def document_from_file(path: Path) -> Document:
    """Read an ``.md`` corpus file or a ``.txt`` article."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md" and text.startswith("---"):
        return document_from_corpus(parse_article(text, path=path))
    return document_from_text(text, url=path.as_uri())


def document_from_mapping(item: Mapping[str, Any]) -> Document:
    """An inline example from a rule file: ``title``, ``text`` and optional metadata."""
    tags = item.get("tags") or []
    if not isinstance(item.get("text"), str) or not isinstance(tags, list):
        raise ValueError("'text' must be a string and 'tags' a list")
    return Document(
        title=str(item.get("title") or ""),
        body=item["text"].strip(),
        language=item.get("lang"),
        source=str(item.get("source") or ""),
        tags=frozenset(str(t) for t in tags),
    )
