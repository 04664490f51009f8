"""Source health: each source's state from its history, and ONE notice per change of state.

A source is `parked` while its URL serves a placeholder page; `failing` when it has failed for
longer than `failing_after` since its last success; `silent` when it has been polled
successfully for longer than max(`silence_factor` x its usual gap, `min_silence`) after its last
new entry. Both durations are measured against the polls themselves, so a daemon that was
stopped for a weekend does not find every source silent when it starts again.

The state last reported lives in `source_health`. A change from healthy to unhealthy queues one
operator notice, back to healthy one recovery notice; a change between unhealthy states only
updates the row (one episode, one notice). The row is changed with a compare-and-set, in the
same transaction as the notice, so two replicas evaluating at once tell the operator once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, insert, select, update

from monitor.config.models import SourceSpec
from monitor.delivery.notices import create_notice
from monitor.health.cadence import Activity, activity, recent_times, usual_gap
from monitor.health.tables import source_health
from monitor.opsconfig import HealthSettings
from monitor.storage.tables import sources

log = logging.getLogger(__name__)
OK, NEW, SILENT, FAILING, PARKED, DISABLED = "ok", "new", "silent", "failing", "parked", "disabled"
HEALTHY = frozenset({OK, NEW})
QUIET = frozenset({DISABLED})  # disabling (HTTP 410) is the pipeline's to report: no notice
STATES = (OK, NEW, SILENT, FAILING, PARKED, DISABLED)


@dataclass(frozen=True)
class Verdict:
    status: str
    detail: str = ""


@dataclass(frozen=True)
class Transition:
    source: str
    before: str
    after: str
    detail: str


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def silence_threshold(gap: timedelta | None, settings: HealthSettings) -> timedelta:
    if gap is None:
        return settings.min_silence
    return max(gap * settings.silence_factor, settings.min_silence)


def assess(
    row: Mapping[str, Any],
    health: Mapping[str, Any] | None,
    seen: Activity,
    gap_of: Callable[[], timedelta | None],
    settings: HealthSettings,
    now: datetime,
) -> Verdict:
    """The health of one source. `row` is its `sources` row, `health` its `source_health` row;
    `gap_of()` returns its usual gap (only asked when it has been quiet for `min_silence`)."""
    tracked = health["tracked_since"] if health else None
    tracked = tracked if isinstance(tracked, datetime) else now
    if row.get("disabled_at"):
        return Verdict(DISABLED, str(row.get("disabled_reason") or "disabled"))
    if health and health.get("placeholder"):
        return Verdict(PARKED, str(health["placeholder"]))
    polled, success = row.get("last_polled_at"), row.get("last_success_at")
    if not isinstance(polled, datetime):
        return Verdict(NEW, "not polled yet")
    if int(row.get("error_count") or 0) > 0:
        start = success if isinstance(success, datetime) else tracked
        if polled - start > settings.failing_after:
            return Verdict(
                FAILING,
                f"failing for {_hours(polled - start)}: {row.get('last_error') or 'error'}",
            )
        return Verdict(OK, "")
    if not isinstance(success, datetime):
        return Verdict(OK, "")
    since = seen.last_entry or tracked
    quiet = success - since
    if quiet > settings.min_silence:
        gap = gap_of()
        threshold = silence_threshold(gap, settings)
        if quiet > threshold:
            usual = f"usually every {_hours(gap)}" if gap else "no usual gap learned yet"
            return Verdict(SILENT, f"no new entry for {_hours(quiet)} ({usual})")
    return Verdict(OK, "")


def _notice(
    conn: Connection,
    change: Transition,
    url: str,
    since: datetime,
    now: datetime,
    channels: Sequence[str],
) -> None:
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"  # no credentials
    if change.after in HEALTHY:
        title = f"source {change.source} recovered"
        body = f"{change.source} ({shown}) is healthy again after being {change.before}."
        key = f"health-ok:{change.source}:{since.isoformat()}"
    else:
        title = f"source {change.source} is {change.after}"
        body = f"{change.source} ({shown}): {change.detail}."
        key = f"health:{change.source}:{since.isoformat()}"
    create_notice(conn, key=key, title=title, body=body, now=now, operator_channels=channels)


def evaluate_health(
    engine: Engine,
    specs: Sequence[SourceSpec],
    settings: HealthSettings,
    operator_channels: Sequence[str],
    now: datetime,
) -> list[Transition]:
    """Assess every enabled source, persist its state and queue notices for changes."""
    names = [s.name for s in specs if s.enabled]
    with engine.connect() as conn:
        rows = {r["name"]: dict(r) for r in conn.execute(select(sources)).mappings()}
        healths = {r["source"]: dict(r) for r in conn.execute(select(source_health)).mappings()}
        seen = activity(conn, now)
    changes: list[Transition] = []
    for name in names:
        row = rows.get(name)
        if row is None:
            continue  # not synced yet: the next poll tick inserts it

        def gap_of(name: str = name) -> timedelta | None:
            with engine.connect() as conn:
                return usual_gap(recent_times(conn, name, settings.history))

        health = healths.get(name)
        verdict = assess(row, health, seen.get(name, Activity()), gap_of, settings, now)
        change = _record(engine, name, str(row["url"]), health, verdict, now, operator_channels)
        if change is not None:
            changes.append(change)
    return changes


def _record(
    engine: Engine,
    name: str,
    url: str,
    health: Mapping[str, Any] | None,
    verdict: Verdict,
    now: datetime,
    channels: Sequence[str],
) -> Transition | None:
    unchanged = health is not None and health["status"] == verdict.status
    if unchanged and health is not None and health["detail"] == verdict.detail:
        return None  # nothing to write: most sources, most of the time
    with engine.begin() as conn:
        if health is None:
            conn.execute(
                insert(source_health).values(
                    source=name, status=OK, since=now, tracked_since=now
                )
            )
            health = {"status": OK, "since": now}
        before = str(health["status"])
        was_healthy, healthy = before in HEALTHY, verdict.status in HEALTHY
        started = health["since"] if isinstance(health["since"], datetime) else now
        since = now if was_healthy != healthy else started
        claimed = conn.execute(
            update(source_health)
            .where(source_health.c.source == name, source_health.c.status == before)
            .values(status=verdict.status, detail=verdict.detail, since=since)
        )
        if claimed.rowcount != 1 or was_healthy == healthy or QUIET & {before, verdict.status}:
            return None  # another replica moved it, or no change worth a notice
        change = Transition(name, before, verdict.status, verdict.detail)
        # the recovery notice is keyed by the episode it closes, the problem by its start
        _notice(conn, change, url, started if healthy else since, now, channels)
        log.warning("source health changed source=%s health=%s error=%s", name,
                    verdict.status, verdict.detail or "-")
        return change
