"""Builds an :class:`~monitor.rules.explain.Explanation` from an evaluation trace.

The clause tree mirrors the query (concepts appear as ``@name`` with their definition below);
spans are the highlighted words, at most ``max_spans`` per clause (the number left out is kept).
Passages are the first sentences holding the highlights of each true top-level clause, at most
two per clause and ``max_passages`` in all (however often the words occur), cut to about 300
characters around the highlights when a sentence is longer. Notes say where the article hit a
matching limit (words ignored, occurrences of a term not used).
"""

from __future__ import annotations

from monitor.rules.analysis import FIELD_NAMES, AnalysedDocument, Hit
from monitor.rules.evaluate import Result
from monitor.rules.explain import Clause, Explanation, Passage, Span
from monitor.rules.syntax import And, Term

MAX_PASSAGES_PER_CLAUSE = 2
MAX_SNIPPET = 300
SNAP_LIMIT = 40  # characters a snippet edge may move to reach a space


def explanation(
    rule: str, result: Result, adoc: AnalysedDocument, filtered: str = ""
) -> Explanation:
    """The explanation of `rule` given its traced evaluation on `adoc`."""
    root = _clause(result, adoc)
    matched = result.value and not filtered
    spans, omitted = _spans(result.marks, adoc)
    return Explanation(
        rule=rule,
        matched=matched,
        root=root,
        spans=spans,
        passages=build_passages(result, adoc),
        filtered=filtered,
        notes=notes(result, adoc),
        omitted_spans=omitted,
    )


def notes(result: Result, adoc: AnalysedDocument) -> tuple[str, ...]:
    """What the matching limits left out of this evaluation, in words for an analyst."""
    found: list[str] = []
    settings = adoc.settings
    if adoc.truncated:
        found.append(
            f"the article is longer than {settings.max_words:,} words: only the first "
            f"{settings.max_words:,} were matched (settings.rules.max_words)"
        )
    seen: set[str] = set()
    stack = [result] if adoc.any_capped else []
    while stack:
        current = stack.pop()
        stack.extend(current.children)
        node = current.node
        if isinstance(node, Term) and node.source not in seen:
            total = adoc.capped(node.matchers)
            if total:
                seen.add(node.source)
                found.append(
                    f"{node.source} occurs {total:,} times: only its first "
                    f"{settings.max_term_occurrences:,} occurrences were used "
                    "(settings.rules.max_term_occurrences)"
                )
    return (*found[:1], *sorted(found[1:])) if adoc.truncated else tuple(sorted(found))


def _clause(result: Result, adoc: AnalysedDocument) -> Clause:
    if not (result.value or result.children or result.marks):  # an absent term, mostly
        return _false_leaf(result)
    children = tuple(
        [
            _clause(c, adoc) if c.value or c.children or c.marks else _false_leaf(c)
            for c in result.children
        ]
    )
    spans, omitted = _spans(result.marks, adoc)
    return Clause(result.node.source, result.node.operator, result.value, children, spans, omitted)


# The clause of a false result without children or marks, by the result's identity. The
# evaluator hands out one shared result per absent term, so most of a traced gazetteer's clauses
# are built once. An entry keeps its result alive, so an identity is never reused while cached.
_LEAVES: dict[int, tuple[Result, Clause]] = {}
_LEAVES_MAX = 1 << 16


def _false_leaf(result: Result) -> Clause:
    found = _LEAVES.get(id(result))
    if found is None:
        if len(_LEAVES) >= _LEAVES_MAX:
            _LEAVES.clear()
        found = _LEAVES[id(result)] = (
            result,
            Clause(result.node.source, result.node.operator, False),
        )
    return found[1]


def _spans(marks: tuple[Hit, ...], adoc: AnalysedDocument) -> tuple[tuple[Span, ...], int]:
    """The first ``max_spans`` marks (sorted and unique) as spans, and how many were left out."""
    limit = adoc.settings.max_spans
    kept = tuple(Span(FIELD_NAMES[m[0]], *adoc.char_span(m)) for m in marks[:limit])
    return kept, max(len(marks) - limit, 0)


def build_passages(result: Result, adoc: AnalysedDocument) -> tuple[Passage, ...]:
    """Snippets of the first sentences that satisfied each true top-level clause."""
    tops = result.children if isinstance(result.node, And) else (result,)
    passages: list[Passage] = []
    for top in tops:
        if not top.value or not top.marks:
            continue
        by_sentence: dict[tuple[int, int], list[Hit]] = {}
        for mark in top.marks:  # sorted: sentences come in order, so stop after the first few
            key = (mark[0], adoc.sentence(mark[0], mark[1]))
            if key not in by_sentence and len(by_sentence) == MAX_PASSAGES_PER_CLAUSE:
                break
            by_sentence.setdefault(key, []).append(mark)
        for (field, sentence), marks in sorted(by_sentence.items()):
            passages.append(_passage(adoc, field, sentence, sorted(marks), top.node.source))
    return tuple(passages[: adoc.settings.max_passages])


def _passage(
    adoc: AnalysedDocument, field: int, sentence: int, marks: list[Hit], clause: str
) -> Passage:
    text = adoc.fields[field].text
    start, end = _sentence_range(adoc, field, sentence)
    chars = [adoc.char_span(m) for m in marks]
    if end - start > MAX_SNIPPET:
        first, last = chars[0][0], chars[-1][1]
        if last - first > MAX_SNIPPET:  # a long sentence: keep its first highlights
            within = [e for _, e in chars if e - first <= MAX_SNIPPET]
            last = max(within) if within else chars[0][1]
        margin = max((MAX_SNIPPET - (last - first)) // 2, 40)
        start = _snap(text, max(start, first - margin), backward=True)
        end = _snap(text, min(end, last + margin), backward=False)
    end = min(end, start + 2 * MAX_SNIPPET)  # a single huge "word" is cut too
    inside = [(s - start, e - start) for s, e in chars if s >= start and e <= end]
    highlights = tuple(_merge(inside))
    return Passage(FIELD_NAMES[field], text[start:end], highlights, clause)


def _sentence_range(adoc: AnalysedDocument, field: int, sentence: int) -> tuple[int, int]:
    words = adoc.fields[field]
    first, last = words.sentence_tokens(sentence)
    start, end = words.tokens[first].start, words.tokens[last].end
    return start, _snap(words.text, end, backward=False)


def _snap(text: str, pos: int, *, backward: bool) -> int:
    """Move `pos` to a word boundary so a snippet never cuts a word in half."""
    step = -1 if backward else 1
    for _ in range(SNAP_LIMIT):
        if not (0 < pos < len(text)) or text[pos - 1 if backward else pos].isspace():
            break
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
