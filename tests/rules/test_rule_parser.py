"""Parser: precedence, term kinds and syntax errors with their column."""

from __future__ import annotations

import pytest

from monitor.errors import RuleSyntaxError
from monitor.rules import parse
from monitor.rules.syntax import And, Node, Not, Or, Proximity, Term, children_of


def shape(node: Node) -> str:
    """A compact structural rendering that ignores source text and columns."""
    if isinstance(node, Term):
        return " ".join(w + ("*" if p else "") for w, p in node.matchers)
    inner = ", ".join(shape(c) for c in children_of(node))
    return f"{node.operator}({inner})"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a b", "AND(a, b)"),
        ("a AND b OR c", "OR(AND(a, b), c)"),
        ("a OR b c", "OR(a, AND(b, c))"),
        ("NOT a b", "AND(NOT(a), b)"),
        ("a AND NOT b", "AND(a, NOT(b))"),
        ("NOT a NEAR/3 b", "NOT(NEAR/3(a, b))"),
        ("a NEAR/3 b c", "AND(NEAR/3(a, b), c)"),
        ("a OR b NEAR/3 c", "OR(a, NEAR/3(b, c))"),
        ("(a OR b) NEAR/3 c", "NEAR/3(OR(a, b), c)"),
        ("a NEAR/2 b ONEAR/4 c", "ONEAR/4(NEAR/2(a, b), c)"),
        ("a SENTENCE b PARAGRAPH c", "PARAGRAPH(SENTENCE(a, b), c)"),
        ('"Russian mercenar*"', "russian mercenar*"),
        ("drone-strike", "drone strike"),
        ("l'armée", "armee"),
        ("title:(a OR b) c", "AND(title:(OR(a, b)), c)"),
        ("lead:a", "lead:(a)"),
        ("a and b", "AND(a, and, b)"),
        ("“typographic quotes”", "typographic quotes"),
    ],
)
def test_precedence_and_terms(query: str, expected: str) -> None:
    assert shape(parse(query)) == expected


def test_nodes_keep_their_source() -> None:
    node = parse("@wagner AND (kill* OR execut*) NEAR/8 civilian*")
    assert isinstance(node, And)
    assert [c.source for c in node.children] == ["@wagner", "(kill* OR execut*) NEAR/8 civilian*"]
    near = node.children[1]
    assert isinstance(near, Proximity) and isinstance(near.left, Or)
    assert near.left.source == "kill* OR execut*"


def test_metadata_filters() -> None:
    node = parse("lang:FR source:ReliefWeb tag:wire")
    assert isinstance(node, And)
    assert [(c.key, c.value) for c in node.children] == [  # type: ignore[union-attr]
        ("lang", "fr"),
        ("source", "reliefweb"),
        ("tag", "wire"),
    ]


@pytest.mark.parametrize(
    ("query", "column", "fragment"),
    [
        ("", 1, "empty query"),
        ("wagner AND", 11, "AND needs a term"),
        ("(wagner OR mali", 16, "missing ')'"),
        ("wagner)", 7, "unbalanced ')'"),
        ('wagner "civilian deaths', 8, "unclosed quote"),
        ("wagner NEAR civilians", 8, "NEAR needs a distance"),
        ("wagner NEAR/0 civilians", 8, "at least 1"),
        ("ab*", 1, "at least 3 letters"),
        ("wag*ner", 1, "only allowed at the end"),
        ("country:mali", 1, "unknown field 'country'"),
        ("wagner NEAR/5 NOT mali", 15, "not NOT"),
        ("wagner NEAR/5 lang:fr", 15, "needs words on both sides"),
        ("@ wagner", 1, "concept name"),
        ("OR wagner", 1, "cannot start a term"),
        ("title: OR x", 8, "needs a term"),
        ("lang: fr", 6, "needs a value"),
        ("()", 2, "empty parentheses"),
        ("!!!", 1, "no searchable word"),
    ],
)
def test_syntax_errors_point_at_the_column(query: str, column: int, fragment: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse(query)
    assert fragment in info.value.message
    assert info.value.column == column
    assert "^" in str(info.value)


def test_not_is_unary() -> None:
    assert isinstance(parse("NOT NOT a"), Not)
