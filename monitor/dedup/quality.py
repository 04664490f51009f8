"""Measure deduplication on a labelled corpus: pairwise precision and recall for copies and stories.

``python -m monitor.dedup.quality tests/fixtures/dedup_corpus`` replays the corpus in publication
order through a real :class:`DedupIndex` on an in-memory SQLite database and compares its
decisions with the labels: ``copy_of`` (the original a copy was made from) and ``story`` (the
event). Two articles are a true copy pair when they share a copy root; a true story pair when they
share a story label. Story pairs that join two different labels are listed: each one is an
incident the product would have hidden. ``--orders N`` replays the corpus in N shuffled arrival
orders as well and reports how many distinct copy and story partitions they gave (1 when the
outcome does not depend on arrival order), and how many alerts a rule matching every article
would give in each order (one per story at the article's arrival, as the outbox decides).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import combinations
from pathlib import Path

import sqlalchemy as sa

from monitor.corpus import CorpusArticle, load_corpus
from monitor.dedup.index import DedupIndex
from monitor.dedup.model import DedupInput, DedupResult
from monitor.dedup.prepare import Fingerprints, prepare_fingerprints
from monitor.dedup.tables import DEDUP_TABLES
from monitor.storage.tables import articles, metadata


@dataclass(frozen=True)
class PairScore:
    """Pairwise precision and recall of a predicted grouping against the labelled one."""

    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


@dataclass(frozen=True)
class Evaluation:
    """The scores of one corpus run, with the decisions that produced them."""

    copies: PairScore
    stories: PairScore
    merged_incidents: list[tuple[str, str]]  # (story label, story label) wrongly joined
    missed_copies: list[tuple[str, str]]  # (article id, article id) copies not found
    decisions: dict[str, DedupResult]  # final: earlier decisions updated by later regroupings
    # The articles that would alert for a rule matching every article: the first of each story
    # at its arrival (an alert under a story joined since counts, as in the pipeline's outbox).
    alerts: list[str] = field(default_factory=list)

    def partitions(self) -> tuple[frozenset[frozenset[str]], frozenset[frozenset[str]]]:
        """The copy groups and the stories, as sets of article ids (independent of ids given)."""
        copies: dict[object, set[str]] = {}
        stories: dict[int, set[str]] = {}
        for article_id, decision in self.decisions.items():
            root = decision.copy_of if decision.copy_of is not None else article_id
            copies.setdefault(root, set()).add(article_id)
            stories.setdefault(decision.story_id, set()).add(article_id)
        return (
            frozenset(frozenset(g) for g in copies.values()),
            frozenset(frozenset(g) for g in stories.values()),
        )


def pair_score(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> PairScore:
    """Compare two groupings of the same items given as one group key per item."""
    true_pairs = predicted_pairs = correct = 0
    for i, j in combinations(range(len(truth)), 2):
        same_truth = truth[i] == truth[j]
        same_predicted = predicted[i] == predicted[j]
        true_pairs += same_truth
        predicted_pairs += same_predicted
        correct += same_truth and same_predicted
    return PairScore(true_pairs, predicted_pairs, correct)


def evaluate(
    corpus: Sequence[CorpusArticle],
    index: DedupIndex | None = None,
    *,
    seed: int | None = None,
    prepared: Mapping[str, Fingerprints] | None = None,
) -> Evaluation:
    """Replay `corpus` through a fresh in-memory index and score it: in publication order, or in
    the random arrival order drawn from `seed`. `prepared` may hold the articles' fingerprints
    (by article id), computed once for many replays."""
    index = index or DedupIndex(window=timedelta(days=30))
    ordered = sorted(corpus, key=lambda a: (a.published is None, a.published, a.id))
    shuffler = random.Random(seed)  # noqa: S311 - a reproducible test order, not a secret
    arrival = list(ordered) if seed is None else shuffler.sample(ordered, len(ordered))
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine, tables=[articles, *DEDUP_TABLES])
    decisions: dict[str, DedupResult] = {}
    ids = {article.id: number for number, article in enumerate(arrival, start=1)}
    by_number = {number: article_id for article_id, number in ids.items()}
    joined_into: dict[int, int] = {}  # story -> the story it was joined into
    alerted: set[int] = set()
    alerts: list[str] = []

    def current(story_id: int) -> int:
        while story_id in joined_into:
            story_id = joined_into[story_id]
        return story_id

    with engine.begin() as conn:
        for article in arrival:
            if article.published is None:
                raise ValueError(f"{article.id}: a corpus article needs 'published'")
            decision = decisions[article.id] = index.classify(
                conn,
                DedupInput(
                    article_id=ids[article.id],
                    title=article.title,
                    text=article.body,
                    language=article.lang,
                    published=article.published,
                    fetched=article.published,
                    source=article.source,
                    fingerprints=(prepared or {}).get(article.id),
                ),
            )
            for change in decision.regrouped:
                earlier = by_number[change.article_id]
                was, now = current(decisions[earlier].story_id), current(change.story_id)
                if was != now:
                    joined_into[was] = now
                decisions[earlier] = DedupResult(
                    change.copy_of, change.story_id, decisions[earlier].reason
                )
            story_now = current(decision.story_id)
            if not any(current(s) == story_now for s in alerted):
                alerted.add(decision.story_id)
                alerts.append(article.id)
    engine.dispose()
    root = {a.id: str(a.labels.get("copy_of") or a.id) for a in ordered}
    predicted_root = {a.id: decisions[a.id].copy_of or ids[a.id] for a in ordered}
    story = {a.id: str(a.labels.get("story", a.id)) for a in ordered}
    keys = [a.id for a in ordered]
    merged = sorted(
        {
            (story[a], story[b])
            for a, b in combinations(keys, 2)
            if story[a] != story[b] and decisions[a].story_id == decisions[b].story_id
        }
    )
    missed = [
        (a, b)
        for a, b in combinations(keys, 2)
        if root[a] == root[b] and predicted_root[a] != predicted_root[b]
    ]
    return Evaluation(
        copies=pair_score([root[k] for k in keys], [predicted_root[k] for k in keys]),
        stories=pair_score([story[k] for k in keys], [decisions[k].story_id for k in keys]),
        merged_incidents=merged,
        missed_copies=missed,
        decisions=decisions,
        alerts=alerts,
    )


def prepare_all(corpus: Sequence[CorpusArticle]) -> dict[str, Fingerprints]:
    """The fingerprints of every article, for replaying a corpus many times."""
    return {a.id: prepare_fingerprints(a.title, a.body) for a in corpus}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitor.dedup.quality",
        description="Score copy and story detection on a labelled corpus directory.",
        epilog="example: python -m monitor.dedup.quality tests/fixtures/dedup_corpus",
    )
    parser.add_argument("corpus", type=Path, help="directory of labelled *.md articles")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every decision")
    parser.add_argument(
        "--orders", type=int, default=0, help="also replay N shuffled arrival orders"
    )
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus)
    result = evaluate(corpus)
    if args.verbose:
        for article_id, decision in result.decisions.items():
            print(
                f"{article_id:40} copy_of={decision.copy_of!s:5} story={decision.story_id:<4}"
                f" {decision.reason}"
            )
    print(f"articles: {len(corpus)}")
    print(f"{'level':8} {'precision':>9} {'recall':>7} {'true pairs':>10} {'predicted':>9}")
    for name, score in (("copies", result.copies), ("stories", result.stories)):
        print(
            f"{name:8} {score.precision:9.3f} {score.recall:7.3f}"
            f" {score.true_pairs:10d} {score.predicted_pairs:9d}"
        )
    for a, b in result.merged_incidents:
        print(f"MERGED distinct incidents: {a} + {b}")
    for a, b in result.missed_copies:
        print(f"missed copy pair: {a} / {b}")
    merged = bool(result.merged_incidents)
    if args.orders:
        prints = prepare_all(corpus)
        runs = [evaluate(corpus, seed=seed, prepared=prints) for seed in range(1, args.orders + 1)]
        partitions = {run.partitions() for run in [result, *runs]}
        alert_counts = [len(run.alerts) for run in [result, *runs]]
        worst = [
            min(values)
            for values in zip(
                *(
                    (
                        run.copies.precision,
                        run.copies.recall,
                        run.stories.precision,
                        run.stories.recall,
                    )
                    for run in runs
                ),
                strict=True,
            )
        ]
        merged = merged or any(run.merged_incidents for run in runs)
        print(
            f"shuffled arrival orders: {args.orders}; distinct copy partitions:"
            f" {len({p[0] for p in partitions})}, distinct story partitions:"
            f" {len({p[1] for p in partitions})}; lowest copies P/R {worst[0]:.3f}/{worst[1]:.3f}"
            f" stories P/R {worst[2]:.3f}/{worst[3]:.3f}; alerts (a rule matching every"
            f" article) {min(alert_counts)}-{max(alert_counts)}"
        )
    return 1 if merged else 0


if __name__ == "__main__":
    sys.exit(main())
