"""`monitor alerts`: list alerts with their delivery state per channel, replay, re-enable.

The group reads what it needs from `ctx.obj`, which must satisfy :class:`AlertsContext`; the main
CLI provides it. Feed text is printed as plain text (never as Rich markup).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine, delete

from monitor.config.models import parse_duration
from monitor.delivery import queries
from monitor.delivery.settings import DeliverySettings
from monitor.delivery.tables import delivery_channels
from monitor.delivery.worker import DeliveryWorker
from monitor.notify.base import Notifier


class AlertsContext(Protocol):
    """What `monitor alerts` needs from the application."""

    def engine(self) -> Engine: ...

    def notifiers(self) -> Mapping[str, Notifier]: ...

    def clock(self) -> datetime: ...

    def delivery_settings(self) -> DeliverySettings: ...


def _obj(ctx: click.Context) -> AlertsContext:
    obj: AlertsContext = ctx.find_root().obj
    return obj


def _since(now: datetime, value: str | None) -> datetime | None:
    return now - parse_duration(value) if value else None


@click.group("alerts", invoke_without_command=True)
@click.option("--since", default="7d", show_default=True, help="how far back, e.g. 24h, 7d")
@click.option("--state", type=click.Choice(["pending", "sent", "failed", "dead"]),
              help="only alerts with a delivery in this state")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def alerts(ctx: click.Context, since: str, state: str | None, limit: int) -> None:
    """List recent alerts with their delivery state per channel.

    Example: monitor alerts --since 24h --state dead
    """
    if ctx.invoked_subcommand is not None:
        return
    app = _obj(ctx)
    rows = queries.list_alerts(app.engine(), since=_since(app.clock(), since), state=state,
                               limit=limit)
    table = Table("id", "created (UTC)", "rule", "headline", "deliveries")
    for row in rows:
        states = ", ".join(
            f"{d.channel}:{d.state}" + (f"×{d.attempts}" if d.attempts > 1 else "")
            for d in row.deliveries
        )
        table.add_row(str(row.alert_id), f"{row.created_at:%Y-%m-%d %H:%M}", Text(row.rule),
                      Text(row.headline[:80]), Text(states))
    Console(soft_wrap=True).print(table)
    errors = [(row.alert_id, d) for row in rows for d in row.deliveries if d.last_error]
    for alert_id, d in errors:
        click.echo(f"alert {alert_id} {d.channel}: {d.last_error}")


@alerts.command("replay")
@click.argument("alert_ids", nargs=-1, type=int)
@click.option("--since", help="alerts created at most this long ago, e.g. 2d")
@click.option("--until", "until", help="alerts created at least this long ago, e.g. 1h")
@click.option("--channel", help="only deliveries to this channel")
@click.option("--state", "states", multiple=True, default=("failed", "dead"), show_default=True,
              type=click.Choice(["pending", "sent", "failed", "dead"]))
@click.option("--send/--queue-only", default=True, show_default=True,
              help="deliver now, or leave it to the running daemon")
@click.pass_context
def replay(ctx: click.Context, alert_ids: Sequence[int], since: str | None, until: str | None,
           channel: str | None, states: Sequence[str], send: bool) -> None:
    """Send alerts again with their original idempotency keys (receivers can de-duplicate).

    Example: monitor alerts replay 41 42   |   monitor alerts replay --since 2d --channel slack
    """
    if not alert_ids and not since and not until:
        raise click.UsageError("give alert ids, or a time range with --since/--until")
    app = _obj(ctx)
    now = app.clock()
    count = queries.requeue(
        app.engine(), now=now, alert_ids=alert_ids, since=_since(now, since),
        until=_since(now, until), channel=channel, states=states,
    )
    click.echo(f"{count} deliver{'y' if count == 1 else 'ies'} queued again")
    if send and count:
        worker = DeliveryWorker(app.engine(), app.notifiers(), clock=app.clock,
                                owner="monitor-alerts-replay", settings=app.delivery_settings())
        report = worker.deliver_due()
        click.echo(f"sent {report.sent}, retrying {report.retrying}, failed "
                   f"{report.failed + report.dead}")
        for error in report.errors:
            click.echo(f"  {error}")


@alerts.command("enable")
@click.argument("channel")
@click.pass_context
def enable(ctx: click.Context, channel: str) -> None:
    """Re-enable a channel that was disabled after its receiver answered HTTP 410 Gone.

    Example: monitor alerts enable team-webhook
    """
    with _obj(ctx).engine().begin() as conn:
        done = conn.execute(delete(delivery_channels)
                            .where(delivery_channels.c.channel == channel)).rowcount
    click.echo(f"channel {channel} enabled" if done else f"channel {channel} was not disabled")
