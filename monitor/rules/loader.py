"""Loads the ``rules/`` directory into a :class:`RuleSet`, reporting every problem at once.

Each ``*.yaml``/``*.yml`` file directly in the directory may hold three top-level keys:
``concepts`` (name -> query), ``rules`` (a list of rule mappings) and ``examples`` (articles a
rule must or must not match, inline or in files relative to the rule file). Names of rules and
concepts are unique across files; concepts are shared by all files. Unknown keys, bad values,
syntax errors (with their column), unknown concepts and concept cycles are all collected into one
:class:`~monitor.errors.ConfigError` whose problems name the file, key path and value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from monitor.config.yamlfile import read_yaml_file, yaml_problem
from monitor.errors import ConfigError, ConfigProblem
from monitor.rules.concepts import compile_queries
from monitor.rules.model import DELIVERIES, Example, Rule, RuleSet
from monitor.rules.settings import DEFAULT_RULE_SETTINGS, RuleSettings
from monitor.rules.sources import document_from_file, document_from_mapping

NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
RULE_KEYS = frozenset(
    {"name", "query", "channels", "delivery", "languages", "tags", "enabled", "description"}
)
EXAMPLE_KEYS = frozenset(
    {"rule", "expect", "title", "text", "file", "lang", "source", "tags", "note"}
)
EXPECTS = {"match": True, "no_match": False}


def load_rules(directory: Path, settings: RuleSettings | None = None) -> RuleSet:
    """Read every rule file in `directory`; raises ConfigError listing every problem.

    `settings` (``settings.rules``) give the widest ``NEAR/n`` allowed; defaults when omitted.
    """
    loader = _Loader(settings or DEFAULT_RULE_SETTINGS)
    if not directory.is_dir():
        raise ConfigError([ConfigProblem(str(directory), "", None, "rules directory not found")])
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        loader.load_file(path)
    return loader.finish()


class _Loader:
    def __init__(self, settings: RuleSettings) -> None:
        self.settings = settings
        self.problems: list[ConfigProblem] = []
        self.rules: list[tuple[Rule, str]] = []  # rule, key path
        self.concepts: dict[str, str] = {}
        self.concept_files: dict[str, str] = {}
        self.examples: list[Example] = []

    def problem(self, file: str, path: str, value: object, message: str) -> None:
        self.problems.append(ConfigProblem(file, path, value, message))

    def load_file(self, path: Path) -> None:
        file = str(path)
        try:  # bounded: size limit, alias budget, nesting depth (monitor.config.yamlfile)
            data = read_yaml_file(path)
        except OSError as exc:
            self.problem(file, "", None, f"cannot read rule file: {exc.strerror or exc}")
            return
        except yaml.YAMLError as exc:
            where, what = yaml_problem(exc)
            at = f" ({where})" if where else ""
            self.problem(file, "", None, f"cannot read rule file{at}: {what}")
            return
        if data is None:
            return
        if not isinstance(data, dict):
            self.problem(
                file,
                "",
                type(data).__name__,
                "a rule file must be a mapping with 'concepts', 'rules' and/or 'examples'",
            )
            return
        for key in sorted(set(data) - {"concepts", "rules", "examples"}, key=str):
            self.problem(file, str(key), None, "unknown key (valid: concepts, rules, examples)")
        self.load_concepts(file, data.get("concepts") or {})
        for i, item in enumerate(self.as_list(file, "rules", data.get("rules"))):
            self.load_rule(file, f"rules[{i}]", item)
        for i, item in enumerate(self.as_list(file, "examples", data.get("examples"))):
            self.load_example(path, f"examples[{i}]", item)

    def as_list(self, file: str, key: str, value: object) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(file, key, type(value).__name__, "must be a list")
            return []
        return value

    def load_concepts(self, file: str, concepts: object) -> None:
        if not isinstance(concepts, dict):
            self.problem(
                file, "concepts", type(concepts).__name__, "must be a mapping of name to query"
            )
            return
        for name, query in concepts.items():
            path = f"concepts.{name}"
            if not isinstance(name, str) or not NAME_RE.match(name):
                self.problem(file, path, name, "a concept name uses letters, digits, _ . -")
            elif not isinstance(query, str) or not query.strip():
                self.problem(file, path, query, "a concept must be a non-empty query string")
            elif name in self.concepts:
                self.problem(
                    file, path, name, f"concept already defined in {self.concept_files[name]}"
                )
            else:
                self.concepts[name] = query
                self.concept_files[name] = file

    def load_rule(self, file: str, path: str, item: object) -> None:
        if not isinstance(item, dict):
            self.problem(file, path, item, "a rule must be a mapping with at least name and query")
            return
        for key in sorted(set(item) - RULE_KEYS, key=str):
            self.problem(
                file, f"{path}.{key}", None, f"unknown key (valid: {', '.join(sorted(RULE_KEYS))})"
            )
        name, query = item.get("name"), item.get("query")
        ok = True
        if not isinstance(name, str) or not NAME_RE.match(name):
            self.problem(
                file, f"{path}.name", name, "a rule needs a name of letters, digits, _ . -"
            )
            ok = False
        if not isinstance(query, str) or not query.strip():
            self.problem(file, f"{path}.query", query, "a rule needs a non-empty query string")
            ok = False
        delivery = item.get("delivery", "immediate")
        if delivery not in DELIVERIES:
            self.problem(
                file,
                f"{path}.delivery",
                delivery,
                f"delivery must be one of {', '.join(DELIVERIES)}",
            )
            ok = False
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            self.problem(file, f"{path}.enabled", enabled, "enabled must be true or false")
            ok = False
        channels = self.strings(file, f"{path}.channels", item.get("channels"))
        languages = self.strings(file, f"{path}.languages", item.get("languages"))
        tags = self.strings(file, f"{path}.tags", item.get("tags"))
        description = item.get("description", "")
        if channels is None or languages is None or tags is None or not ok:
            return
        assert isinstance(name, str) and isinstance(query, str)
        if any(name == r.name for r, _ in self.rules):
            other = next(r.file for r, _ in self.rules if r.name == name)
            self.problem(file, f"{path}.name", name, f"rule name already used in {other}")
            return
        rule = Rule(
            name=name,
            query=query,
            channels=tuple(channels),
            delivery=delivery,
            languages=frozenset(x.lower() for x in languages),
            tags=frozenset(tags),
            file=file,
            enabled=enabled,
            description=str(description or ""),
        )
        self.rules.append((rule, path))

    def strings(self, file: str, path: str, value: object) -> list[str] | None:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(file, path, value, "must be a list of non-empty strings")
            return None
        return list(value)

    def load_example(self, rule_file: Path, path: str, item: object) -> None:
        file = str(rule_file)
        if not isinstance(item, dict):
            self.problem(file, path, item, "an example must be a mapping")
            return
        for key in sorted(set(item) - EXAMPLE_KEYS, key=str):
            self.problem(
                file,
                f"{path}.{key}",
                None,
                f"unknown key (valid: {', '.join(sorted(EXAMPLE_KEYS))})",
            )
        expect = item.get("expect")
        if expect not in EXPECTS:
            self.problem(file, f"{path}.expect", expect, "expect must be 'match' or 'no_match'")
            return
        if not isinstance(item.get("rule"), str):
            self.problem(file, f"{path}.rule", item.get("rule"), "an example names its rule")
            return
        has_text, has_file = "text" in item, "file" in item
        if has_text == has_file:
            self.problem(file, path, None, "an example needs exactly one of 'text' or 'file'")
            return
        try:
            if has_file:
                document = document_from_file(rule_file.parent / str(item["file"]))
            else:
                document = document_from_mapping(item)
        except (OSError, UnicodeDecodeError, ValueError, ConfigError) as exc:
            key = "file" if has_file else "text"
            self.problem(file, f"{path}.{key}", item.get(key), f"cannot read example: {exc}")
            return
        self.examples.append(Example(item["rule"], EXPECTS[expect], document, file, path))

    def finish(self) -> RuleSet:
        rules = {rule.name: rule.query for rule, _ in self.rules}
        _, query_problems = compile_queries(rules, self.concepts, self.settings)
        paths = {rule.name: (rule.file, path) for rule, path in self.rules}
        for qp in query_problems:
            if qp.kind == "rule":
                file, path = paths[qp.name]
                self.problem(file, f"{path}.query", qp.query, qp.describe())
            else:
                self.problem(
                    self.concept_files[qp.name], f"concepts.{qp.name}", qp.query, qp.describe()
                )
        names = set(rules)
        for example in self.examples:
            if example.rule not in names:
                self.problem(
                    example.file, f"{example.where}.rule", example.rule, "no rule has this name"
                )
        if self.problems:
            raise ConfigError(self.problems)
        return RuleSet(
            rules=tuple(r for r, _ in self.rules),
            concepts=dict(self.concepts),
            examples=tuple(self.examples),
            concept_files=dict(self.concept_files),
            settings=self.settings,
        )
