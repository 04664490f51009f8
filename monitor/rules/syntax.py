"""The parsed form of a rule query: small immutable nodes, one class per operator.

Every node keeps the query text it was parsed from (``source``) and its 1-based ``column``, so
explanations can quote the clause an analyst wrote. Concept references start unresolved
(``body is None``); :mod:`monitor.rules.concepts` replaces them with resolved copies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Matcher = tuple[str, bool]
"""One word of a term: the folded text and whether it is a prefix (``mercenar*``)."""

FIELDS = ("title", "body", "lead")
MAX_QUERY_DEPTH = 100
"""Deepest query tree accepted, concepts expanded (parentheses, NOT, fields, proximity chains).

Queries are walked recursively when they are evaluated and explained; this bound keeps those walks
far below Python's recursion limit, and deeper queries are refused when the rules are loaded."""
METADATA = ("lang", "source", "tag")
UNITS = ("SENTENCE", "PARAGRAPH")


@dataclass(frozen=True, slots=True)
class Term:
    """A word, a prefix wildcard or a phrase: consecutive folded words, any of them a prefix."""

    matchers: tuple[Matcher, ...]
    source: str
    column: int

    @property
    def operator(self) -> str:
        if len(self.matchers) > 1:
            return "PHRASE"
        return "PREFIX" if self.matchers[0][1] else "WORD"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    source: str
    column: int
    operator: str = "AND"


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    source: str
    column: int
    operator: str = "OR"


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    source: str
    column: int
    operator: str = "NOT"


@dataclass(frozen=True, slots=True)
class Proximity:
    """``NEAR/n`` (``ordered`` False), ``ONEAR/n`` (True), or ``SENTENCE``/``PARAGRAPH`` (unit)."""

    left: Node
    right: Node
    distance: int | None
    ordered: bool
    unit: str | None
    source: str
    column: int
    operator_column: int = 0  # where ``NEAR/n`` itself is written, for errors about it

    @property
    def operator(self) -> str:
        if self.unit:
            return self.unit
        return f"{'ONEAR' if self.ordered else 'NEAR'}/{self.distance}"


@dataclass(frozen=True, slots=True)
class Field:
    """``title:(...)``, ``body:(...)`` or ``lead:(...)``."""

    field: str
    child: Node
    source: str
    column: int

    @property
    def operator(self) -> str:
        return f"{self.field}:"


@dataclass(frozen=True, slots=True)
class Meta:
    """``lang:fr``, ``source:reliefweb``, ``tag:wire``: a test on article metadata."""

    key: str
    value: str
    source: str
    column: int

    @property
    def operator(self) -> str:
        return f"{self.key}:"


@dataclass(frozen=True, slots=True)
class ConceptRef:
    """``@name``; ``body`` is the resolved concept query once concepts are resolved."""

    name: str
    source: str
    column: int
    body: Node | None = None

    @property
    def operator(self) -> str:
        return f"@{self.name}"


Node = Term | And | Or | Not | Proximity | Field | Meta | ConceptRef


def children_of(node: Node) -> tuple[Node, ...]:
    """The direct sub-queries of `node` (a resolved concept's body counts as its child)."""
    if isinstance(node, And | Or):
        return node.children
    if isinstance(node, Not | Field):
        return (node.child,)
    if isinstance(node, Proximity):
        return (node.left, node.right)
    if isinstance(node, ConceptRef) and node.body is not None:
        return (node.body,)
    return ()


def concept_names(node: Node) -> list[tuple[str, int]]:
    """Every ``@name`` referenced directly in `node` (not inside resolved bodies), with columns."""
    found = [(n.name, n.column) for n in walk(node) if isinstance(n, ConceptRef)]
    return sorted(found, key=lambda ref: ref[1])


def depth(node: Node, concepts: Mapping[str, int] | None = None) -> tuple[int, int]:
    """The depth of `node` (a lone term is 1) and the column of its deepest node.

    A ``@name`` counts as ``1 + concepts[name]`` (0 when unknown), so the depth of a rule with
    its concepts expanded is computed without expanding them. Iterative: safe on any input.
    """
    known = concepts or {}
    deepest, column = 0, node.column
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, level = stack.pop()
        reached = level + (known.get(current.name, 0) if isinstance(current, ConceptRef) else 0)
        if reached > deepest:
            deepest, column = reached, current.column
        if not isinstance(current, ConceptRef):
            stack.extend((child, level + 1) for child in children_of(current))
    return deepest, column


def walk(node: Node) -> list[Node]:
    """Every node of `node`'s tree, not entering resolved concept bodies (iterative)."""
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        if not isinstance(current, ConceptRef):
            stack.extend(children_of(current))
    return found
