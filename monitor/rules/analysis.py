"""One article prepared for matching: tokenised fields, lead paragraphs and cached term lookups.

An :class:`AnalysedDocument` is built once per article per match call and never shared between
threads. It answers "where does this word / prefix / phrase occur" with hits ``(field, first
token, last token)``; field 0 is the title and field 1 the body. The *lead* is not a separate
text: it is the body restricted to its first two paragraphs of at least six words (datelines,
"Share" buttons and one-line captions are skipped), so lead matches point into the body.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

from monitor.rules.document import Document
from monitor.rules.normalize import Token, tokenize
from monitor.rules.syntax import Matcher

Hit = tuple[int, int, int]
TITLE, BODY = 0, 1
FIELD_NAMES = ("title", "body")
LEAD_PARAGRAPHS = 2
LEAD_MIN_WORDS = 6


class FieldText:
    """The tokens of one field with a word -> positions index and a sorted vocabulary."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = tokenize(text)
        positions: defaultdict[str, list[int]] = defaultdict(list)
        for index, token in enumerate(self.tokens):
            positions[token.norm].append(index)
        self.positions: dict[str, list[int]] = dict(positions)
        self.vocabulary: list[str] = sorted(self.positions)

    def words_with_prefix(self, prefix: str) -> list[str]:
        start = bisect_left(self.vocabulary, prefix)
        found: list[str] = []
        for word in self.vocabulary[start:]:
            if not word.startswith(prefix):
                break
            found.append(word)
        return found

    def matches(self, matcher: Matcher, index: int) -> bool:
        word, prefix = matcher
        norm = self.tokens[index].norm
        return norm.startswith(word) if prefix else norm == word


class AnalysedDocument:
    """An article's fields, tokenised once; term lookups are cached for the article's lifetime."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.fields = (FieldText(doc.title), FieldText(doc.body))
        self.lead = _lead_paragraphs(self.fields[BODY].tokens)
        self.words: frozenset[str] = frozenset(self.fields[TITLE].positions) | frozenset(
            self.fields[BODY].positions
        )
        self._cache: dict[tuple[Matcher, ...], tuple[Hit, ...]] = {}

    def term_hits(self, matchers: tuple[Matcher, ...]) -> tuple[Hit, ...]:
        """Every occurrence of a word, prefix or phrase in the title and the body."""
        cached = self._cache.get(matchers)
        if cached is None:
            cached = tuple(hit for f in (TITLE, BODY) for hit in self._field_hits(f, matchers))
            self._cache[matchers] = cached
        return cached

    def _field_hits(self, field: int, matchers: tuple[Matcher, ...]) -> list[Hit]:
        text = self.fields[field]
        word, prefix = matchers[0]
        if prefix:
            starts = sorted(p for w in text.words_with_prefix(word) for p in text.positions[w])
        else:
            starts = text.positions.get(word, [])
        last = len(matchers) - 1
        if last == 0:
            return [(field, p, p) for p in starts]
        size = len(text.tokens)
        return [
            (field, p, p + last)
            for p in starts
            if p + last < size
            and all(text.matches(m, p + i) for i, m in enumerate(matchers[1:], 1))
        ]

    def in_lead(self, hit: Hit) -> bool:
        return hit[0] == BODY and self.fields[BODY].tokens[hit[1]].paragraph in self.lead

    def sentence(self, field: int, index: int) -> int:
        return self.fields[field].tokens[index].sentence

    def paragraph(self, field: int, index: int) -> int:
        return self.fields[field].tokens[index].paragraph

    def char_span(self, hit: Hit) -> tuple[int, int]:
        tokens = self.fields[hit[0]].tokens
        return tokens[hit[1]].start, tokens[hit[2]].end


def _lead_paragraphs(tokens: list[Token]) -> frozenset[int]:
    counts: defaultdict[int, int] = defaultdict(int)
    for token in tokens:
        counts[token.paragraph] += 1
    lead = [p for p in sorted(counts) if counts[p] >= LEAD_MIN_WORDS][:LEAD_PARAGRAPHS]
    return frozenset(lead)
