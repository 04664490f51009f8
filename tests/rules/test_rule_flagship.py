"""The shipped flagship rule: the five seed articles match, the hard negatives do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_testkit import REPO, SEEDS

from monitor.rules import FLAGSHIP_RULE, RuleEngine, RuleSet, check_examples
from monitor.rules.sources import document_from_file

SEED_FILES = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []


@pytest.mark.skipif(len(SEED_FILES) != 5, reason="seed articles not available on this machine")
@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_flagship_matches_every_seed(shipped_engine: RuleEngine, path: Path) -> None:
    matches = shipped_engine.match(document_from_file(path))
    assert FLAGSHIP_RULE in [m.rule for m in matches]


@pytest.mark.parametrize(
    "name",
    [
        "ring-cycle-review",
        "wagner-moura-profile",
        "prigozhin-mutiny",
        "burkina-jihadist-attack",
        "franz-wagner-game",
    ],
)
def test_flagship_ignores_hard_negatives(shipped_engine: RuleEngine, name: str) -> None:
    doc = document_from_file(REPO / "rules" / "examples" / f"{name}.md")
    assert not shipped_engine.explain(FLAGSHIP_RULE, doc).matched


def test_shipped_examples_pass(shipped_rules: RuleSet, shipped_engine: RuleEngine) -> None:
    outcomes = check_examples(shipped_rules, shipped_engine)
    assert len(outcomes) >= 9
    assert [o.describe() for o in outcomes if not o.passed] == []
