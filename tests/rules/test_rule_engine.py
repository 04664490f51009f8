"""The engine: presearch never changes results, matches are explained, and match is thread-safe."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor

from monitor.rules import Document, Rule, RuleEngine, RuleSet

VOCAB = [
    "mali",
    "gao",
    "kidal",
    "wagner",
    "russian",
    "mercenaries",
    "civilians",
    "killed",
    "executed",
    "drone",
    "strike",
    "village",
    "army",
    "junta",
    "niger",
    "burkina",
    "opera",
    "ring",
    "moura",
    "ségou",
    "l'armée",
    "tués",
    "civils",
]


def random_query(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.35:
        word = rng.choice(VOCAB)
        if rng.random() < 0.2 and len(word) > 4 and "'" not in word:
            return word[:4] + "*"
        if rng.random() < 0.15:
            return f'"{word} {rng.choice(VOCAB)}"'
        return word
    a, b = random_query(rng, depth + 1), random_query(rng, depth + 1)
    op = rng.choice(
        [
            "AND",
            "OR",
            "AND NOT",
            f"NEAR/{rng.randint(1, 9)}",
            "ONEAR/4",
            "SENTENCE",
            "PARAGRAPH",
            "",
        ]
    )
    if op in ("AND NOT",) or op.startswith(("NEAR", "ONEAR", "SENT", "PARA")):
        return f"({a}) {op} ({b})" if "NOT" not in b else f"({a}) AND ({b})"
    if rng.random() < 0.15:
        return f"title:({a} {op} {b})"
    return f"({a} {op} {b})"


def random_document(rng: random.Random) -> Document:
    def sentence() -> str:
        return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(3, 12))) + "."

    paragraphs = [
        " ".join(sentence() for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 4))
    ]
    return Document(title=sentence(), body="\n\n".join(paragraphs))


def test_presearch_gives_the_same_matches_as_evaluating_every_rule() -> None:
    rng = random.Random(7)
    rules = tuple(Rule(f"r{i}", random_query(rng)) for i in range(400))
    rules += (Rule("neg", "NOT opera"), Rule("meta", "lang:fr"), Rule("c", "@place mercen*"))
    engine = RuleEngine.compile(RuleSet(rules=rules, concepts={"place": "mali OR gao"}))
    for number in range(60):
        doc = random_document(rng)
        fast = [m.rule for m in engine.match(doc)]
        slow = [m.rule for m in engine.match_without_presearch(doc)]
        assert fast == slow
        if number % 6 == 0:
            assert fast == [r.name for r in rules if engine.explain(r.name, doc).matched]


def test_disabled_and_filtered_rules_do_not_match_but_explain() -> None:
    rules = (
        Rule("off", "mali", enabled=False),
        Rule("fr", "mali", languages=frozenset({"fr"})),
        Rule("wire", "mali", tags=frozenset({"wire"})),
        Rule("on", "mali"),
    )
    engine = RuleEngine.compile(RuleSet(rules=rules))
    doc = Document(title="Mali", body="", language="en", tags=frozenset({"WIRE"}))
    assert [m.rule for m in engine.match(doc)] == ["wire", "on"]
    assert engine.explain("off", doc).matched
    explanation = engine.explain("fr", doc)
    assert not explanation.matched and "language" in explanation.filtered


def test_match_explains_with_spans_and_passages() -> None:
    engine = RuleEngine.compile(
        RuleSet(
            rules=(Rule("r", "@harm AND title:mali"),),
            concepts={"harm": "(kill* OR execut*) NEAR/8 civilian*"},
        )
    )
    body = (
        "Nothing here. Soldiers executed two unarmed civilians near the well.\n\nAnother paragraph."
    )
    (match,) = engine.match(Document(title="Killings in Mali", body=body))
    harm, title = match.explanation.root.children
    assert harm.source == "@harm" and harm.value
    assert title.source == "title:mali" and title.spans[0].field == "title"
    first = match.passages[0]
    assert first.clause == "@harm" and first.field == "body"
    assert first.text == "Soldiers executed two unarmed civilians near the well."
    assert [first.text[s:e] for s, e in first.highlights] == ["executed", "civilians"]
    assert {
        (s.field, body[s.start : s.end]) for s in match.explanation.spans if s.field == "body"
    } == {("body", "executed"), ("body", "civilians")}
    data = json.loads(json.dumps(match.to_json()))
    assert data["rule"] == "r" and data["passages"][0]["highlights"] == [[9, 17], [30, 39]]


def test_match_is_thread_safe(shipped_engine: RuleEngine) -> None:
    rng = random.Random(3)
    docs = [random_document(rng) for _ in range(40)]
    expected = [[m.rule for m in shipped_engine.match(d)] for d in docs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            got = list(pool.map(lambda d: [m.rule for m in shipped_engine.match(d)], docs))
            assert got == expected
