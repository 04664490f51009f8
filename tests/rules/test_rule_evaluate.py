"""Operator semantics on small documents: terms, proximity, units, fields, lead, metadata."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from monitor.rules import Document, Rule, RuleEngine, RuleSet


def matches(query: str, doc: Document, concepts: Mapping[str, str] | None = None) -> bool:
    engine = RuleEngine.compile(RuleSet(rules=(Rule("r", query),), concepts=concepts or {}))
    result = engine.explain("r", doc).matched
    assert bool(engine.match(doc)) == result
    assert bool(engine.match_without_presearch(doc)) == result
    return result


BODY = (
    "Soldiers executed two unarmed civilians near the well at Ségou. The army denied it.\n\n"
    "Wagner mercenaries were seen in the area, residents said.\n\n"
    "Later, a drone-strike hit a wedding."
)
DOC = Document(
    title="Killings reported in central Mali",
    body=BODY,
    language="en-GB",
    source="ReliefWeb",
    tags=frozenset({"Wire", "ngo"}),
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("segou", True),
        ("SÉGOU", True),
        ("civilian", False),
        ("civilian*", True),
        ('"unarmed civilians"', True),
        ('"civilians unarmed"', False),
        ('"drone strike"', True),
        ("drone-strike", True),
        ("wagner mercenar*", True),
        ("wagner AND NOT mercenar*", False),
        ("wagner OR nothinghere", True),
        ("execut* NEAR/3 civilian*", True),  # executed two unarmed civilians: 3 words apart
        ("execut* NEAR/2 civilian*", False),
        ("civilian* NEAR/3 execut*", True),
        ("execut* ONEAR/3 civilian*", True),
        ("civilian* ONEAR/3 execut*", False),
        ("(kill* OR execut*) NEAR/8 civilian*", True),
        ("soldiers SENTENCE army", False),
        ("soldiers SENTENCE segou", True),
        ("soldiers PARAGRAPH army", True),
        ("soldiers PARAGRAPH wagner", False),
        ("title:mali", True),
        ("title:(wagner)", False),
        ("body:mali", False),
        ("body:wagner", True),
        ("lead:wagner", True),
        ("lead:wedding", False),
        ("wedding AND NOT lead:wedding", True),
        ("title:(killings NEAR/4 mali)", True),
        ("title:(killings NEAR/3 mali)", False),
        ("lang:en", True),
        ("lang:fr", False),
        ("source:reliefweb", True),
        ("tag:wire", True),
        ("tag:blog", False),
        ("NOT tag:blog", True),
        ("mali NEAR/5 killings", True),
        ("mali NEAR/50 soldiers", False),  # title and body are separate fields
    ],
)
def test_operators(query: str, expected: bool) -> None:
    assert matches(query, DOC) is expected


def test_concepts_nest_and_are_usable_anywhere() -> None:
    concepts = {"harm": "(kill* OR execut*) NEAR/5 @people", "people": "civilian* OR villager*"}
    assert matches("@harm AND title:@place", DOC, {**concepts, "place": "Mali OR Niger"})
    assert not matches("@harm AND title:@place", DOC, {**concepts, "place": "Niger"})


def test_lead_skips_short_paragraphs() -> None:
    doc = Document(
        title="t",
        body="DAKAR\n\nShare\n\nFirst real paragraph with enough words here."
        "\n\nSecond real paragraph with enough words too.\n\nThird one with the "
        "keyword mercenaries in it.",
    )
    assert matches("lead:(first AND second)", doc)
    assert not matches("lead:mercenaries", doc)


def test_french_elisions_and_accents() -> None:
    doc = Document(title="", body="Des habitants d’Abeibara accusent l'armée malienne.")
    assert matches('abeibara AND "armee malienne"', doc)
    assert matches("d'Abeibara", doc)


def test_arabic() -> None:
    doc = Document(title="", body="قُتل مدنيون في كيدال على يد المرتزقة الروس")
    assert matches('"مرتزقة روس" AND مدني*', doc)
