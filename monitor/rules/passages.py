"""Builds an :class:`~monitor.rules.explain.Explanation` from an evaluation trace.

The clause tree mirrors the query (concepts appear as ``@name`` with their definition below);
spans are the highlighted words. Passages are the sentences holding the highlights of each true
top-level clause, at most two per clause and eight in all, cut to about 300 characters around the
highlights when a sentence is longer.
"""

from __future__ import annotations

from collections import defaultdict

from monitor.rules.analysis import FIELD_NAMES, AnalysedDocument, Hit
from monitor.rules.evaluate import Result
from monitor.rules.explain import Clause, Explanation, Passage, Span
from monitor.rules.syntax import And

MAX_PASSAGES_PER_CLAUSE = 2
MAX_PASSAGES = 8
MAX_SNIPPET = 300


def explanation(
    rule: str, result: Result, adoc: AnalysedDocument, filtered: str = ""
) -> Explanation:
    """The explanation of `rule` given its traced evaluation on `adoc`."""
    root = _clause(result, adoc)
    matched = result.value and not filtered
    return Explanation(
        rule=rule,
        matched=matched,
        root=root,
        spans=_spans(result.marks, adoc),
        passages=build_passages(result, adoc),
        filtered=filtered,
    )


def _clause(result: Result, adoc: AnalysedDocument) -> Clause:
    children = tuple(_clause(child, adoc) for child in result.children)
    return Clause(
        result.node.source, result.node.operator, result.value, children, _spans(result.marks, adoc)
    )


def _spans(marks: tuple[Hit, ...], adoc: AnalysedDocument) -> tuple[Span, ...]:
    unique = sorted(set(marks))
    return tuple(Span(FIELD_NAMES[m[0]], *adoc.char_span(m)) for m in unique)


def build_passages(result: Result, adoc: AnalysedDocument) -> tuple[Passage, ...]:
    """Snippets of the sentences that satisfied each true top-level clause."""
    tops = result.children if isinstance(result.node, And) else (result,)
    passages: list[Passage] = []
    for top in tops:
        if not top.value or not top.marks:
            continue
        by_sentence: defaultdict[tuple[int, int], set[Hit]] = defaultdict(set)
        for mark in top.marks:
            by_sentence[(mark[0], adoc.sentence(mark[0], mark[1]))].add(mark)
        for (field, sentence), marks in sorted(by_sentence.items())[:MAX_PASSAGES_PER_CLAUSE]:
            passages.append(_passage(adoc, field, sentence, sorted(marks), top.node.source))
    return tuple(passages[:MAX_PASSAGES])


def _passage(
    adoc: AnalysedDocument, field: int, sentence: int, marks: list[Hit], clause: str
) -> Passage:
    text = adoc.fields[field].text
    start, end = _sentence_range(adoc, field, sentence)
    chars = [adoc.char_span(m) for m in marks]
    if end - start > MAX_SNIPPET:
        first, last = chars[0][0], chars[-1][1]
        margin = max((MAX_SNIPPET - (last - first)) // 2, 40)
        start = _snap(text, max(start, first - margin), backward=True)
        end = _snap(text, min(end, last + margin), backward=False)
    inside = [(s - start, e - start) for s, e in chars if s >= start and e <= end]
    highlights = tuple(_merge(inside))
    return Passage(FIELD_NAMES[field], text[start:end], highlights, clause)


def _sentence_range(adoc: AnalysedDocument, field: int, sentence: int) -> tuple[int, int]:
    tokens = adoc.fields[field].tokens
    text = adoc.fields[field].text
    inside = [t for t in tokens if t.sentence == sentence]
    start, end = inside[0].start, inside[-1].end
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def _snap(text: str, pos: int, *, backward: bool) -> int:
    """Move `pos` to a word boundary so a snippet never cuts a word in half."""
    step = -1 if backward else 1
    while 0 < pos < len(text) and not text[pos - 1 if backward else pos].isspace():
        pos += step
    return pos


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping highlight ranges (a phrase and its own words become one)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
