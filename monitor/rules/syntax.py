"""The parsed form of a rule query: small immutable nodes, one class per operator.

Every node keeps the query text it was parsed from (``source``) and its 1-based ``column``, so
explanations can quote the clause an analyst wrote. Concept references start unresolved
(``body is None``); :mod:`monitor.rules.concepts` replaces them with resolved copies.
"""

from __future__ import annotations

from dataclasses import dataclass

Matcher = tuple[str, bool]
"""One word of a term: the folded text and whether it is a prefix (``mercenar*``)."""

FIELDS = ("title", "body", "lead")
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
    if isinstance(node, ConceptRef):
        return [(node.name, node.column)]
    found: list[tuple[str, int]] = []
    for child in children_of(node):
        found += concept_names(child)
    return found
