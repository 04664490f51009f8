"""Every query example in docs/rule-language.md is executed here."""

from __future__ import annotations

import re

import pytest
from rules_testkit import REPO
from test_rule_parser import shape

from monitor.errors import RuleSyntaxError
from monitor.rules import Document, Rule, RuleEngine, RuleSet, parse

DOC = (REPO / "docs" / "rule-language.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(query|query-error|equivalent)\n(.*?)```", DOC, re.S)
META = re.compile(r"\[([^\]]*)\]\s*")


def blocks(kind: str) -> list[str]:
    return [body for k, body in BLOCKS if k == kind]


def article(line: str) -> Document:
    meta: dict[str, str] = {}
    found = META.match(line)
    if found:
        meta = dict(pair.split("=", 1) for pair in found.group(1).split())
        line = line[found.end() :]
    title, _, body = line.rpartition(" || ")
    body = "\n\n".join(p.strip() for p in body.split("¶"))
    return Document(
        title=title,
        body=body,
        language=meta.get("lang"),
        source=meta.get("source", ""),
        tags=frozenset(meta["tag"].split(",")) if "tag" in meta else frozenset(),
    )


def test_the_doc_has_examples() -> None:
    assert len(blocks("query")) >= 20 and blocks("query-error") and blocks("equivalent")


@pytest.mark.parametrize("block", blocks("query"), ids=lambda b: b.splitlines()[0][:40])
def test_query_examples(block: str, shipped_rules: RuleSet) -> None:
    lines = [line for line in block.strip().splitlines() if line.strip()]
    query, cases = lines[0], lines[1:]
    assert cases, "every example shows at least one article"
    engine = RuleEngine.compile(
        RuleSet(rules=(Rule("doc", query),), concepts=shipped_rules.concepts)
    )
    for case in cases:
        sign, text = case[0], case[1:].strip()
        assert sign in "+-", case
        assert engine.explain("doc", article(text)).matched is (sign == "+"), case


@pytest.mark.parametrize("block", blocks("query-error"), ids=lambda b: b.splitlines()[0])
def test_error_examples(block: str) -> None:
    query, expected = block.strip().splitlines()
    column, fragment = re.fullmatch(r"column (\d+): (.*)", expected).groups()  # type: ignore[union-attr]
    with pytest.raises(RuleSyntaxError) as info:
        parse(query)
    assert info.value.column == int(column) and fragment in info.value.message


@pytest.mark.parametrize("line", [x for b in blocks("equivalent") for x in b.strip().splitlines()])
def test_equivalences(line: str) -> None:
    left, right = line.split("==")
    assert shape(parse(left.strip())) == shape(parse(right.strip()))
