"""Language detection for articles whose page and feed declare no language.

:func:`detect_language` wraps py3langid (a maintained fork of langid.py whose model ships inside
the package: nothing is downloaded at run time). It is conservative: short texts, texts with
few letters and low-confidence guesses give ``None`` rather than a wrong code, because a wrong
language is worse than none for language-scoped rules and normalisation. Close languages that
the model confuses (Indonesian and Malay...) pool their probability before the threshold.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

MIN_LETTERS = 40  # fewer letters than this (title and text together): no guess
MIN_CONFIDENCE = 0.80  # normalised probability of the best language
SAMPLE_CHARS = 3000  # the title and the first part of the text are enough
# Languages the model splits its belief between on ordinary news text (Indonesian and Malay
# above all): their probabilities are added up before the confidence test, and the most likely
# one of them is returned.
CLOSE_LANGUAGES = (
    frozenset({"id", "ms"}),
    frozenset({"hr", "bs", "sr"}),
    frozenset({"no", "nb", "nn", "da"}),
    frozenset({"cs", "sk"}),
)

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from monitor.langmodel import load_identifier

    with _lock:
        return load_identifier()


def detect_language(title: str, text: str) -> str | None:
    """The ISO 639-1 code of the article's language, or None when unsure or too short."""
    # the title and the start of the text, without copying a long text first
    sample = f"{title[:SAMPLE_CHARS]}\n{text[:SAMPLE_CHARS]}"[:SAMPLE_CHARS]
    if sum(map(str.isalpha, sample)) < MIN_LETTERS:
        return None
    ranked = _identifier().rank(sample)
    best = str(ranked[0][0])
    cluster = next((c for c in CLOSE_LANGUAGES if best in c), frozenset({best}))
    confidence = sum(p for code, p in ranked if code in cluster)
    if confidence < MIN_CONFIDENCE:
        return None
    return best
