"""Runs the example articles that rule files carry, so rule changes are tested like code."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.rules.engine import RuleEngine
from monitor.rules.explain import Explanation
from monitor.rules.model import Example, RuleSet


@dataclass(frozen=True)
class ExampleOutcome:
    """One example run: what was expected, what happened, and the explanation."""

    example: Example
    explanation: Explanation

    @property
    def passed(self) -> bool:
        return self.explanation.matched == self.example.expect_match

    def describe(self) -> str:
        wanted = "match" if self.example.expect_match else "no match"
        got = "matched" if self.explanation.matched else "did not match"
        title = self.example.document.title or self.example.document.url or "(untitled)"
        return (
            f"{self.example.file}: {self.example.where}: rule '{self.example.rule}' {got} "
            f"{title!r}, expected {wanted}"
        )


def check_examples(ruleset: RuleSet, engine: RuleEngine | None = None) -> list[ExampleOutcome]:
    """Run every example of `ruleset` (disabled rules included) and return all outcomes."""
    engine = engine or RuleEngine.compile(ruleset)
    return [
        ExampleOutcome(example, engine.explain(example.rule, example.document))
        for example in ruleset.examples
    ]
