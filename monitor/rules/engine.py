"""The rule engine: compiles every rule once, then matches articles against all of them.

Matching an article costs about the same with ten rules or ten thousand: the article is tokenised
once, its words and the registered prefixes it contains become a key set, and the presearch index
(:mod:`monitor.rules.presearch`) yields the few rules that share a selective key with it. Only
those are evaluated on the whole article (NOT and proximity included). The engine is immutable
after :meth:`RuleEngine.compile`; every call builds its own per-article state, so concurrent
``match`` calls from several threads are safe.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from monitor.errors import ConfigError, ConfigProblem, UnknownRuleError
from monitor.rules.analysis import AnalysedDocument, first_words
from monitor.rules.concepts import QueryProblem, compile_queries
from monitor.rules.document import Document, primary_language
from monitor.rules.evaluate import Evaluator
from monitor.rules.explain import Explanation, RuleMatch
from monitor.rules.model import Rule, RuleSet
from monitor.rules.normalize import fold, raw_words
from monitor.rules.passages import explanation
from monitor.rules.presearch import Clause, best_clause, requirements
from monitor.rules.settings import DEFAULT_RULE_SETTINGS, RuleSettings
from monitor.rules.syntax import Node


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    tree: Node
    requirements: tuple[Clause, ...]


class RuleEngine:
    """Matches documents against a compiled rule set; build it with :meth:`compile`."""

    def __init__(
        self, rules: list[CompiledRule], settings: RuleSettings = DEFAULT_RULE_SETTINGS
    ) -> None:
        self.settings = settings
        self._rules = tuple(rules)
        self._by_name = {c.rule.name: c for c in rules}
        index: defaultdict[str, list[int]] = defaultdict(list)
        self._always: list[int] = []
        prefixes: set[str] = set()
        for number, compiled in enumerate(rules):
            for clause in compiled.requirements:
                prefixes.update(key[1:] for key in clause if key[0] == "^")
            chosen = best_clause(list(compiled.requirements))
            if chosen is None:
                self._always.append(number)
            for key in chosen or ():
                index[key].append(number)
        self._word_index = {k[1:]: v for k, v in index.items() if k[0] == "="}
        self._prefix_index = {k[1:]: v for k, v in index.items() if k[0] == "^"}
        self._checks = tuple(tuple(_split(c) for c in r.requirements) for r in rules)
        self._prefixes = frozenset(prefixes)
        self._prefix_lengths = sorted({len(p) for p in prefixes})

    @classmethod
    def compile(cls, ruleset: RuleSet, settings: RuleSettings | None = None) -> RuleEngine:
        """Parse and resolve every rule; raises ConfigError listing every problem.

        `settings` (``settings.rules`` of feeds.yaml) bound the cost of matching one article and
        the widest ``NEAR/n``; when omitted, those the RuleSet was loaded with apply (the
        defaults for a RuleSet built directly).
        """
        settings = settings or ruleset.settings
        problems: list[ConfigProblem] = []
        seen: set[str] = set()
        for rule in ruleset.rules:
            if rule.name in seen:
                problems.append(
                    ConfigProblem(rule.file, f"rules.{rule.name}", rule.name, "duplicate rule name")
                )
            seen.add(rule.name)
        trees, query_problems = compile_queries(
            {r.name: r.query for r in ruleset.rules}, ruleset.concepts, settings
        )
        problems += [_config_problem(p, ruleset) for p in query_problems]
        if problems:
            raise ConfigError(problems)
        compiled = [
            CompiledRule(r, trees[r.name], tuple(requirements(trees[r.name])))
            for r in ruleset.rules
        ]
        return cls(compiled, settings)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(c.rule for c in self._rules)

    def match(self, doc: Document) -> list[RuleMatch]:
        """Every enabled rule that matches `doc`, with explanations and passages."""
        if not self._always and not self._candidates(self._rough_words(doc)):
            return []  # no rule can match: the article is never tokenised
        adoc = AnalysedDocument(doc, self.settings)
        return self._evaluate(adoc, self._candidates(adoc.words))

    def _rough_words(self, doc: Document) -> frozenset[str]:
        """A superset of the article's folded words, without tokenising it.

        Every word the article's tokens hold is here (tokens are these same runs of each field's
        first ``max_words`` words, folded the same way); words the tokeniser drops (elided ``l'``,
        body words beyond the title's share of ``max_words``) are here too, which can only add
        candidates, never remove one. Like tokenising, it reads at most ``max_words`` words.
        """
        limit = self.settings.max_words  # each field's tokens are among its first words
        raw = raw_words(first_words(doc.title, limit))
        raw.update(raw_words(first_words(doc.body, limit)))
        return frozenset(map(fold, raw))

    def _candidates(self, words: frozenset[str]) -> list[CompiledRule]:
        """The rules whose presearch requirements `words` satisfy, in rule order."""
        prefixes = self._present_prefixes(words)
        numbers = set(self._always)
        for word in words:
            numbers.update(self._word_index.get(word, ()))
        for prefix in prefixes:
            numbers.update(self._prefix_index.get(prefix, ()))
        return [
            self._rules[n]
            for n in sorted(numbers)
            if all(not (w.isdisjoint(words) and p.isdisjoint(prefixes)) for w, p in self._checks[n])
        ]

    def match_without_presearch(self, doc: Document) -> list[RuleMatch]:
        """Evaluate every rule on `doc`: the naive baseline for presearch tests and benchmarks."""
        return self._evaluate(AnalysedDocument(doc, self.settings), list(self._rules))

    def explain(self, rule_name: str, doc: Document) -> Explanation:
        """Evaluate one rule (enabled or not) on `doc` and explain the outcome, match or not."""
        compiled = self._by_name.get(rule_name)
        if compiled is None:
            raise UnknownRuleError(rule_name, list(self._by_name))
        adoc = AnalysedDocument(doc, self.settings)
        result = Evaluator(adoc, trace=True).evaluate(compiled.tree)
        return explanation(rule_name, result, adoc, filtered_out(compiled.rule, doc))

    def _evaluate(self, adoc: AnalysedDocument, candidates: list[CompiledRule]) -> list[RuleMatch]:
        fast = Evaluator(adoc, trace=False)
        traced: Evaluator | None = None
        matches: list[RuleMatch] = []
        for compiled in candidates:
            rule = compiled.rule
            if not rule.enabled or filtered_out(rule, adoc.doc):
                continue
            if fast.evaluate(compiled.tree).value:
                traced = traced or Evaluator(adoc, trace=True)
                result = traced.evaluate(compiled.tree)
                why = explanation(rule.name, result, adoc)
                matches.append(RuleMatch(rule.name, why, why.passages))
        return matches

    def _present_prefixes(self, words: frozenset[str]) -> set[str]:
        """The registered prefix wildcards that some of `words` starts with."""
        found: set[str] = set()
        prefixes, lengths = self._prefixes, self._prefix_lengths
        for word in words:
            for length in lengths:
                if length > len(word):
                    break
                if word[:length] in prefixes:
                    found.add(word[:length])
        return found


def _split(clause: Clause) -> tuple[frozenset[str], frozenset[str]]:
    """A presearch clause as (words, prefixes)."""
    words = frozenset(k[1:] for k in clause if k[0] == "=")
    return words, frozenset(k[1:] for k in clause if k[0] == "^")


def filtered_out(rule: Rule, doc: Document) -> str:
    """Why the rule's language/tag filters exclude `doc`, or "" when they let it through."""
    if rule.languages and primary_language(doc.language) not in rule.languages:
        wanted = ", ".join(sorted(rule.languages))
        return f"language {doc.language or 'unknown'!r} is not one of the rule's ({wanted})"
    if rule.tags and not {fold(t) for t in doc.tags} & {fold(t) for t in rule.tags}:
        wanted = ", ".join(sorted(rule.tags))
        return f"source tags {sorted(doc.tags)} share none of the rule's ({wanted})"
    return ""


def _config_problem(problem: QueryProblem, ruleset: RuleSet) -> ConfigProblem:
    if problem.kind == "rule":
        file = next((r.file for r in ruleset.rules if r.name == problem.name), "")
        path = f"rules.{problem.name}.query"
    else:
        file = ruleset.concept_files.get(problem.name, "")
        path = f"concepts.{problem.name}"
    return ConfigProblem(file or "<rules>", path, problem.query, problem.describe())
