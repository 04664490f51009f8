"""Evaluates a resolved query tree against one analysed article.

A node's :class:`Result` says whether it holds and where: ``hits`` are the token ranges that make
it true (used by proximity operators), ``marks`` the word occurrences to highlight. In fast mode
(``trace=False``) AND and OR stop at the first deciding child and only proximity operands collect
positions; in trace mode every child is evaluated so the explanation shows every clause. Results
of concepts are cached per article, so a concept shared by many rules is evaluated once.

Hits are always *canonical* (sorted, one range per first token, the longest) and marks sorted and
unique, so no list is ever longer than the article. Proximity and same-unit operators run over
sorted lists with :mod:`monitor.rules.window`, never over all pairs of occurrences.

A term the article lacks yields one shared, immutable result per term node: most terms of a
traced gazetteer are absent, and building a result for each was most of an explanation's cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from monitor.rules import window
from monitor.rules.analysis import TITLE, AnalysedDocument, Hit
from monitor.rules.document import primary_language
from monitor.rules.normalize import fold
from monitor.rules.syntax import And, ConceptRef, Field, Meta, Node, Not, Or, Proximity, Term

Scope = frozenset[str]
DEFAULT_SCOPE: Scope = frozenset({"title", "body"})
FIELDS = (0, 1)


@dataclass(frozen=True, slots=True)
class Result:
    """`hits` are canonical (see :func:`monitor.rules.window.canonical`); `marks` are sorted and
    unique, which explanations rely on."""

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
        if scope != DEFAULT_SCOPE and hits:
            hits = tuple(h for h in hits if self._in_scope(h, scope))
        if not hits:
            return _absent(node)
        return Result(node, True, hits, hits if self.trace else ())

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
        # A word alternative absent from the article is false without a lookup (gazetteers are
        # mostly such words): only the present ones and the other alternatives are evaluated.
        words = self.adoc.words
        alternatives = zip(node.children, _first_words(node), strict=True)
        if self.trace:
            results = [
                self.eval(c, scope, need_hits) if w is None or w in words else _absent(c)
                for c, w in alternatives
            ]
            return self._combine(node, any(r.value for r in results), results, need_hits)
        present = [c for c, w in alternatives if w is None or w in words]
        if need_hits:
            true = [r for r in (self.eval(c, scope, True) for c in present) if r.value]
            return self._combine(node, bool(true), true, True)
        for child in present:
            if self.eval(child, scope, False).value:
                return Result(node, True)
        return Result(node, False)

    def _combine(self, node: Node, value: bool, results: list[Result], need_hits: bool) -> Result:
        true = [r for r in results if r.value]
        hits = _union_hits([r.hits for r in true]) if need_hits else ()
        if not self.trace:
            return Result(node, value, hits)
        marks = _union_marks([r.marks for r in true])
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
            spans = self._close_spans(node, left.hits, right.hits, every=self.trace or need_hits)
        children = (left,) if right is None else (left, right)
        if not self.trace:
            return Result(node, bool(spans), tuple(spans))
        marks = _inside(_union_marks([c.marks for c in children]), spans)
        return Result(node, bool(spans), tuple(spans), marks, children)

    def _close_spans(
        self, node: Proximity, lefts: tuple[Hit, ...], rights: tuple[Hit, ...], *, every: bool
    ) -> list[Hit]:
        """The canonical spans of close pairs, per field: all of them when `every`, else one."""
        spans: list[Hit] = []
        for field in FIELDS:
            left = [(h[1], h[2]) for h in lefts if h[0] == field]
            right = [(h[1], h[2]) for h in rights if h[0] == field]
            if not left or not right:
                continue
            if node.unit is not None:
                unit_last = self.adoc.fields[field].unit_last(node.unit)
                found = window.same_unit(left, right, unit_last, first=not every)
            else:
                assert node.distance is not None
                found = window.near(
                    left, right, node.distance, ordered=node.ordered, first=not every
                )
            spans += [(field, start, end) for start, end in found]
            if spans and not every:
                break
        return spans

    def _meta(self, node: Meta) -> bool:
        doc = self.adoc.doc
        if node.key == "lang":
            return primary_language(doc.language) == node.value
        if node.key == "source":
            return doc.source.casefold() == node.value
        return any(fold(tag) == node.value for tag in doc.tags)


_ABSENT: dict[int, Result] = {}
_ABSENT_MAX = 1 << 16


def _absent(node: Node) -> Result:
    """The result of a term the article lacks: the same immutable value every time, built once.

    Most terms of a traced evaluation (gazetteers of places and names) are absent. The cache is
    keyed by the node's identity: an entry holds its node, so the identity cannot be reused while
    the entry exists; the cache is emptied when it grows past `_ABSENT_MAX` (rules reloaded)."""
    found = _ABSENT.get(id(node))
    if found is None:
        if len(_ABSENT) >= _ABSENT_MAX:
            _ABSENT.clear()
        found = _ABSENT[id(node)] = Result(node, False)
    return found


_FIRST_WORDS: dict[int, tuple[Or, tuple[str | None, ...]]] = {}


def _first_words(node: Or) -> tuple[str | None, ...]:
    """Per alternative of `node`: the word a single-word or phrase term starts with (the term has
    no hit when the article lacks that word), None for other alternatives. Cached by identity
    like :func:`_absent`."""
    found = _FIRST_WORDS.get(id(node))
    if found is None:
        if len(_FIRST_WORDS) >= _ABSENT_MAX:
            _FIRST_WORDS.clear()
        words = tuple(
            c.matchers[0][0]
            if isinstance(c, Term) and c.matchers and not c.matchers[0][1]
            else None
            for c in node.children
        )
        found = _FIRST_WORDS[id(node)] = (node, words)
    return found[1]


def narrow(scope: Scope, field: str) -> Scope:
    """The scope inside ``field:(...)`` when the enclosing scope is `scope`."""
    if field == "title":
        return scope & {"title"}
    body_like = "body" in scope or "lead" in scope
    if field == "lead" or "body" not in scope:
        return frozenset({"lead"}) if body_like else frozenset()
    return frozenset({"body"})


def _union_hits(parts: Iterable[tuple[Hit, ...]]) -> tuple[Hit, ...]:
    """The canonical union of canonical hit lists: sorted, the longest range per first token."""
    present = [p for p in parts if p]
    if not present:
        return ()
    if len(present) == 1:
        return present[0]
    longest: dict[tuple[int, int], int] = {}
    for part in present:
        for field, start, end in part:
            if end > longest.get((field, start), -1):
                longest[(field, start)] = end
    return tuple((field, start, end) for (field, start), end in sorted(longest.items()))


def _union_marks(parts: Iterable[tuple[Hit, ...]]) -> tuple[Hit, ...]:
    present = [p for p in parts if p]
    if not present:
        return ()
    if len(present) == 1:
        return present[0]
    return tuple(sorted({m for part in present for m in part}))


def _inside(marks: tuple[Hit, ...], spans: list[Hit]) -> tuple[Hit, ...]:
    """The marks lying entirely inside one of the (canonical, per field) `spans`."""
    kept: list[Hit] = []
    for field in FIELDS:
        ranges = [(s[1], s[2]) for s in spans if s[0] == field]
        mine = [(m[1], m[2]) for m in marks if m[0] == field]
        kept += [(field, start, end) for start, end in window.inside(mine, ranges)]
    return tuple(kept)
