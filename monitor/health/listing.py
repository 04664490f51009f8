"""What `monitor sources` shows: per source its kind, health, activity, errors and schedule.

Health here is assessed live from the database (the same `assess` the daemon uses), so the
listing is truthful whether or not a daemon is running. Rows render as a table or as JSON
(`--json`, one array of objects with stable keys) for scripts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from monitor.config.models import SourceSpec
from monitor.health.cadence import Activity
from monitor.health.evaluate import assess, snapshot
from monitor.opsconfig import HealthSettings
from monitor.storage.db import READ_ONLY


@dataclass(frozen=True)
class SourceRow:
    name: str
    kind: str
    health: str
    detail: str
    last_new_entry: datetime | None
    entries_per_day: float
    last_success: datetime | None
    errors: int
    last_error: str | None
    next_poll: datetime | None
    leased_by: str | None


def source_rows(
    engine: Engine, specs: Sequence[SourceSpec], settings: HealthSettings, now: datetime
) -> list[SourceRow]:
    """One row per configured source that has a database row, in name order."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        snap = snapshot(conn, [s.name for s in specs], settings, now)
    out = []
    for spec in sorted(specs, key=lambda s: s.name):
        row = snap.rows.get(spec.name)
        if row is None:
            continue
        mine = snap.seen.get(spec.name, Activity())
        verdict = assess(
            row, snap.healths.get(spec.name), mine, snap.gaps.get(spec.name), settings, now
        )
        lease_until = row.get("lease_until")
        live = isinstance(lease_until, datetime) and lease_until >= now
        out.append(
            SourceRow(
                name=spec.name,
                kind=str(getattr(spec, "kind", "feed")),
                health=verdict.status if spec.enabled else "off",
                detail=verdict.detail,
                last_new_entry=mine.last_entry,
                entries_per_day=round(mine.per_day, 2),
                last_success=row["last_success_at"],
                errors=int(row["error_count"] or 0),
                last_error=row["last_error"],
                next_poll=row["next_poll_at"],
                leased_by=row["lease_owner"] if live else None,
            )
        )
    return out


def _when(moment: datetime | None, never: str = "never") -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else never


def print_table(rows: Sequence[SourceRow], console: Console) -> None:
    """The table for people; `--json` has every field (last success included)."""
    table = Table(
        "source", "kind", "health", "last new entry", "per day", "errors", "next poll", "leased by"
    )
    for r in rows:
        unwell = r.health not in ("ok", "new", "off")
        errors = f"{r.errors}: {(r.last_error or '')[:80]}" if r.errors else "0"
        table.add_row(
            r.name, r.kind, f"{r.health}: {r.detail}" if unwell and r.detail else r.health,
            _when(r.last_new_entry), f"{r.entries_per_day:g}", errors,
            _when(r.next_poll, "now"), r.leased_by or "",
        )
    console.print(table)


def rows_json(rows: Sequence[SourceRow]) -> str:
    def plain(row: SourceRow) -> dict[str, object]:
        return {
            k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(row).items()
        }

    return json.dumps([plain(r) for r in rows], indent=2, ensure_ascii=False)


def show_sources(
    engine: Engine, specs: Sequence[SourceSpec], settings: HealthSettings, now: datetime,
    *, as_json: bool, console: Console | None = None,
) -> None:
    """`monitor sources`: sync the configured sources into the database, then list them."""
    from monitor.storage import sources_repo

    with engine.begin() as conn:
        sources_repo.sync_sources(conn, specs)
    rows = source_rows(engine, specs, settings, now)
    if as_json:
        sys.stdout.write(rows_json(rows) + "\n")
    else:
        print_table(rows, console or Console())
