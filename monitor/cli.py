"""The `monitor` command line: run, check-config, sources, rules, alerts, export, db, healthcheck.

Each command loads the configuration through the same loader the daemon uses. Commands that need
the database or the network build the application lazily through `CliContext.app()`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import click
from sqlalchemy import Engine

from monitor import gctune
from monitor.app import App
from monitor.clitypes import DURATION
from monitor.config.loader import AppConfig, load_config
from monitor.delivery.settings import DeliverySettings
from monitor.errors import ConfigError, MonitorError, unexpected_error_message
from monitor.logs import setup_logging
from monitor.notify.base import Notifier
from monitor.rules import Document, RuleSet

HEARTBEAT_MAX_AGE = timedelta(minutes=3)


class CliContext:
    """Shared state of one command invocation; satisfies the rules and alerts CLI hosts
    (`monitor.rules.cli.RulesHost`, `monitor.delivery.cli.AlertsContext`)."""

    def __init__(self, feeds: Path, rules: Path | None) -> None:
        self.feeds = feeds
        self.rules_dir = rules
        self._config: AppConfig | None = None
        self._app: App | None = None

    def config(self) -> AppConfig:
        if self._config is None:
            self._config = load_config(self.feeds, self.rules_dir)
        return self._config

    def app(self) -> App:
        if self._app is None:
            self._app = App(self.config())
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()

    # RulesHost
    def ruleset(self) -> RuleSet:
        return self.config().ruleset

    def document_from(self, file_or_url: str) -> Document:
        return self.app().document_from(file_or_url)

    def archive(self, since: datetime) -> Iterable[Document]:
        return self.app().archive(since)

    # AlertsContext
    def engine(self) -> Engine:
        return self.app().engine

    def notifiers(self) -> Mapping[str, Notifier]:
        return self.app().notifiers

    def clock(self) -> datetime:
        return self.app().clock()

    def delivery_settings(self) -> DeliverySettings:
        return self.config().settings.delivery


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "feeds",
    type=click.Path(path_type=Path),
    envvar="MONITOR_CONFIG",
    default="feeds.yaml",
    show_default=True,
    help="feeds.yaml to use",
)
@click.option(
    "--rules",
    "rules",
    type=click.Path(path_type=Path),
    envvar="MONITOR_RULES",
    default=None,
    help="rules directory [default: rules/ beside feeds.yaml]",
)
@click.option("--log-level", default="INFO", envvar="MONITOR_LOG_LEVEL", show_default=True)
@click.pass_context
def cli(ctx: click.Context, feeds: Path, rules: Path | None, log_level: str) -> None:
    """news-monitor: watch news sources, collapse copies into stories, alert on rules.

    Example: monitor --config feeds.yaml run --once
    """
    setup_logging(log_level)
    state = CliContext(feeds, rules)
    ctx.obj = state
    ctx.call_on_close(state.close)


@cli.command()
@click.option(
    "--once", is_flag=True, help="run one full cycle, then exit (non-zero if a stage failed)"
)
@click.pass_obj
def run(obj: CliContext, once: bool) -> None:
    """Run the monitor: poll, extract, match and deliver until SIGTERM.

    Example: monitor run          (daemon)   ·   monitor run --once   (one cycle, for cron or CI)
    """
    app = obj.app()
    gctune.tune()
    if once:
        report = app.run_cycle()
        for outcome in report.sources:
            status = outcome.error or ("not modified" if outcome.not_modified else "ok")
            click.echo(
                f"source {outcome.source}: {outcome.new_articles} new, "
                f"{outcome.alerts} alerts, {status}",
                err=True,
            )
        d = report.delivery
        click.echo(f"delivery: {d.sent} sent, {d.retrying} retrying, {d.failed} failed", err=True)
        sys.exit(1 if report.failed else 0)
    from monitor.daemon import run_daemon

    run_daemon(app)


@cli.command("check-config")
@click.pass_obj
def check_config(obj: CliContext) -> None:
    """Validate feeds.yaml and rules/ without starting anything; lists every problem.

    Example: monitor --config feeds.yaml check-config
    """
    config = obj.config()
    click.echo(
        f"{obj.feeds}: OK: {len(config.sources)} sources, {len(config.channels)} channels, "
        f"{len(config.ruleset.rules)} rules"
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print a JSON array (for scripts)")
@click.pass_obj
def sources(obj: CliContext, as_json: bool) -> None:
    """Show each source: kind, health, last new entry, entries per day, errors, next poll, lease.

    Example: monitor sources   ·   monitor sources --json | jq '.[] | select(.health != "ok")'
    """
    from monitor.health.listing import show_sources  # listing owned by monitor.health

    app = obj.app()
    settings = app.config.settings
    show_sources(app.engine, app.config.sources, settings.health, app.clock(), as_json=as_json)


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
@click.option(
    "--since",
    type=DURATION,
    default=None,
    help="only articles fetched within this duration, e.g. 7d",
)
@click.pass_obj
def export(obj: CliContext, fmt: str, output: TextIO, since: timedelta | None) -> None:
    """Export stored articles with their story, copies and rule matches.

    Example: monitor export --format csv -o articles.csv --since 30d
    """
    from monitor.export import write_csv, write_jsonl
    from monitor.storage.articles_repo import iter_articles

    start = datetime.now(UTC) - since if since else None
    with obj.app().engine.connect() as conn:
        rows = iter_articles(conn, start)
        count = (write_csv if fmt == "csv" else write_jsonl)(rows, output)
    click.echo(f"exported {count} articles", err=True)


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: CliContext) -> None:
    """Apply schema migrations (also done at every start).

    Example: DATABASE_URL=postgresql://postgres@127.0.0.1/monitor monitor db upgrade
    """
    from monitor.storage.db import open_database

    engine = open_database(obj.config().database_url)
    engine.dispose()
    click.echo("database schema is up to date")


@cli.command()
@click.pass_obj
def healthcheck(obj: CliContext) -> None:
    """Exit 0 if the daemon's heartbeat is fresh and the database answers (for HEALTHCHECK).

    Example: monitor healthcheck
    """
    from monitor.daemon import check_health  # P1: heartbeat, stall and database checks

    click.echo(check_health(obj.config()))


def _register_groups() -> None:
    from monitor.delivery.cli import alerts as alerts_group
    from monitor.rules.cli import rules_group
    from monitor.sources_cli import sources_group

    cli.add_command(rules_group)
    cli.add_command(alerts_group)
    cli.add_command(sources_group(sources))  # adds `sources add|import|export` to the listing


def main() -> None:
    """Console entry point: errors become one clear message and a non-zero exit."""
    try:
        _register_groups()
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the one place where any error becomes one line, never a traceback
        logging.getLogger("monitor").debug("command failed", exc_info=exc)
        click.echo(f"error: {unexpected_error_message(exc)}", err=True)
        sys.exit(1)
