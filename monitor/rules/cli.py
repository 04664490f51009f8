"""The ``monitor rules`` command group: test, backtest, check and score rules.

Commands get what they need from the click context object, which must satisfy
:class:`RulesHost` (the application's composition root implements it; tests use a host that
reads files). Output goes through rich; article text is never interpreted as markup.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from monitor.errors import ConfigError, UnknownRuleError
from monitor.rules import FLAGSHIP_RULE
from monitor.rules.document import Document
from monitor.rules.engine import RuleEngine
from monitor.rules.examples import check_examples
from monitor.rules.explain import Explanation
from monitor.rules.model import RuleSet
from monitor.rules.quality import measure_directory
from monitor.rules.render import clause_tree, explanation_view

_DURATION_RE = re.compile(r"(\d+)\s*([mhdw])\Z")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class RulesHost(Protocol):
    """What the rules commands need from the application."""

    def ruleset(self) -> RuleSet: ...

    def document_from(self, file_or_url: str) -> Document: ...

    def archive(self, since: datetime) -> Iterable[Document]: ...


def _engine(host: RulesHost) -> tuple[RuleSet, RuleEngine]:
    try:
        ruleset = host.ruleset()
        return ruleset, RuleEngine.compile(ruleset)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _check_rule(engine: RuleEngine, name: str) -> None:
    if name not in {rule.name for rule in engine.rules}:
        raise click.BadParameter(
            str(UnknownRuleError(name, [r.name for r in engine.rules])), param_hint="RULE"
        )


@click.group(name="rules")
def rules_group() -> None:
    """Test, backtest and check analyst rules (the rules/ directory)."""


@rules_group.command(name="test")
@click.argument("rule")
@click.argument("sources", nargs=-1, required=True, metavar="FILE_OR_URL...")
@click.pass_obj
def test_command(host: RulesHost, rule: str, sources: tuple[str, ...]) -> None:
    """Show whether RULE matches each article, and why.

    Prints, per article, MATCH or no match, the clause tree with each clause's truth value and
    the matched passages highlighted.

    Example: monitor rules test wagner-sahel-civilian-harm article.txt https://example.org/news/1
    """
    _, engine = _engine(host)
    _check_rule(engine, rule)
    console = Console(highlight=False)
    for source in sources:
        document = host.document_from(source)
        console.rule(Text(document.title or source))
        console.print(Text(source, style="dim"))
        console.print(explanation_view(engine.explain(rule, document)))


def parse_since(value: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``2w``, ``90m`` before `now`, or an ISO date/time."""
    found = _DURATION_RE.match(value.strip())
    if found:
        return now - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r}: use a duration like 30d, 12h, 2w or an ISO date", param_hint="--since"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def near_miss(explanation: Explanation) -> str | None:
    """The one failing top-level clause when all the others hold, else None."""
    if explanation.matched or explanation.filtered:
        return None
    tops = explanation.top_clauses()
    failing = [c for c in tops if not c.value]
    return failing[0].source if len(tops) >= 2 and len(failing) == 1 else None


@rules_group.command(name="backtest")
@click.argument("rule")
@click.option(
    "--since",
    "since_text",
    default="30d",
    show_default=True,
    help="How far back: 30d, 12h, 2w, or an ISO date.",
)
@click.pass_obj
def backtest_command(host: RulesHost, rule: str, since_text: str) -> None:
    """Run RULE over the stored archive: matches, near-misses and counts per day.

    A near-miss satisfies every top-level AND clause but one; the failing clause is shown.

    Example: monitor rules backtest wagner-sahel-civilian-harm --since 30d
    """
    _, engine = _engine(host)
    _check_rule(engine, rule)
    since = parse_since(since_text, datetime.now(UTC))
    console = Console(highlight=False)
    matches: list[Document] = []
    misses: list[tuple[Document, str]] = []
    per_day: Counter[tuple[str, str]] = Counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("backtesting", total=None)
        for document in host.archive(since):
            explanation = engine.explain(rule, document)
            day = document.published.date().isoformat() if document.published else "undated"
            if explanation.matched:
                matches.append(document)
                per_day[(day, "match")] += 1
            elif (failing := near_miss(explanation)) is not None:
                misses.append((document, failing))
                per_day[(day, "near")] += 1
            progress.advance(task)
    console.print(_per_day_table(per_day))
    console.print(_documents_table(f"Matches ({len(matches)})", [(d, "") for d in matches]))
    console.print(_documents_table(f"Near-misses ({len(misses)})", misses))


def _per_day_table(per_day: Counter[tuple[str, str]]) -> Table:
    table = Table(title="Per day")
    for column in ("day", "matches", "near-misses"):
        table.add_column(column)
    for day in sorted({d for d, _ in per_day}):
        table.add_row(day, str(per_day[(day, "match")]), str(per_day[(day, "near")]))
    return table


def _documents_table(title: str, rows: list[tuple[Document, str]]) -> Table:
    table = Table(title=title)
    for column in ("published", "title", "url", "failing clause"):
        table.add_column(column, overflow="fold")
    for document, failing in rows:
        published = document.published.isoformat() if document.published else ""
        table.add_row(published, Text(document.title), Text(document.url), Text(failing))
    return table


@rules_group.command(name="check")
@click.pass_obj
def check_command(host: RulesHost) -> None:
    """Run every example article of every rule file; exit 1 if one fails.

    Example: monitor rules check
    """
    ruleset, engine = _engine(host)
    outcomes = check_examples(ruleset, engine)
    console = Console(highlight=False)
    failed = [o for o in outcomes if not o.passed]
    for outcome in failed:
        console.print(Text("FAIL ", style="bold red") + Text(outcome.describe()))
        console.print(clause_tree(outcome.explanation.root))
    console.print(f"{len(outcomes)} examples, {len(failed)} failed")
    if failed:
        raise SystemExit(1)


@rules_group.command(name="score")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--rule", default=FLAGSHIP_RULE, show_default=True, help="Rule to score.")
@click.option(
    "--label",
    default="flagship",
    show_default=True,
    help="Front-matter label holding the expected outcome.",
)
@click.option(
    "--fail-under",
    type=float,
    default=None,
    help="Exit 1 if precision or recall is below this value.",
)
@click.pass_obj
def score_command(
    host: RulesHost, corpus: Path, rule: str, label: str, fail_under: float | None
) -> None:
    """Print a rule's precision and recall on a labelled corpus directory.

    Example: monitor rules score tests/fixtures/rules_corpus --fail-under 0.95
    """
    _, engine = _engine(host)
    _check_rule(engine, rule)
    report = measure_directory(engine, rule, corpus, label)
    click.echo(report.describe())
    if fail_under is not None and min(report.precision, report.recall) < fail_under:
        raise SystemExit(1)
