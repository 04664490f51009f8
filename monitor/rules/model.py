"""The typed configuration of the rule language: rules, concept lists and example articles.

:func:`monitor.rules.loader.load_rules` builds a :class:`RuleSet` from the ``rules/`` directory;
tests and benchmarks may build one directly. A RuleSet is plain (picklable) data: compiling it
into something that matches articles is :class:`monitor.rules.engine.RuleEngine`'s job. It
carries the matching limits (``settings.rules`` of feeds.yaml) it was loaded with, so every
``RuleEngine.compile(ruleset)`` (in the daemon, a worker process or the CLI) applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.errors import UnknownRuleError
from monitor.rules.document import Document
from monitor.rules.settings import DEFAULT_RULE_SETTINGS, RuleSettings

DELIVERIES = ("immediate", "hourly", "daily")


@dataclass(frozen=True)
class Rule:
    """One analyst rule: what to match, where to alert, how often, and which articles it sees."""

    name: str
    query: str
    channels: tuple[str, ...] = ()
    delivery: str = "immediate"
    languages: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    file: str = ""
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True)
class Example:
    """An article a rule file says `rule` must (``expect_match``) or must not match."""

    rule: str
    expect_match: bool
    document: Document
    file: str = ""
    where: str = ""  # key path in the rule file, e.g. "examples[3]"


@dataclass(frozen=True)
class RuleSet:
    """Every rule, concept and example of a rules directory; names are unique across files."""

    rules: tuple[Rule, ...]
    concepts: Mapping[str, str] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    concept_files: Mapping[str, str] = field(default_factory=dict)
    settings: RuleSettings = DEFAULT_RULE_SETTINGS  # limits checked at load, used by compile

    def rule(self, name: str) -> Rule:
        """The rule called `name`; raises UnknownRuleError."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise UnknownRuleError(name, [r.name for r in self.rules])
