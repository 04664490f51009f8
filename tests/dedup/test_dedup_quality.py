"""The labelled corpus in tests/fixtures/dedup_corpus meets the quality bar of product.md §5."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.corpus import load_corpus
from monitor.dedup.quality import evaluate, main, pair_score

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "dedup_corpus"


@pytest.fixture(scope="module")
def evaluation():  # type: ignore[no-untyped-def]
    return evaluate(load_corpus(CORPUS))


def test_corpus_is_big_enough() -> None:
    corpus = load_corpus(CORPUS)
    originals = [a for a in corpus if a.path and a.path.parent.name == "originals"]
    copies = [a for a in corpus if "copy_of" in a.labels]
    assert len(originals) >= 15
    per_original = {o.id: sum(c.labels["copy_of"] == o.id for c in copies) for o in originals}
    assert all(3 <= n <= 6 for n in per_original.values()), per_original
    assert any(a.lang == "fr" for a in corpus)


def test_copies_meet_the_bar(evaluation) -> None:  # type: ignore[no-untyped-def]
    assert evaluation.copies.precision >= 0.99
    assert evaluation.copies.recall >= 0.95, evaluation.missed_copies


def test_no_two_distinct_incidents_are_merged(evaluation) -> None:  # type: ignore[no-untyped-def]
    assert evaluation.merged_incidents == []
    assert evaluation.stories.precision == 1.0


def test_same_week_hard_negatives_stay_apart(evaluation) -> None:  # type: ignore[no-untyped-def]
    story = {k: v.story_id for k, v in evaluation.decisions.items()}
    assert story["wire-sanakoro"] != story["wire-tiema"]
    assert story["wire-kenieba-mine"] != story["wire-kangaba-mine"]
    assert story["wire-maiduguri-floods"] != story["wire-niamey-floods"]
    assert story["wire-hrw-drones"] != story["wire-niger-drone"]


def test_independent_write_ups_join_their_story(evaluation) -> None:  # type: ignore[no-untyped-def]
    story = {k: v.story_id for k, v in evaluation.decisions.items()}
    assert story["rw-sanakoro-agency"] == story["wire-sanakoro"]
    assert story["rw-drones-agency"] == story["wire-hrw-drones"]
    assert story["rw-floods-outlet"] == story["wire-maiduguri-floods"]


def test_pair_score_counts_pairs() -> None:
    score = pair_score(["a", "a", "b"], [1, 1, 1])
    assert (score.true_pairs, score.predicted_pairs, score.correct_pairs) == (1, 3, 1)


def test_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(CORPUS)]) == 0
    out = capsys.readouterr().out
    assert "copies" in out and "stories" in out and "precision" in out
