"""Rule-matching cost per article with 10 to 10,000 rules, against evaluating every rule.

Not a test: run ``.venv/bin/python bench/bench_rules.py`` and copy the table into
docs/benchmarks.md. Rules and articles are generated from one synthetic Zipf-distributed
vocabulary (30,000 pseudo-words plus the shipped concepts' words), so that, as with real analyst
rules, each rule uses a few topical words and a typical article touches only a few rules. Rule
shapes mix words, phrases, prefixes, NEAR/ONEAR, SENTENCE, field scopes, NOT and shared concepts.
"""

from __future__ import annotations

import platform
import random
import sys
import time
from pathlib import Path

from monitor.rules import Document, Rule, RuleEngine, RuleSet, load_rules

SIZES = (10, 100, 1_000, 10_000)
ARTICLES = 60
BASELINE_ARTICLES = 15
SYLLABLES = [
    "ka",
    "ri",
    "mo",
    "sa",
    "te",
    "lu",
    "na",
    "bo",
    "di",
    "fe",
    "ga",
    "hi",
    "jo",
    "ke",
    "la",
    "me",
    "ni",
    "po",
    "qu",
    "ra",
    "se",
    "ti",
    "vo",
    "wa",
    "ya",
    "zu",
    "ban",
    "dor",
    "kel",
    "mar",
    "sil",
    "tor",
    "ven",
]


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Corpus:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(self.rng)
        self.rng.shuffle(self.words)
        weights = [1 / (rank + 1) for rank in range(len(self.words))]
        self.cumulative = list(self._accumulate(weights))

    @staticmethod
    def _accumulate(weights: list[float]) -> list[float]:
        total, out = 0.0, []
        for w in weights:
            total += w
            out.append(total)
        return out

    def common(self) -> str:
        return self.rng.choices(self.words, cum_weights=self.cumulative)[0]

    def topical(self) -> str:
        return self.words[self.rng.randint(300, len(self.words) - 1)]

    def article(self) -> Document:
        def sentence() -> str:
            return " ".join(self.common() for _ in range(self.rng.randint(8, 25))) + "."

        paragraphs = [
            " ".join(sentence() for _ in range(self.rng.randint(2, 4)))
            for _ in range(self.rng.randint(4, 8))
        ]
        return Document(title=sentence(), body="\n\n".join(paragraphs), language="en")

    def concepts(self, count: int = 50) -> dict[str, str]:
        return {f"c{i}": " OR ".join(self.topical() for _ in range(10)) for i in range(count)}

    def query(self) -> str:
        t = self.topical
        shapes = (
            lambda: f"{t()} AND {t()}",
            lambda: f'"{t()} {self.common()}" AND ({t()} OR {t()[:4]}*)',
            lambda: f"({t()} OR {t()}) NEAR/8 {t()[:5]}*",
            lambda: f"@c{self.rng.randrange(50)} AND {t()} AND NOT {t()}",
            lambda: f"title:({t()} OR {t()}) OR ({t()} SENTENCE {t()})",
            lambda: f"{t()} ONEAR/5 {t()} AND lang:en",
            lambda: f"@c{self.rng.randrange(50)} NEAR/20 ({t()} OR {t()} OR {t()})",
        )
        return self.rng.choice(shapes)()


def per_article(
    engine: RuleEngine, docs: list[Document], naive: bool, repeats: int = 5
) -> tuple[float, float]:
    """Best-of-`repeats` seconds per article (other processes share the machine), matches."""
    run = engine.match_without_presearch if naive else engine.match
    best, matched = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        matched = sum(len(run(doc)) for doc in docs)
        best = min(best, (time.perf_counter() - start) / len(docs))
    return best, matched / len(docs)


def main() -> None:
    corpus = Corpus()
    concepts = corpus.concepts()
    docs = [corpus.article() for _ in range(ARTICLES)]
    all_rules = [Rule(f"r{i}", corpus.query()) for i in range(max(SIZES))]
    print(
        f"Python {sys.version.split()[0]} on {platform.machine()}, {platform.processor() or '?'}"
        f", {ARTICLES} articles of ~{sum(len(d.body.split()) for d in docs) // ARTICLES} words"
    )
    print(
        "| rules | compile (s) | presearch µs/article | baseline µs/article | speed-up |"
        " matches/article |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    base_cost = 0.0
    for size in SIZES:
        ruleset = RuleSet(rules=tuple(all_rules[:size]), concepts=concepts)
        start = time.perf_counter()
        engine = RuleEngine.compile(ruleset)
        compile_s = time.perf_counter() - start
        per_article(engine, docs[:5], naive=False)  # warm the folding cache
        cost, matches = per_article(engine, docs, naive=False)
        naive, _ = per_article(engine, docs[:BASELINE_ARTICLES], naive=True, repeats=2)
        base_cost = base_cost or cost
        print(
            f"| {size:,} | {compile_s:.2f} | {cost * 1e6:,.0f} ({cost / base_cost:.2f}x) | "
            f"{naive * 1e6:,.0f} | {naive / cost:.1f}x | {matches:.2f} |"
        )
    shipped = RuleEngine.compile(load_rules(Path(__file__).resolve().parents[1] / "rules"))
    cost, _ = per_article(shipped, docs, naive=False)
    print(f"\nshipped rules ({len(shipped.rules)}): {cost * 1e6:,.0f} µs/article")


if __name__ == "__main__":
    main()
