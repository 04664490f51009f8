"""The article as the rule engine sees it: a title, a body of paragraphs and some metadata.

The pipeline builds a :class:`Document` from whatever it fetched and extracted; rules never see
HTML, feeds or storage rows. Paragraphs in ``body`` are separated by a blank line (``"\\n\\n"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Document:
    """One article to match: its text fields and the metadata that rule filters look at."""

    title: str
    body: str
    language: str | None = None
    source: str = ""
    tags: frozenset[str] = frozenset()
    url: str = ""
    published: datetime | None = None


def primary_language(code: str | None) -> str:
    """The lower-cased primary subtag of a language code: ``"fr-FR"`` -> ``"fr"``."""
    if not code:
        return ""
    return code.replace("_", "-").split("-", 1)[0].strip().lower()
