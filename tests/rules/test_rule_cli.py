"""The ``rules`` click group driven through a file-reading host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from rules_testkit import REPO, FileHost

from monitor.rules import FLAGSHIP_RULE, Document
from monitor.rules.cli import parse_since, rules_group

EXAMPLES = REPO / "rules" / "examples"
NOW = datetime.now(UTC)


def run(host: FileHost, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(rules_group, list(args), obj=host)
    return result.exit_code, result.output


def test_test_command_shows_verdict_tree_and_passages() -> None:
    code, out = run(
        FileHost(REPO / "rules"),
        "test",
        FLAGSHIP_RULE,
        str(EXAMPLES / "hombori-operation.md"),
        str(EXAMPLES / "ring-cycle-review.md"),
    )
    assert code == 0, out
    assert "MATCH" in out and "no match" in out
    assert "@civilian_harm" in out and "✓" in out and "✗" in out
    assert "[body]" in out


def test_unknown_rule_is_a_usage_error() -> None:
    code, out = run(
        FileHost(REPO / "rules"), "test", "nope", str(EXAMPLES / "ring-cycle-review.md")
    )
    assert code == 2 and "unknown rule 'nope'" in out


def test_backtest_lists_matches_near_misses_and_days() -> None:
    day = NOW - timedelta(days=2)
    archive = [
        Document(
            "Soldiers and Russian mercenaries killed civilians in Gao",
            "Villagers fled.",
            published=day,
            url="https://x/1",
        ),
        Document(
            "Jihadists killed civilians near Djibo",
            "Villagers fled.",
            published=day,
            url="https://x/2",
        ),
        Document(
            "Old news",
            "Wagner Russian mercenaries killed civilians in Mali.",
            published=NOW - timedelta(days=90),
        ),
    ]
    code, out = run(FileHost(REPO / "rules", archive), "backtest", FLAGSHIP_RULE, "--since", "30d")
    assert code == 0, out
    assert "Matches (1)" in out and "Near-misses (1)" in out
    assert day.date().isoformat() in out and "@wagner NEAR/" in out  # the failed clause
    assert "Old news" not in out


def test_check_passes_on_shipped_rules_and_fails_on_a_bad_example(tmp_path: Path) -> None:
    assert run(FileHost(REPO / "rules"), "check")[0] == 0
    (tmp_path / "r.yaml").write_text(
        "rules: [{name: r, query: mali}]\n"
        "examples: [{rule: r, expect: match, title: Niger, text: nothing here}]\n"
    )
    code, out = run(FileHost(tmp_path), "check")
    assert code == 1 and "FAIL" in out and "1 failed" in out


def test_config_errors_are_reported(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("rules: [{name: r, query: 'mali AND'}]\n")
    code, out = run(FileHost(tmp_path), "check")
    assert code == 1 and "AND needs a term" in out and "column 9" in out


def test_score_prints_precision_and_recall() -> None:
    code, out = run(
        FileHost(REPO / "rules"),
        "score",
        str(Path(__file__).parent / "corpus"),
        "--fail-under",
        "0.95",
    )
    assert code == 0, out
    assert "precision 1.000, recall 1.000" in out


@pytest.mark.parametrize("command", ["test", "backtest", "check", "score"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    code, out = run(FileHost(REPO / "rules"), command, "--help")
    assert code == 0 and "Example: monitor rules" in out


def test_parse_since() -> None:
    now = datetime(2025, 1, 31, tzinfo=UTC)
    assert parse_since("30d", now) == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_since("12h", now) == datetime(2025, 1, 30, 12, tzinfo=UTC)
    assert parse_since("2025-01-02", now) == datetime(2025, 1, 2, tzinfo=UTC)
