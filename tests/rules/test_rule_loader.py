"""Loading rule files: the format, and every problem reported at once with file and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.rules import RuleEngine, RuleSet, load_rules
from monitor.rules.model import Rule


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def test_loads_rules_concepts_and_examples(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        """
concepts:
  place: Mali OR Niger
rules:
  - name: r1
    query: wagner AND @place
    channels: [ops, analysts]
    delivery: hourly
    languages: [EN, fr]
    tags: wire
examples:
  - {rule: r1, expect: match, title: Wagner in Mali, text: "Wagner was seen."}
  - {rule: r2, expect: no_match, file: art.txt}
""",
    )
    write(tmp_path, "b.yml", "rules:\n  - {name: r2, query: '@place', enabled: false}\n")
    write(tmp_path, "art.txt", "A headline\nfirst paragraph\nsecond paragraph\n")
    ruleset = load_rules(tmp_path)
    r1 = ruleset.rule("r1")
    assert r1.channels == ("ops", "analysts") and r1.delivery == "hourly"
    assert r1.languages == {"en", "fr"} and r1.tags == {"wire"} and r1.file.endswith("a.yaml")
    assert not ruleset.rule("r2").enabled
    assert ruleset.concepts == {"place": "Mali OR Niger"}
    example = ruleset.examples[1].document
    assert example.title == "A headline" and example.body == "first paragraph\n\nsecond paragraph"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        """
concepts:
  loop1: '@loop2 OR x'
  loop2: '@loop1'
  bad: 'wagner AND'
rules:
  - name: syntax
    query: '(wagner OR mali'
  - name: unknown
    query: '@nowhere AND mali'
  - name: dup
    query: x
  - {name: baddelivery, query: x, delivery: weekly, colour: red}
  - {query: x}
examples:
  - {rule: missing, expect: match, text: x}
  - {rule: dup, expect: maybe, text: x}
  - {rule: dup, expect: match, file: nothere.md}
bogus: 1
""",
    )
    write(tmp_path, "b.yaml", "rules:\n  - {name: dup, query: y}\n")
    write(tmp_path, "c.yaml", "rules: [\n")
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path)
    text = str(info.value)
    problems = {(Path(p.file).name, p.path) for p in info.value.problems}
    assert ("a.yaml", "rules[0].query") in problems
    assert "rule 'syntax': missing ')'" in text and "at column 16" in text
    assert ("a.yaml", "rules[1].query") in problems and "unknown concept '@nowhere'" in text
    assert ("a.yaml", "rules[3].delivery") in problems and "weekly" in text
    assert ("a.yaml", "rules[3].colour") in problems
    assert ("a.yaml", "rules[4].name") in problems
    assert ("b.yaml", "rules[0].name") in problems and "already used" in text
    assert ("c.yaml", "") in problems
    assert ("a.yaml", "bogus") in problems
    assert "concept cycle: @loop1 -> @loop2 -> @loop1" in text
    assert ("a.yaml", "concepts.bad") in problems
    assert ("a.yaml", "examples[0].rule") in problems
    assert ("a.yaml", "examples[1].expect") in problems
    assert ("a.yaml", "examples[2].file") in problems


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "concepts:\n  x: a\n  x: b\n")
    with pytest.raises(ConfigError, match="duplicate key 'x'"):
        load_rules(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "nope")


def test_compile_validates_programmatic_rulesets() -> None:
    rules = (Rule("a", "x AND"), Rule("b", "y"), Rule("b", "@missing"))
    ruleset = RuleSet(rules=rules, concepts={})
    with pytest.raises(ConfigError) as info:
        RuleEngine.compile(ruleset)
    messages = [p.message for p in info.value.problems]
    assert any("duplicate rule name" in m for m in messages)
    assert any("AND needs a term" in m for m in messages)
    assert any("unknown concept '@missing'" in m for m in messages)


def test_shipped_rules_load(shipped_rules: RuleSet) -> None:
    assert {"wagner", "civilian_harm", "sahel"} <= set(shipped_rules.concepts)
    query = shipped_rules.rule("wagner-sahel-civilian-harm").query
    assert "@wagner NEAR/" in query and "@civilian_harm" in query and "@sahel_scene" in query
