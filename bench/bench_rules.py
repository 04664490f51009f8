"""Rule-matching cost per article with 10 to 10,000 rules, against evaluating every rule.

Not a test: run ``.venv/bin/python bench/bench_rules.py`` and copy the table into
docs/benchmarks.md. ``bench/bench_rules.py hostile`` measures hostile articles instead (dense
repetitions of a matching sentence, a megabyte of text under the widest allowed ``NEAR``), each
case in its own subprocess so that its peak memory (``ru_maxrss``) is its own. Rules and articles are generated from one synthetic Zipf-distributed
vocabulary (30,000 pseudo-words plus the shipped concepts' words), so that, as with real analyst
rules, each rule uses a few topical words and a typical article touches only a few rules. Rule
shapes mix words, phrases, prefixes, NEAR/ONEAR, SENTENCE, field scopes, NOT and shared concepts.
"""

from __future__ import annotations

import platform
import random
import resource
import subprocess
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
    """Best-of-`repeats` CPU seconds per article (other processes share the machine), matches."""
    run = engine.match_without_presearch if naive else engine.match
    best, matched = float("inf"), 0
    for _ in range(repeats):
        start = time.process_time()
        matched = sum(len(run(doc)) for doc in docs)
        best = min(best, (time.process_time() - start) / len(docs))
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
        "| rules | compile (CPU s) | presearch CPU µs/article | baseline CPU µs/article |"
        " speed-up | matches/article |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    base_cost = 0.0
    for size in SIZES:
        ruleset = RuleSet(rules=tuple(all_rules[:size]), concepts=concepts)
        start = time.process_time()
        engine = RuleEngine.compile(ruleset)
        compile_s = time.process_time() - start
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


DENSE_SENTENCE = "Russian mercenaries killed civilians near Moura in central Mali, they say. "
ROOT = Path(__file__).resolve().parents[1]
HOSTILE_CASES = {
    # name: (description, text builder arguments)
    "dense-66k": "66 KB: 880 repetitions of a sentence matching the shipped rules",
    "dense-198k": "198 KB: 2,640 repetitions of the same sentence",
    "near-1m": "1 MB of 3-4 letter words, `aaa* NEAR/1000 bbb*` (widest allowed), defaults",
    "near-1m-uncapped": "the same with max_words and max_term_occurrences raised to 10M / 1M",
    "sentence-1m-uncapped": "1 MB, one sentence, `aaa* SENTENCE bbb*`, limits raised",
    "dense-1m-uncapped": "1 MB of the flagship sentence (13,300 repetitions), limits raised",
}


def hostile_document(case: str) -> Document:
    if case.startswith("dense"):
        size = {"dense-66k": 66_000, "dense-198k": 198_000}.get(case, 1_000_000)
        body = DENSE_SENTENCE * (size // len(DENSE_SENTENCE))
        return Document(title="Report", body=body, language="en")
    rng = random.Random(7)
    separator = " " if case.startswith("sentence") else ". "
    words = ("aaa", "aaab", "bbb", "bbbc", "ccc", "ddd")
    count = 1_000_000 // (len(separator) + 3.5)
    body = separator.join(rng.choices(words, k=int(count)))
    return Document(title="Report", body=body[:1_000_000], language="en")


def hostile_engine(case: str) -> RuleEngine:
    from monitor.rules.settings import RuleSettings  # here: main() also runs on older engines

    uncapped = RuleSettings(max_words=10_000_000, max_term_occurrences=1_000_000)
    settings = uncapped if case.endswith("uncapped") else None
    if case.startswith("dense"):
        return RuleEngine.compile(load_rules(ROOT / "rules", settings), settings)
    query = "aaa* SENTENCE bbb*" if case.startswith("sentence") else "aaa* NEAR/1000 bbb*"
    return RuleEngine.compile(RuleSet(rules=(Rule("hostile", query),)), settings)


def run_hostile_case(case: str) -> None:
    """In a child process: match one hostile article, print seconds, peak MB, verdict, notes."""
    doc, engine = hostile_document(case), hostile_engine(case)
    start = time.perf_counter()
    matches = engine.match(doc)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    notes = len(matches[0].explanation.notes) if matches else 0
    json_kb = sum(len(str(m.to_json())) for m in matches) / 1000
    print(
        f"{seconds:.2f} {peak_mb:.0f} {len(doc.body) // 1000} {len(matches)} {notes} {json_kb:.0f}"
    )


def hostile() -> None:
    print(f"Python {sys.version.split()[0]} on {platform.machine()}; one subprocess per case")
    print("| case | text | match (s) | peak RSS (MB) | matched | notes | match JSON (KB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for case, description in HOSTILE_CASES.items():
        out = subprocess.run(
            [sys.executable, __file__, "hostile-case", case],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout.split()
        seconds, peak, size, matched, notes, json_kb = out
        print(
            f"| {case}: {description} | {size} KB | {seconds} | {peak} | {matched} | {notes} "
            f"| {json_kb} |"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["hostile"]:
        hostile()
    elif sys.argv[1:2] == ["hostile-case"]:
        run_hostile_case(sys.argv[2])
    else:
        main()
