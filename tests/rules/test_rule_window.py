"""The moving-window operators against brute force (all pairs) on many random small inputs.

Property style with fixed seeds: `monitor.rules.window` must return exactly the canonical form of
the all-pairs result, and the evaluator built on it must give every query the value and the
positions that an all-pairs evaluator gives.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest

from monitor.rules import Document
from monitor.rules.analysis import AnalysedDocument, Hit
from monitor.rules.concepts import compile_queries
from monitor.rules.evaluate import DEFAULT_SCOPE, Evaluator, Scope, narrow
from monitor.rules.settings import RuleSettings
from monitor.rules.syntax import And, ConceptRef, Field, Meta, Node, Not, Or, Proximity, Term
from monitor.rules.window import Span, canonical, inside, near, same_unit

SEEDS = range(8)


def random_spans(rng: random.Random, size: int = 30) -> list[Span]:
    count = rng.randint(0, 12)
    return canonical(
        (start, start + rng.choice((0, 0, 0, 1, 2, 4)))
        for start in (rng.randrange(size) for _ in range(count))
    )


def close(a: Span, b: Span, distance: int, ordered: bool) -> bool:
    """The pair test of the original all-pairs evaluator, kept here as the reference."""
    if a[1] < b[0]:
        return b[0] - a[1] <= distance
    if b[1] < a[0]:
        return not ordered and a[0] - b[1] <= distance
    return not ordered or a[0] < b[0]


def pairs(
    left: Sequence[Span], right: Sequence[Span], test: Callable[[Span, Span], bool]
) -> list[Span]:
    return [(min(a[0], b[0]), max(a[1], b[1])) for a in left for b in right if test(a, b)]


@pytest.mark.parametrize("seed", SEEDS)
def test_near_and_onear_equal_all_pairs(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        left, right = random_spans(rng), random_spans(rng)
        distance, ordered = rng.randint(1, 6), rng.random() < 0.5
        expected = canonical(
            pairs(left, right, lambda a, b, d=distance, o=ordered: close(a, b, d, o))
        )
        assert near(left, right, distance, ordered=ordered, first=False) == expected
        found = near(left, right, distance, ordered=ordered, first=True)
        assert bool(found) == bool(expected)
        assert all(any(s == f[0] and f[1] <= e for s, e in expected) for f in found)


@pytest.mark.parametrize("seed", SEEDS)
def test_same_unit_equals_all_pairs(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        units = sorted(rng.randrange(6) for _ in range(36))
        unit_last = [max(i for i, u in enumerate(units) if u == unit) for unit in units]
        left, right = random_spans(rng), random_spans(rng)
        expected = canonical(pairs(left, right, lambda a, b, u=units: u[a[0]] == u[b[0]]))
        assert same_unit(left, right, unit_last, first=False) == expected
        assert bool(same_unit(left, right, unit_last, first=True)) == bool(expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_inside_equals_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        marks, spans = random_spans(rng), random_spans(rng)
        expected = [m for m in marks if any(s[0] <= m[0] and m[1] <= s[1] for s in spans)]
        assert inside(marks, spans) == expected


def test_canonical_keeps_the_longest_span_per_start() -> None:
    assert canonical([(5, 5), (1, 3), (5, 9), (1, 1)]) == [(1, 3), (5, 9)]


# --- the whole evaluator against an all-pairs reference evaluator ---------------------------

VOCABULARY = ("aaa", "bbb", "ccc", "ddd", "aaab", "aaac")


def random_document(rng: random.Random) -> Document:
    def sentence() -> str:
        words = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 7)))
        return words + rng.choice((".", "!", "", "."))

    paragraphs = [
        " ".join(sentence() for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 3))
    ]
    title = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(0, 4)))
    return Document(title=title, body="\n\n".join(paragraphs))


def random_query(rng: random.Random, level: int = 0) -> str:
    roll = rng.random()
    if level > 3 or roll < 0.3:
        return rng.choice(
            (
                rng.choice(VOCABULARY),
                f'"{rng.choice(VOCABULARY)} {rng.choice(VOCABULARY)}"',
                "aaa*",
                f"({rng.choice(VOCABULARY)} OR {rng.choice(VOCABULARY)})",
            )
        )
    left, right = random_query(rng, level + 1), random_query(rng, level + 1)
    near_op, onear_op = f"NEAR/{rng.randint(1, 4)}", f"ONEAR/{rng.randint(1, 4)}"
    op = rng.choice((near_op, onear_op, "SENTENCE", "PARAGRAPH", "AND", "OR"))
    scope = rng.choice(("", "", "", "title:", "lead:", "body:"))
    return f"{scope}({left} {op} {right})"


class AllPairs:
    """The original evaluator's semantics: positions of every close pair, never reduced."""

    def __init__(self, adoc: AnalysedDocument) -> None:
        self.adoc = adoc

    def eval(self, node: Node, scope: Scope) -> tuple[bool, list[Hit]]:
        if isinstance(node, Term):
            hits = [h for h in self.adoc.term_hits(node.matchers) if self.in_scope(h, scope)]
            return bool(hits), hits
        if isinstance(node, And | Or):
            results = [self.eval(child, scope) for child in node.children]
            values = [value for value, _ in results]
            value = all(values) if isinstance(node, And) else any(values)
            return value, [h for v, hits in results if v for h in hits] if value else []
        if isinstance(node, Not):
            return not self.eval(node.child, scope)[0], []
        if isinstance(node, Field):
            return self.eval(node.child, narrow(scope, node.field))
        if isinstance(node, ConceptRef):
            assert node.body is not None
            return self.eval(node.body, scope)
        if isinstance(node, Meta):
            raise AssertionError("not generated")
        (lv, lefts), (rv, rights) = self.eval(node.left, scope), self.eval(node.right, scope)
        if not (lv and rv):
            return False, []
        spans = [
            (a[0], min(a[1], b[1]), max(a[2], b[2]))
            for a in lefts
            for b in rights
            if a[0] == b[0] and self.close(node, a, b)
        ]
        return bool(spans), spans

    def close(self, node: Proximity, a: Hit, b: Hit) -> bool:
        if node.unit is not None:
            unit = self.adoc.sentence if node.unit == "SENTENCE" else self.adoc.paragraph
            return unit(a[0], a[1]) == unit(b[0], b[1])
        assert node.distance is not None
        return close((a[1], a[2]), (b[1], b[2]), node.distance, node.ordered)

    def in_scope(self, hit: Hit, scope: Scope) -> bool:
        if hit[0] == 0:
            return "title" in scope
        return "body" in scope or ("lead" in scope and self.adoc.in_lead(hit))


def canonical_hits(hits: list[Hit]) -> tuple[Hit, ...]:
    return tuple(
        (field, start, end)
        for field in (0, 1)
        for start, end in canonical((s, e) for f, s, e in hits if f == field)
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_evaluator_equals_all_pairs_reference(seed: int) -> None:
    rng = random.Random(seed)
    settings = RuleSettings(max_term_occurrences=1_000_000)
    for _ in range(60):
        query = random_query(rng)
        trees, problems = compile_queries({"q": query}, {})
        assert not problems, (query, problems)
        tree = trees["q"]
        for _ in range(4):
            adoc = AnalysedDocument(random_document(rng), settings)
            value, hits = AllPairs(adoc).eval(tree, DEFAULT_SCOPE)
            fast = Evaluator(adoc, trace=False).eval(tree, DEFAULT_SCOPE, True)
            traced = Evaluator(adoc, trace=True).evaluate(tree)
            assert fast.value is value and traced.value is value, (query, adoc.doc)
            assert fast.hits == canonical_hits(hits), (query, adoc.doc)
            assert Evaluator(adoc, trace=False).evaluate(tree).value is value
