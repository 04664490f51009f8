"""Matching limits (settings.rules) and load-time limits: caps, notes, bounded output, errors.

No timing assertions: a dense article is checked structurally (no operator result is longer than
the article, the explanation stays small); timings are in bench/bench_rules.py hostile.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.config.models import Settings
from monitor.errors import ConfigError, RuleSyntaxError
from monitor.rules import Document, Rule, RuleEngine, RuleSet, load_rules, parse
from monitor.rules.analysis import AnalysedDocument
from monitor.rules.concepts import compile_queries
from monitor.rules.evaluate import Evaluator, Result
from monitor.rules.settings import DEFAULT_RULE_SETTINGS, RuleSettings
from monitor.rules.syntax import MAX_QUERY_DEPTH

CONCEPTS = {
    "act": "kill* OR shot OR execut*",
    "people": "civilian* OR villagers OR women",
    "harm": '"civilian deaths" OR (@act SENTENCE @people)',
    "merc": '"Russian mercenar*" OR (Wagner NEAR/20 (Russia* OR mercena*))',
    "place": "Mali OR Moura OR Gao",
}
NESTED = "(@merc NEAR/90 @harm) AND (@place PARAGRAPH (@harm OR @merc))"
SENTENCE = "Russian mercenaries killed civilians near Moura in central Mali, they say. "


def engine(query: str = NESTED, **limits: int) -> RuleEngine:
    ruleset = RuleSet(rules=(Rule("r", query),), concepts=CONCEPTS)
    return RuleEngine.compile(ruleset, RuleSettings(**limits) if limits else None)


def problems_of(rules: tuple[Rule, ...], concepts: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        RuleEngine.compile(RuleSet(rules=rules, concepts=concepts or {}))
    return [f"{p.path}: {p.message}" for p in info.value.problems]


# --- per-article caps -------------------------------------------------------------------------


def test_words_beyond_max_words_are_ignored_and_noted() -> None:
    body = "filler " * 150 + "wagner"
    doc = Document(title="Report", body=body)
    assert not engine("wagner", max_words=100).explain("r", doc).matched
    narrow = engine("filler", max_words=100).explain("r", doc)
    assert narrow.matched
    assert any("longer than 100 words" in n and "max_words" in n for n in narrow.notes)
    assert "notes" in narrow.to_json()
    wide = engine("wagner").explain("r", doc)
    assert wide.matched and not wide.notes


def test_the_title_counts_towards_max_words() -> None:
    doc = Document(title="wagner " * 100, body="mali")
    assert not engine("mali", max_words=100).explain("r", doc).matched
    assert engine("mali", max_words=101).explain("r", doc).matched


@pytest.mark.parametrize(
    ("title", "body", "query", "max_words"),
    [
        ("Report", "filler " * 150 + "wagner", "wagner", 100),
        ("Report", "filler " * 150 + "wagner", "filler", 100),
        ("wagner " * 100, "mali", "mali", 100),
        ("wagner " * 100, "mali", "mali", 101),
        ("Report", "l'armée à Gao", "l", 100),  # an elided word is no token
    ],
)
def test_match_applies_the_caps_like_explain(
    title: str, body: str, query: str, max_words: int
) -> None:
    """match() rules articles out on their words before tokenising them: same verdicts."""
    rules, doc = engine(query, max_words=max_words), Document(title=title, body=body)
    assert bool(rules.match(doc)) == rules.explain("r", doc).matched


def test_term_occurrences_are_capped_and_the_explanation_says_so() -> None:
    body = "wagner said so. " * 30 + "Civilians were killed."
    doc = Document(title="Report", body=body)
    # The only civilian is after the 30th "wagner": with 10 occurrences it is out of reach.
    capped = engine("wagner NEAR/5 civilian*", max_term_occurrences=10).explain("r", doc)
    assert not capped.matched
    assert any("wagner occurs 30 times" in n and "first 10" in n for n in capped.notes)
    assert engine("wagner NEAR/5 civilian*").explain("r", doc).matched
    matches = engine("wagner", max_term_occurrences=10).match(doc)
    assert matches and any("occurs 30 times" in n for n in matches[0].explanation.notes)
    assert "notes" in matches[0].to_json()["explanation"]


def test_dense_article_stays_linear_and_its_explanation_bounded() -> None:
    doc = Document(title="Report", body=SENTENCE * 3000)
    settings = RuleSettings(max_term_occurrences=1_000_000)
    rule_engine = engine(max_term_occurrences=1_000_000)
    [match] = rule_engine.match(doc)
    adoc = AnalysedDocument(doc, settings)
    tokens = len(adoc.fields[0].tokens) + len(adoc.fields[1].tokens)
    tree = compile_queries({"r": NESTED}, CONCEPTS)[0]["r"]
    result = Evaluator(adoc, trace=True).evaluate(tree)
    for node in _results(result):  # all pairs would give millions of spans here
        assert len(node.hits) <= tokens and len(node.marks) <= tokens
    assert len(match.passages) <= settings.max_passages
    assert all(len(p.text) <= 600 for p in match.passages)
    assert len(json.dumps(match.to_json())) < 100_000
    spans = [c for c in _clauses(match.explanation.to_json()["clauses"]) if "spans" in c]
    assert all(len(c["spans"]) <= settings.max_spans for c in spans)
    assert any(c.get("omitted_spans", 0) > 1000 for c in spans)


def test_a_huge_sentence_gives_a_short_passage() -> None:
    body = "Wagner " + "word " * 20_000 + "killed civilians in Mali"
    [match] = engine("wagner AND mali").match(Document(title="Report", body=body))
    assert match.passages and all(len(p.text) <= 600 for p in match.passages)


def test_max_passages_and_max_spans_are_settings() -> None:
    doc = Document(title="Report", body=SENTENCE * 50)
    [match] = engine(max_passages=1, max_spans=3).match(doc)
    assert len(match.passages) == 1
    assert len(match.explanation.spans) == 3 and match.explanation.omitted_spans > 0


def _results(result: Result) -> list[Result]:
    found, stack = [], [result]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.children)
    return found


def _clauses(clause: dict[str, object]) -> list[dict[str, object]]:
    children = clause.get("children", [])
    assert isinstance(children, list)
    return [clause, *(c for child in children for c in _clauses(child))]


# --- load-time limits ---------------------------------------------------------------------------


def test_near_distance_is_bounded_with_an_error_naming_rule_and_column() -> None:
    [problem] = problems_of((Rule("wide", "aaa* NEAR/100000 bbb*"),))
    assert problem.startswith("rules.wide.query: rule 'wide': NEAR/100000 is too wide")
    assert "1,000 words" in problem and "max_near_distance" in problem
    assert problem.endswith("at column 6")
    [problem] = problems_of((Rule("huge", "a ONEAR/1000000000000000000000 b"),))
    assert "ONEAR/1000000000000000000000 is too wide" in problem and "column 3" in problem
    [problem] = problems_of((Rule("digits", "a NEAR/" + "9" * 5000 + " b"),))
    assert "is too wide" in problem and len(problem) < 300


def test_near_limit_is_configurable_and_applies_to_concepts() -> None:
    rules = (Rule("r", "a NEAR/2000 b"),)
    RuleEngine.compile(RuleSet(rules=rules), RuleSettings(max_near_distance=5000))
    with pytest.raises(ConfigError, match="NEAR/2000 is too wide"):
        RuleEngine.compile(RuleSet(rules=rules))
    [problem] = problems_of((Rule("r", "@c"),), {"c": "x ONEAR/1001 y"})
    assert problem.startswith("concepts.c: concept 'c': ONEAR/1001 is too wide")


def test_load_rules_checks_near_with_its_settings_and_passes_them_on(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rules:\n  - {name: r, query: 'a NEAR/1500 b'}\n")
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path)
    [problem] = info.value.problems
    assert Path(problem.file).name == "a.yaml" and problem.path == "rules[0].query"
    assert "NEAR/1500 is too wide" in problem.message and "column 3" in problem.message
    settings = RuleSettings(max_near_distance=2000, max_words=500)
    ruleset = load_rules(tmp_path, settings)
    assert ruleset.settings == settings
    assert RuleEngine.compile(ruleset).settings == settings  # what a worker process compiles


def test_parentheses_nesting_is_refused_at_its_column() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse("(" * 200 + "wagner" + ")" * 200)
    assert info.value.column == MAX_QUERY_DEPTH + 1 and "nested too deeply" in info.value.message
    parse("(" * (MAX_QUERY_DEPTH - 1) + "wagner" + ")" * (MAX_QUERY_DEPTH - 1))


def test_chained_not_and_proximity_are_refused() -> None:
    [problem] = problems_of((Rule("nots", "NOT " * 10_000 + "wagner"),))
    assert problem.startswith("rules.nots.query: rule 'nots': the query is nested too deeply")
    assert f"column {4 * MAX_QUERY_DEPTH + 1}" in problem
    [problem] = problems_of((Rule("chain", " NEAR/2 ".join(["a"] * 5000)),))
    assert "nested too deeply" in problem
    [problem] = problems_of((Rule("fields", "title:(" * 150 + "a" + ")" * 150),))
    assert "nested too deeply" in problem


def test_a_deep_concept_chain_is_one_problem_naming_the_concept() -> None:
    concepts = {f"c{i}": f"@c{i + 1} OR x{i}" for i in range(3000)}
    concepts["c3000"] = "end"
    problems = problems_of((Rule("r", "@c0 AND z"),), concepts)
    assert len(problems) == 1
    assert problems[0].startswith("concepts.c2950: concept 'c2950': nested too deeply")
    assert "@c2951" in problems[0] and "column 1" in problems[0]


def test_a_rule_too_deep_only_with_its_concepts_names_the_rule() -> None:
    concepts = {f"c{i}": f"(@c{i + 1} OR x{i})" for i in range(40)}
    concepts["c40"] = "end"
    [problem] = problems_of((Rule("r", "NOT " * 30 + "@c0"),), concepts)
    assert problem.startswith("rules.r.query: rule 'r': nested too deeply")
    assert "(deepest through @c0)" in problem and "column 121" in problem


def test_the_deepest_accepted_query_evaluates_and_explains() -> None:
    query = "(" * 40 + "wagner NEAR/3 mali" + ")" * 40
    concepts = {f"c{i}": f"(@c{i + 1} OR x{i})" for i in range(20)}
    concepts["c20"] = query
    rule_engine = RuleEngine.compile(RuleSet(rules=(Rule("r", "@c0"),), concepts=concepts))
    doc = Document(title="Wagner in Mali", body="Wagner fighters in Mali.")
    [match] = rule_engine.match(doc)
    json.dumps(match.to_json())


def test_a_concept_cycle_through_thousands_of_concepts_is_reported() -> None:
    concepts = {f"c{i}": f"@c{(i + 1) % 3000}" for i in range(3000)}
    problems = problems_of((Rule("r", "@c0"),), concepts)
    assert len(problems) == 1 and "concept cycle: @c0 -> @c1 -> @c2" in problems[0]


# --- settings -----------------------------------------------------------------------------------


def test_rule_settings_in_feeds_yaml() -> None:
    settings = Settings.model_validate({"rules": {"max_near_distance": 200, "max_words": 5000}})
    assert settings.rules.max_near_distance == 200 and settings.rules.max_words == 5000
    assert Settings().rules == DEFAULT_RULE_SETTINGS
    with pytest.raises(ValidationError):
        Settings.model_validate({"rules": {"max_near_distance": 10**9}})
    with pytest.raises(ValidationError):
        Settings.model_validate({"rules": {"max_nesting": 3}})


def test_ruleset_and_settings_survive_pickling() -> None:
    ruleset = RuleSet(
        rules=(Rule("r", NESTED),), concepts=CONCEPTS, settings=RuleSettings(max_words=1000)
    )
    copy = pickle.loads(pickle.dumps(ruleset))
    assert copy.settings.max_words == 1000
    assert RuleEngine.compile(copy).match(Document(title="Report", body=SENTENCE))
