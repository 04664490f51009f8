"""Fixtures for the rule-language tests: the shipped rules, loaded and compiled once."""

from __future__ import annotations

import pytest
from rules_testkit import REPO

from monitor.rules import RuleEngine, RuleSet, load_rules


@pytest.fixture(scope="session")
def shipped_rules() -> RuleSet:
    return load_rules(REPO / "rules")


@pytest.fixture(scope="session")
def shipped_engine(shipped_rules: RuleSet) -> RuleEngine:
    return RuleEngine.compile(shipped_rules)
