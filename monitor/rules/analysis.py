"""One article prepared for matching: tokenised fields, lead paragraphs and cached term lookups.

An :class:`AnalysedDocument` is built once per article per match call and never shared between
threads. It answers "where does this word / prefix / phrase occur" with hits ``(field, first
token, last token)``; field 0 is the title and field 1 the body. The *lead* is not a separate
text: it is the body restricted to its first two paragraphs of at least six words (datelines,
"Share" buttons and one-line captions are skipped), so lead matches point into the body.

The article's cost is bounded by :class:`~monitor.rules.settings.RuleSettings`: only the first
``max_words`` words of title and body are tokenised, and only the first ``max_term_occurrences``
occurrences of a term are returned. Both cuts are recorded (:attr:`AnalysedDocument.truncated`,
:meth:`AnalysedDocument.capped`) so explanations can say so.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from itertools import islice

from monitor.rules.document import Document
from monitor.rules.normalize import WORD_RE, Token, tokenize
from monitor.rules.settings import DEFAULT_RULE_SETTINGS, RuleSettings
from monitor.rules.syntax import Matcher

Hit = tuple[int, int, int]
TITLE, BODY = 0, 1
FIELD_NAMES = ("title", "body")
LEAD_PARAGRAPHS = 2
LEAD_MIN_WORDS = 6


class FieldText:
    """The tokens of one field with a word -> positions index and a sorted vocabulary.

    At most `max_words` words are tokenised; `truncated` says whether the text had more.
    """

    def __init__(self, text: str, max_words: int | None = None) -> None:
        self.text = text
        self.truncated = False
        if max_words is not None:
            cut = _cut_after_words(text, max(max_words, 0))
            if cut is not None:
                self.truncated = True
                tokens = tokenize(text[:cut])[: max(max_words, 0)] if cut else []
            else:
                tokens = tokenize(text)
        else:
            tokens = tokenize(text)
        self.tokens: list[Token] = tokens
        positions: defaultdict[str, list[int]] = defaultdict(list)
        for index, token in enumerate(self.tokens):
            positions[token.norm].append(index)
        self.positions: dict[str, list[int]] = dict(positions)
        self.vocabulary: list[str] = sorted(self.positions)
        self._unit_last: dict[str, list[int]] = {}
        self._sentences: list[int] | None = None

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

    def unit_last(self, unit: str) -> list[int]:
        """For each token, the index of the last token of its sentence (or paragraph)."""
        cached = self._unit_last.get(unit)
        if cached is None:
            ids = self._sentence_ids() if unit == "SENTENCE" else [t.paragraph for t in self.tokens]
            cached = [0] * len(ids)
            last = len(ids) - 1
            for index in range(len(ids) - 1, -1, -1):
                if index < len(ids) - 1 and ids[index] != ids[index + 1]:
                    last = index
                cached[index] = last
            self._unit_last[unit] = cached
        return cached

    def sentence_tokens(self, sentence: int) -> tuple[int, int]:
        """The first and last token index of `sentence` (which must have tokens)."""
        ids = self._sentence_ids()
        return bisect_left(ids, sentence), bisect_right(ids, sentence) - 1

    def _sentence_ids(self) -> list[int]:
        if self._sentences is None:
            self._sentences = [t.sentence for t in self.tokens]
        return self._sentences


class AnalysedDocument:
    """An article's fields, tokenised once; term lookups are cached for the article's lifetime."""

    def __init__(self, doc: Document, settings: RuleSettings = DEFAULT_RULE_SETTINGS) -> None:
        self.doc = doc
        self.settings = settings
        title = FieldText(doc.title, settings.max_words)
        body = FieldText(doc.body, settings.max_words - len(title.tokens))
        self.fields = (title, body)
        self.truncated = title.truncated or body.truncated
        self.lead = _lead_paragraphs(self.fields[BODY].tokens)
        self.words: frozenset[str] = frozenset(self.fields[TITLE].positions) | frozenset(
            self.fields[BODY].positions
        )
        self._cache: dict[tuple[Matcher, ...], tuple[Hit, ...]] = {}
        self._capped: dict[tuple[Matcher, ...], int] = {}

    def term_hits(self, matchers: tuple[Matcher, ...]) -> tuple[Hit, ...]:
        """The first occurrences (at most ``max_term_occurrences``) of a word, prefix or phrase
        in the title, then the body; sorted, one per first token."""
        cached = self._cache.get(matchers)
        if cached is None:
            found = [hit for f in (TITLE, BODY) for hit in self._field_hits(f, matchers)]
            limit = self.settings.max_term_occurrences
            if len(found) > limit:
                self._capped[matchers] = len(found)
                found = found[:limit]
            cached = tuple(found)
            self._cache[matchers] = cached
        return cached

    @property
    def any_capped(self) -> bool:
        """Whether the occurrences of some term looked up so far were capped."""
        return bool(self._capped)

    def capped(self, matchers: tuple[Matcher, ...]) -> int:
        """How often the term occurs when its occurrences were capped, else 0."""
        return self._capped.get(matchers, 0)

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


def first_words(text: str, max_words: int) -> str:
    """The start of `text` holding its first `max_words` words (all of it when it has fewer)."""
    cut = _cut_after_words(text, max(max_words, 0))
    return text if cut is None else text[:cut]


def _cut_after_words(text: str, max_words: int) -> int | None:
    """The character offset where word number `max_words` + 1 starts; None if there is none."""
    if len(text) <= max_words:  # a word is at least one character: nothing to cut
        return None
    beyond = next(islice(WORD_RE.finditer(text), max_words, None), None)
    return None if beyond is None else beyond.start()


def _lead_paragraphs(tokens: list[Token]) -> frozenset[int]:
    counts: defaultdict[int, int] = defaultdict(int)
    for token in tokens:
        counts[token.paragraph] += 1
    lead = [p for p in sorted(counts) if counts[p] >= LEAD_MIN_WORDS][:LEAD_PARAGRAPHS]
    return frozenset(lead)
