"""Text normalisation for deduplication: folding, site boilerplate removal, tokens, the text hash.

Everything here is a pure function of the article text. Two copies of one wire story that differ
only in case, accents, punctuation, whitespace or site furniture ("Share", "READ: ...", newsletter
prompts, related links) normalise to the same token stream and therefore the same text hash.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

_TOKEN = re.compile(r"\w+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\r\n\s*\r\n")

# A paragraph is site furniture when it is short and opens with one of these (after folding).
_BOILERPLATE_OPENINGS = (
    "share",
    "read more",
    "read",
    "also read",
    "related",
    "see also",
    "more from",
    "more on",
    "more stories",
    "watch",
    "listen",
    "advertisement",
    "sponsored",
    "sign up",
    "subscribe",
    "follow us",
    "click here",
    "download our app",
    "copyright",
    "all rights reserved",
    "lire aussi",
    "a lire aussi",
    "voir aussi",
    "abonnez vous",
    "partager",
    "publicite",
)
_BOILERPLATE_MAX_WORDS = 25


class _FoldTable(dict[int, str]):
    """str.translate table folding one non-ASCII character at a time, filled on first use.

    NFKD decomposes character by character, so decomposing and dropping the combining marks of
    each character gives the same result as doing it on the whole text, at a fraction of the cost.
    """

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        value = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        self[code] = value
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lower-case `text` and strip accents, so that "Ségou" and "SEGOU" compare equal."""
    if text.isascii():
        return text.casefold()
    return text.translate(_FOLD).casefold()


def tokens(text: str) -> list[str]:
    """The folded word tokens of `text` (letters and digits; punctuation dropped)."""
    return _TOKEN.findall(fold(text))


def paragraphs(text: str) -> list[str]:
    """Split a body into paragraphs on blank lines; single newlines split too when no blank line."""
    parts = _PARAGRAPH_BREAK.split(text)
    if len(parts) == 1:
        parts = text.splitlines()
    return [p.strip() for p in parts if p.strip()]


def is_boilerplate(paragraph: str) -> bool:
    """True for a short paragraph that reads like site furniture rather than reporting."""
    return _boilerplate_words(tokens(paragraph))


def _boilerplate_words(words: list[str]) -> bool:
    """:func:`is_boilerplate` given the paragraph's folded tokens."""
    if not words:
        return True
    if len(words) > _BOILERPLATE_MAX_WORDS:
        return False
    joined = " ".join(words)
    return any(
        joined == opening or joined.startswith(opening + " ") for opening in _BOILERPLATE_OPENINGS
    )


def content_paragraphs(text: str) -> list[str]:
    """The paragraphs of `text` with site furniture removed."""
    return [p for p in paragraphs(text) if not is_boilerplate(p)]


def content_tokens(text: str) -> list[str]:
    """The folded tokens of the reporting in `text`: boilerplate paragraphs removed.

    Each paragraph is folded and tokenised once, for the boilerplate test and the result."""
    out: list[str] = []
    for paragraph in paragraphs(text):
        words = tokens(paragraph)
        if not _boilerplate_words(words):
            out.extend(words)
    return out


def text_hash(words: Sequence[str]) -> str:
    """A hex SHA-256 of the normalised token stream: equal for identical copies."""
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
