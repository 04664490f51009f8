"""Turns rule and concept query texts into resolved syntax trees, reporting every problem.

Concepts are named sub-queries shared by all rule files. A concept may use other concepts; a
reference to an unknown concept or a cycle (``a -> b -> a``) is a problem, as is a syntax error.
Each concept is resolved once and the resolved tree is shared by every rule that uses it, which
lets the evaluator cache a concept's result per article.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from monitor.errors import RuleSyntaxError
from monitor.rules.parser import parse
from monitor.rules.syntax import And, ConceptRef, Field, Node, Not, Or, Proximity, concept_names


@dataclass(frozen=True)
class QueryProblem:
    """A problem in one rule's or concept's query; `column` is 1-based, 0 when not applicable."""

    kind: str  # "rule" | "concept"
    name: str
    query: str
    message: str
    column: int = 0

    def describe(self) -> str:
        where = f" at column {self.column}" if self.column else ""
        return f"{self.kind} '{self.name}': {self.message}{where}"


def compile_queries(
    rules: Mapping[str, str], concepts: Mapping[str, str]
) -> tuple[dict[str, Node], list[QueryProblem]]:
    """Parse and resolve every rule query; returns the trees of the valid rules and all problems."""
    problems: list[QueryProblem] = []
    concept_trees = _parse_all("concept", concepts, problems)
    rule_trees = _parse_all("rule", rules, problems)
    broken = set(concepts) - set(concept_trees)
    for kind, trees, texts in (("concept", concept_trees, concepts), ("rule", rule_trees, rules)):
        for name, tree in trees.items():
            for ref, column in concept_names(tree):
                if ref not in concepts:
                    known = ", ".join(sorted(concepts)) or "none defined"
                    problems.append(
                        QueryProblem(
                            kind,
                            name,
                            texts[name],
                            f"unknown concept '@{ref}' (known: {known})",
                            column,
                        )
                    )
                    if kind == "concept":
                        broken.add(name)
    for cycle in _cycles(concept_trees):
        problems.append(
            QueryProblem(
                "concept",
                cycle[0],
                concepts[cycle[0]],
                "concept cycle: " + " -> ".join(f"@{c}" for c in cycle),
            )
        )
        broken.update(cycle)
    resolver = _Resolver(concept_trees, broken)
    resolved: dict[str, Node] = {}
    for name, tree in rule_trees.items():
        refs = {ref for ref, _ in concept_names(tree)}
        if refs & resolver.unusable() or not refs <= concept_trees.keys():
            continue
        resolved[name] = resolver.resolve(tree)
    return resolved, problems


def _parse_all(
    kind: str, texts: Mapping[str, str], problems: list[QueryProblem]
) -> dict[str, Node]:
    trees: dict[str, Node] = {}
    for name, text in texts.items():
        try:
            trees[name] = parse(text)
        except RuleSyntaxError as exc:
            problems.append(QueryProblem(kind, name, text, exc.message, exc.column))
    return trees


def _cycles(trees: Mapping[str, Node]) -> list[list[str]]:
    graph = {
        name: [ref for ref, _ in concept_names(tree) if ref in trees]
        for name, tree in trees.items()
    }
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for ref in graph[name]:
            if state.get(ref) == 1:
                cycles.append([*path[path.index(ref) :], ref])
            elif ref not in state:
                visit(ref, path)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    return cycles


class _Resolver:
    def __init__(self, trees: Mapping[str, Node], broken: set[str]) -> None:
        self.trees = trees
        self.broken = broken
        self.memo: dict[str, Node] = {}
        self._unusable: set[str] | None = None

    def unusable(self) -> set[str]:
        """Broken concepts and every concept that (transitively) uses one."""
        if self._unusable is None:
            bad = set(self.broken)
            changed = True
            while changed:
                changed = False
                for name, tree in self.trees.items():
                    if name not in bad and any(r in bad for r, _ in concept_names(tree)):
                        bad.add(name)
                        changed = True
            self._unusable = bad
        return self._unusable

    def resolve(self, node: Node) -> Node:
        if isinstance(node, ConceptRef):
            if node.name not in self.memo:
                self.memo[node.name] = self.resolve(self.trees[node.name])
            return replace(node, body=self.memo[node.name])
        if isinstance(node, And | Or):
            return replace(node, children=tuple(self.resolve(c) for c in node.children))
        if isinstance(node, Not | Field):
            return replace(node, child=self.resolve(node.child))
        if isinstance(node, Proximity):
            return replace(node, left=self.resolve(node.left), right=self.resolve(node.right))
        return node
