"""Proximity and same-unit operators over sorted position lists, never over all pairs.

Positions are token spans ``(first, last)`` of one field. The operands of ``a NEAR/n b`` are
*canonical* span lists: sorted by first token, one span per first token (the longest). The result
is canonical too: for every first token ``s`` of some close pair, the longest close pair span
starting at ``s``. That set has the same first tokens as the set of all close pair spans, and
every close pair span lies inside the result span with its first token, so an enclosing operator
(proximity, unit, field scope, highlighting) sees exactly what it would see with all pairs, yet
the result never has more spans than the operands have together.

Each operand span only needs its partners that start at or after it, which form one contiguous
run of the other sorted list: the longest such partner is a range-maximum query on the other
list's last tokens (a bisect when those are already sorted, else a sparse table), so an operator
costs O((|a| + |b|) log(|a| + |b|)).

Pair semantics (``x`` from the left operand, ``y`` from the right):

- ``NEAR/n``: ``y`` starts at most ``n`` tokens after ``x`` ends, or the other way round, or they
  overlap.
- ``ONEAR/n``: ``x`` starts before ``y`` and ``y`` starts at most ``n`` tokens after ``x`` ends.
- unit (sentence, paragraph): both start in the same unit.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import pairwise

Span = tuple[int, int]


def canonical(spans: Iterable[Span]) -> list[Span]:
    """`spans` sorted by first token, keeping the longest span of each first token."""
    longest: dict[int, int] = {}
    for start, end in spans:
        if end > longest.get(start, -1):
            longest[start] = end
    return sorted(longest.items())


class Ends:
    """Answers "longest span whose first token lies in [lo, hi]" on a canonical span list."""

    def __init__(self, spans: Sequence[Span]) -> None:
        self.starts = [s for s, _ in spans]
        ends = [e for _, e in spans]
        self.ends = ends
        self.sorted = all(a <= b for a, b in pairwise(ends))
        self.levels: list[list[int]] = [ends]
        if not self.sorted:
            step = 1
            while 2 * step <= len(ends):
                previous = self.levels[-1]
                self.levels.append(list(map(max, previous, previous[step:])))
                step *= 2

    def max_end(self, lo: int, hi: int) -> int:
        """The largest last token of spans starting in [lo, hi]; -1 when there are none."""
        i = bisect_left(self.starts, lo)
        j = bisect_right(self.starts, hi) - 1
        if i > j:
            return -1
        if self.sorted:
            return self.ends[j]
        level = (j - i + 1).bit_length() - 1
        row = self.levels[level]
        return max(row[i], row[j - (1 << level) + 1])


def near(
    left: Sequence[Span], right: Sequence[Span], distance: int, *, ordered: bool, first: bool
) -> list[Span]:
    """Close pair spans of ``left NEAR/distance right`` (``ONEAR`` when `ordered`).

    With `first`, stops at the first close pair (enough to know whether the operator holds).
    """
    if not left or not right:
        return []
    found: dict[int, int] = {}
    right_ends = Ends(right)
    for start, end in left:
        # ONEAR: the partner starts strictly after; NEAR: at or after (earlier ones are found
        # from the other side below).
        partner = right_ends.max_end(start + 1 if ordered else start, end + distance)
        if partner >= 0:
            found[start] = max(end, partner)
            if first:
                return [(start, found[start])]
    if not ordered:
        left_ends = Ends(left)
        for start, end in right:
            partner = left_ends.max_end(start, end + distance)
            if partner >= 0:
                found[start] = max(found.get(start, -1), end, partner)
                if first:
                    return [(start, found[start])]
    return sorted(found.items())


def same_unit(
    left: Sequence[Span], right: Sequence[Span], unit_last: Sequence[int], *, first: bool
) -> list[Span]:
    """Close pair spans of ``left SENTENCE right`` (or PARAGRAPH): both start in one unit.

    `unit_last[i]` is the index of the last token of the unit (sentence or paragraph) holding
    token ``i``.
    """
    if not left or not right:
        return []
    found: dict[int, int] = {}
    for mine, other in ((left, right), (right, left)):
        ends = Ends(other)
        for start, end in mine:
            partner = ends.max_end(start, unit_last[start])
            if partner >= 0:
                found[start] = max(found.get(start, -1), end, partner)
                if first:
                    return [(start, found[start])]
    return sorted(found.items())


def inside(marks: Iterable[Span], spans: Sequence[Span]) -> list[Span]:
    """The marks lying entirely inside one of the canonical `spans`."""
    if not spans:
        return []
    starts = [s for s, _ in spans]
    reach: list[int] = []  # reach[i]: the furthest last token of spans[0..i]
    furthest = -1
    for _, end in spans:
        furthest = max(furthest, end)
        reach.append(furthest)
    kept: list[Span] = []
    for mark in marks:
        i = bisect_right(starts, mark[0]) - 1
        if i >= 0 and reach[i] >= mark[1]:
            kept.append(mark)
    return kept
