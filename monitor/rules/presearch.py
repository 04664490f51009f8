"""The presearcher: reduces each rule to "one of these words must be present" requirements.

In the manner of Lucene's Monitor, a query is turned into a conjunction of clauses, each a set of
keys (``=word`` for a word, ``^pref`` for a prefix wildcard) of which the article must contain at
least one for the query to have any chance of matching. NOT and metadata filters add nothing (they
can only make a query stricter), OR keeps one clause built from the strongest clause of each
alternative, proximity keeps both sides. A rule with no requirement is evaluated on every article.
The engine indexes each rule under its most selective clause, so only rules sharing a rare word
with the article are ever looked at; the remaining clauses are then checked with set lookups.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.rules.syntax import And, ConceptRef, Field, Node, Or, Proximity, Term

Clause = frozenset[str]
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "de",
        "des",
        "du",
        "el",
        "en",
        "et",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "la",
        "le",
        "les",
        "of",
        "on",
        "or",
        "said",
        "that",
        "the",
        "their",
        "they",
        "this",
        "to",
        "un",
        "une",
        "was",
        "were",
        "which",
        "with",
    ]
)


def key_weight(key: str) -> float:
    """How selective a key is likely to be: longer words are rarer, stopwords are worthless."""
    word = key[1:]
    if word in STOPWORDS:
        return 0.0
    return len(word) - (0.5 if key[0] == "^" else 0.0)


def clause_weight(clause: Clause) -> float:
    """A clause is only as selective as its commonest key."""
    return min((key_weight(k) for k in clause), default=0.0)


def requirements(node: Node) -> list[Clause]:
    """The clauses (all required; one key of each) that an article must satisfy to match `node`."""
    if isinstance(node, Term):
        return _dedupe(
            frozenset({("^" if prefix else "=") + word}) for word, prefix in node.matchers
        )
    if isinstance(node, And):
        return _dedupe(c for child in node.children for c in requirements(child))
    if isinstance(node, Proximity):
        return _dedupe([*requirements(node.left), *requirements(node.right)])
    if isinstance(node, Field):
        return requirements(node.child)
    if isinstance(node, ConceptRef) and node.body is not None:
        return requirements(node.body)
    if isinstance(node, Or):
        return _or_requirements(node)
    return []  # NOT, metadata: no word is required


def _or_requirements(node: Or) -> list[Clause]:
    per_child = [
        sorted(requirements(child), key=clause_weight, reverse=True) for child in node.children
    ]
    if any(not clauses for clauses in per_child):
        return []
    combined = (
        frozenset().union(*(c[min(rank, len(c) - 1)] for c in per_child)) for rank in range(2)
    )
    return _dedupe(combined)


def best_clause(clauses: list[Clause]) -> Clause | None:
    """The clause to index a rule under: the most selective one, then the smallest."""
    if not clauses:
        return None
    return max(clauses, key=lambda c: (clause_weight(c), -len(c)))


def _dedupe(clauses: Iterable[Clause]) -> list[Clause]:
    seen: list[Clause] = []
    for clause in clauses:
        if clause not in seen:
            seen.append(clause)
    return seen
