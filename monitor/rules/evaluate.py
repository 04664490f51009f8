"""Evaluates a resolved query tree against one analysed article.

A node's :class:`Result` says whether it holds and where: ``hits`` are the token ranges that make
it true (used by proximity operators), ``marks`` the word occurrences to highlight. In fast mode
(``trace=False``) AND and OR stop at the first deciding child and only proximity operands collect
positions; in trace mode every child is evaluated so the explanation shows every clause. Results
of concepts are cached per article, so a concept shared by many rules is evaluated once.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.rules.analysis import TITLE, AnalysedDocument, Hit
from monitor.rules.document import primary_language
from monitor.rules.normalize import fold
from monitor.rules.syntax import And, ConceptRef, Field, Meta, Node, Not, Or, Proximity, Term

Scope = frozenset[str]
DEFAULT_SCOPE: Scope = frozenset({"title", "body"})


@dataclass(frozen=True, slots=True)
class Result:
    node: Node
    value: bool
    hits: tuple[Hit, ...] = ()
    marks: tuple[Hit, ...] = ()
    children: tuple[Result, ...] = ()


class Evaluator:
    """Evaluates trees for one article; not thread-safe, build one per article and thread."""

    def __init__(self, adoc: AnalysedDocument, *, trace: bool) -> None:
        self.adoc = adoc
        self.trace = trace
        self._concepts: dict[tuple[str, Scope, bool], Result] = {}

    def evaluate(self, node: Node) -> Result:
        return self.eval(node, DEFAULT_SCOPE, False)

    def eval(self, node: Node, scope: Scope, need_hits: bool) -> Result:
        if isinstance(node, Term):
            return self._term(node, scope)
        if isinstance(node, And):
            return self._and(node, scope, need_hits)
        if isinstance(node, Or):
            return self._or(node, scope, need_hits)
        if isinstance(node, Not):
            child = self.eval(node.child, scope, False)
            return Result(node, not child.value, children=(child,) if self.trace else ())
        if isinstance(node, Proximity):
            return self._proximity(node, scope, need_hits)
        if isinstance(node, Field):
            child = self.eval(node.child, narrow(scope, node.field), need_hits)
            return Result(node, child.value, child.hits, child.marks, (child,))
        if isinstance(node, ConceptRef):
            return self._concept(node, scope, need_hits)
        return Result(node, self._meta(node))

    def _term(self, node: Term, scope: Scope) -> Result:
        hits = self.adoc.term_hits(node.matchers)
        if scope != DEFAULT_SCOPE:
            hits = tuple(h for h in hits if self._in_scope(h, scope))
        return Result(node, bool(hits), hits, hits if self.trace else ())

    def _in_scope(self, hit: Hit, scope: Scope) -> bool:
        if hit[0] == TITLE:
            return "title" in scope
        return "body" in scope or ("lead" in scope and self.adoc.in_lead(hit))

    def _and(self, node: And, scope: Scope, need_hits: bool) -> Result:
        results: list[Result] = []
        for child in node.children:
            result = self.eval(child, scope, need_hits)
            results.append(result)
            if not result.value and not self.trace:
                return Result(node, False)
        value = all(r.value for r in results)
        return self._combine(node, value, results, need_hits)

    def _or(self, node: Or, scope: Scope, need_hits: bool) -> Result:
        results: list[Result] = []
        for child in node.children:
            result = self.eval(child, scope, need_hits)
            results.append(result)
            if result.value and not (self.trace or need_hits):
                return Result(node, True)
        value = any(r.value for r in results)
        return self._combine(node, value, [r for r in results if r.value or self.trace], need_hits)

    def _combine(self, node: Node, value: bool, results: list[Result], need_hits: bool) -> Result:
        hits = tuple(h for r in results if r.value for h in r.hits) if need_hits else ()
        if not self.trace:
            return Result(node, value, hits)
        marks = tuple(m for r in results if r.value for m in r.marks)
        return Result(node, value, hits, marks, tuple(results))

    def _concept(self, node: ConceptRef, scope: Scope, need_hits: bool) -> Result:
        assert node.body is not None, f"concept @{node.name} was not resolved"
        key = (node.name, scope, need_hits)
        cached = self._concepts.get(key)
        if cached is None:
            child = self.eval(node.body, scope, need_hits)
            cached = Result(node, child.value, child.hits, child.marks, (child,))
            self._concepts[key] = cached
        return cached

    def _proximity(self, node: Proximity, scope: Scope, need_hits: bool) -> Result:
        left = self.eval(node.left, scope, True)
        right = self.eval(node.right, scope, True) if left.value or self.trace else None
        spans: list[Hit] = []
        if right is not None and left.value and right.value:
            spans = self._pairs(node, left.hits, right.hits, every=self.trace or need_hits)
        children = (left,) if right is None else (left, right)
        if not self.trace:
            return Result(node, bool(spans), tuple(spans))
        marks = tuple(m for c in children for m in c.marks if _inside(m, spans))
        return Result(node, bool(spans), tuple(spans), marks, children)

    def _pairs(
        self, node: Proximity, lefts: tuple[Hit, ...], rights: tuple[Hit, ...], *, every: bool
    ) -> list[Hit]:
        """The spans of close pairs: all of them when `every`, else just the first."""
        spans: list[Hit] = []
        for a in lefts:
            for b in rights:
                if self._close(node, a, b):
                    spans.append((a[0], min(a[1], b[1]), max(a[2], b[2])))
                    if not every:
                        return spans
        return spans

    def _close(self, node: Proximity, a: Hit, b: Hit) -> bool:
        if a[0] != b[0]:
            return False
        if node.unit == "SENTENCE":
            return self.adoc.sentence(a[0], a[1]) == self.adoc.sentence(b[0], b[1])
        if node.unit == "PARAGRAPH":
            return self.adoc.paragraph(a[0], a[1]) == self.adoc.paragraph(b[0], b[1])
        assert node.distance is not None
        if a[2] < b[1]:
            return b[1] - a[2] <= node.distance
        if b[2] < a[1]:
            return not node.ordered and a[1] - b[2] <= node.distance
        return not node.ordered or a[1] < b[1]

    def _meta(self, node: Meta) -> bool:
        doc = self.adoc.doc
        if node.key == "lang":
            return primary_language(doc.language) == node.value
        if node.key == "source":
            return doc.source.casefold() == node.value
        return any(fold(tag) == node.value for tag in doc.tags)


def narrow(scope: Scope, field: str) -> Scope:
    """The scope inside ``field:(...)`` when the enclosing scope is `scope`."""
    if field == "title":
        return scope & {"title"}
    body_like = "body" in scope or "lead" in scope
    if field == "lead" or "body" not in scope:
        return frozenset({"lead"}) if body_like else frozenset()
    return frozenset({"body"})


def _inside(mark: Hit, spans: list[Hit]) -> bool:
    return any(s[0] == mark[0] and s[1] <= mark[1] and mark[2] <= s[2] for s in spans)
