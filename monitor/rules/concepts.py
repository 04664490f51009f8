"""Turns rule and concept query texts into resolved syntax trees, reporting every problem.

Concepts are named sub-queries shared by all rule files. A concept may use other concepts; a
reference to an unknown concept or a cycle (``a -> b -> a``) is a problem, as is a syntax error,
a ``NEAR/n`` wider than the configured limit, and a query nested deeper than
:data:`~monitor.rules.syntax.MAX_QUERY_DEPTH` once its concepts are expanded (a long chain of
concepts using concepts). A problem names the rule or concept and, where it applies, the column.
Each concept is resolved once and the resolved tree is shared by every rule that uses it, which
lets the evaluator cache a concept's result per article.

Everything here walks the concept graph iteratively, so a hostile rules directory (thousands of
chained concepts) yields a problem, never a RecursionError.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from monitor.errors import RuleSyntaxError
from monitor.rules.parser import parse
from monitor.rules.settings import DEFAULT_RULE_SETTINGS, RuleSettings
from monitor.rules.syntax import (
    MAX_QUERY_DEPTH,
    And,
    ConceptRef,
    Field,
    Node,
    Not,
    Or,
    Proximity,
    concept_names,
    depth,
    walk,
)


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
    rules: Mapping[str, str],
    concepts: Mapping[str, str],
    settings: RuleSettings = DEFAULT_RULE_SETTINGS,
) -> tuple[dict[str, Node], list[QueryProblem]]:
    """Parse and resolve every rule query; returns the trees of the valid rules and all problems."""
    problems: list[QueryProblem] = []
    concept_trees = _parse_all("concept", concepts, problems, settings)
    rule_trees = _parse_all("rule", rules, problems, settings)
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
    graph = {
        name: [ref for ref, _ in concept_names(tree) if ref in concept_trees]
        for name, tree in concept_trees.items()
    }
    order, cycles = _post_order(graph)
    for cycle in cycles:
        problems.append(
            QueryProblem(
                "concept",
                cycle[0],
                concepts[cycle[0]],
                "concept cycle: " + " -> ".join(f"@{c}" for c in cycle),
            )
        )
        broken.update(cycle)
    unusable = _users_of(broken, graph)
    depths = _concept_depths(order, concept_trees, graph, unusable, concepts, problems)
    unusable = _users_of(unusable | (set(concept_trees) - set(depths)), graph)
    resolver = _Resolver(concept_trees)
    resolved: dict[str, Node] = {}
    for name, tree in rule_trees.items():
        refs = {ref for ref, _ in concept_names(tree)}
        if refs & unusable or not refs <= concept_trees.keys():
            continue
        levels, column = depth(tree, depths)
        if levels > MAX_QUERY_DEPTH:
            problems.append(
                QueryProblem("rule", name, rules[name], _too_deep(levels, tree, depths), column)
            )
            continue
        resolved[name] = resolver.resolve(tree)
    return resolved, problems


def _parse_all(
    kind: str, texts: Mapping[str, str], problems: list[QueryProblem], settings: RuleSettings
) -> dict[str, Node]:
    trees: dict[str, Node] = {}
    for name, text in texts.items():
        try:
            tree = parse(text)
        except RuleSyntaxError as exc:
            problems.append(QueryProblem(kind, name, text, exc.message, exc.column))
            continue
        too_wide = [
            node
            for node in walk(tree)
            if isinstance(node, Proximity)
            and node.distance is not None
            and node.distance > settings.max_near_distance
        ]
        for node in sorted(too_wide, key=lambda n: n.operator_column):
            problems.append(
                QueryProblem(
                    kind,
                    name,
                    text,
                    f"{node.operator} is too wide: proximity distances are limited to "
                    f"{settings.max_near_distance:,} words (settings.rules.max_near_distance)",
                    node.operator_column,
                )
            )
        if not too_wide:
            trees[name] = tree
    return trees


def _post_order(graph: Mapping[str, list[str]]) -> tuple[list[str], list[list[str]]]:
    """Concepts with every concept they use before them, and the cycles found on the way."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    order: list[str] = []
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in state:
            continue
        state[root] = 1
        path = [root]
        pending: list[Iterator[str]] = [iter(graph[root])]
        while pending:
            ref = next(pending[-1], None)
            if ref is None:
                done = path.pop()
                pending.pop()
                state[done] = 2
                order.append(done)
            elif state.get(ref) == 1:
                cycles.append([*path[path.index(ref) :], ref])
            elif ref not in state:
                state[ref] = 1
                path.append(ref)
                pending.append(iter(graph[ref]))
    return order, cycles


def _users_of(bad: set[str], graph: Mapping[str, list[str]]) -> set[str]:
    """`bad` and every concept that (transitively) uses one of them."""
    users: dict[str, list[str]] = {}
    for name, refs in graph.items():
        for ref in refs:
            users.setdefault(ref, []).append(name)
    found = set(bad)
    queue = deque(bad)
    while queue:
        for user in users.get(queue.popleft(), ()):
            if user not in found:
                found.add(user)
                queue.append(user)
    return found


def _concept_depths(
    order: list[str],
    trees: Mapping[str, Node],
    graph: Mapping[str, list[str]],
    unusable: set[str],
    texts: Mapping[str, str],
    problems: list[QueryProblem],
) -> dict[str, int]:
    """The expanded depth of every usable concept; too deep ones are problems (and left out).

    Only the innermost too-deep concept of a chain is reported: the ones using it fail with it.
    """
    depths: dict[str, int] = {}
    for name in order:
        if name in unusable or any(ref not in depths for ref in graph[name]):
            continue
        levels, column = depth(trees[name], depths)
        if levels > MAX_QUERY_DEPTH:
            message = _too_deep(levels, trees[name], depths)
            problems.append(QueryProblem("concept", name, texts[name], message, column))
            continue
        depths[name] = levels
    return depths


def _too_deep(levels: int, tree: Node, depths: Mapping[str, int]) -> str:
    refs = [ref for ref, _ in concept_names(tree) if ref in depths]
    through = f" (deepest through @{max(refs, key=lambda r: depths[r])})" if refs else ""
    return (
        f"nested too deeply: {levels} levels with its concepts expanded{through}, more than "
        f"{MAX_QUERY_DEPTH} (a long chain of concepts using concepts?)"
    )


class _Resolver:
    def __init__(self, trees: Mapping[str, Node]) -> None:
        self.trees = trees
        self.memo: dict[str, Node] = {}

    def resolve(self, node: Node) -> Node:
        """`node` with every concept reference resolved (depth checked beforehand)."""
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
