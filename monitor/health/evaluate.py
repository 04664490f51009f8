"""Source health: each source's state from its history, and ONE notice per change of state.

A source is `parked` while its URL serves a placeholder page; `failing` when it has failed for
longer than `failing_after` since its last success; `silent` when it has been polled
successfully for longer than max(`silence_factor` x its usual gap, `min_silence`) after its last
new entry. Both durations are measured against the polls themselves, so a daemon that was
stopped for a weekend does not find every source silent when it starts again.

The state last reported lives in `source_health`. A change from healthy to unhealthy queues one
operator notice, back to healthy one recovery notice; a change between unhealthy states only
updates the row (one episode, one notice). Rows change with a compare-and-set, in the same
transaction as the notices, so two replicas evaluating at once tell the operator once. When more
than `STORM` sources change the same way in one evaluation (the network is down, not 500
sites), they share one notice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from monitor.config.models import SourceSpec
from monitor.delivery.notices import create_notice
from monitor.health.cadence import Activity, activity, usual_gaps
from monitor.health.tables import source_health
from monitor.logs import scrub_urls
from monitor.opsconfig import HealthSettings
from monitor.storage.db import READ_ONLY
from monitor.storage.tables import sources

log = logging.getLogger(__name__)
OK, NEW, SILENT, FAILING, PARKED, DISABLED = "ok", "new", "silent", "failing", "parked", "disabled"
STATES = (OK, NEW, SILENT, FAILING, PARKED, DISABLED)
HEALTHY = frozenset({OK, NEW})
QUIET = frozenset({DISABLED})  # disabling (HTTP 410) is the pipeline's to report: no notice
STORM = 5
LISTED = 50


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
    url: str = ""
    episode: datetime | None = None  # when the unhealthy episode began (keys the notices)


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def silence_threshold(gap: timedelta | None, settings: HealthSettings) -> timedelta:
    if gap is None:
        return settings.min_silence
    return max(gap * settings.silence_factor, settings.min_silence)


def quiet_for(row: Mapping[str, Any], seen: Activity) -> timedelta | None:
    """How long the source has been polled successfully with nothing new (None: no evidence)."""
    success = row.get("last_success_at")
    if not isinstance(success, datetime) or seen.last_entry is None:
        return None
    return success - seen.last_entry


def assess(
    row: Mapping[str, Any],
    health: Mapping[str, Any] | None,
    seen: Activity,
    gap: timedelta | None,
    settings: HealthSettings,
    now: datetime,
) -> Verdict:
    """The health of one source from its `sources` row, its `source_health` row, its activity
    and its usual gap (None when not learned)."""
    tracked = health.get("tracked_since") if health else None
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
            error = row.get("last_error") or "error"
            return Verdict(FAILING, f"failing for {_hours(polled - start)}: {error}")
        return Verdict(OK, "")
    if not isinstance(success, datetime):
        return Verdict(OK, "")
    quiet = quiet_for(row, seen)
    if quiet is None:
        quiet = success - tracked  # nothing ever arrived: count from when we started watching
    if quiet > silence_threshold(gap, settings):
        usual = f"usually every {_hours(gap)}" if gap else "no usual gap learned yet"
        return Verdict(SILENT, f"no new entry for {_hours(quiet)} ({usual})")
    return Verdict(OK, "")


@dataclass(frozen=True)
class Snapshot:
    """Everything assessment reads, in a handful of queries."""

    rows: dict[str, dict[str, Any]]
    healths: dict[str, dict[str, Any]]
    seen: dict[str, Activity]
    gaps: dict[str, timedelta]


def snapshot(conn: Connection, names: Sequence[str], settings: HealthSettings,
             now: datetime) -> Snapshot:
    rows = {r["name"]: dict(r) for r in conn.execute(select(sources)).mappings()}
    healths = {r["source"]: dict(r) for r in conn.execute(select(source_health)).mappings()}
    seen = activity(conn, now)
    quiet = [  # the usual gap matters only to sources quiet for longer than min_silence
        n for n in names
        if n in rows and (q := quiet_for(rows[n], seen.get(n, Activity()))) is not None
        and q > settings.min_silence
    ]
    return Snapshot(rows, healths, seen, usual_gaps(conn, quiet, settings.history))


def evaluate_health(
    engine: Engine,
    specs: Sequence[SourceSpec],
    settings: HealthSettings,
    operator_channels: Sequence[str],
    now: datetime,
) -> list[Transition]:
    """Assess every enabled source, persist its state and queue notices for changes."""
    names = [s.name for s in specs if s.enabled]
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        snap = snapshot(conn, names, settings, now)
    verdicts = {}
    for name in names:
        if name not in snap.rows:
            continue  # not synced yet: the next poll tick inserts it
        health = snap.healths.get(name)
        verdict = assess(snap.rows[name], health, snap.seen.get(name, Activity()),
                         snap.gaps.get(name), settings, now)
        if health is None or (health["status"], health["detail"]) != (verdict.status,
                                                                        verdict.detail):
            verdicts[name] = verdict  # most sources, most of the time, change nothing
    if not verdicts:
        return []
    _insert_missing(engine, [n for n in verdicts if n not in snap.healths], now)
    with engine.begin() as conn:
        changes = []
        for name, verdict in verdicts.items():
            health = snap.healths.get(name) or {"status": OK, "since": now}
            change = _record(conn, name, str(snap.rows[name]["url"]), health, verdict, now)
            if change is not None:
                changes.append(change)
        _tell(conn, changes, now, operator_channels)
    return changes


def _insert_missing(engine: Engine, names: Sequence[str], now: datetime) -> None:
    """Rows for sources assessed for the first time (status ok, as if healthy until now)."""
    if not names:
        return
    rows = [{"source": n, "status": OK, "since": now, "tracked_since": now} for n in names]
    try:
        with engine.begin() as conn:
            conn.execute(insert(source_health), rows)
        return
    except IntegrityError:
        pass  # some were inserted meanwhile (by the pipeline or a replica): one by one
    with engine.begin() as conn:
        for row in rows:
            try:
                with conn.begin_nested():
                    conn.execute(insert(source_health).values(**row))
            except IntegrityError:
                pass


_MOVE = (  # built once: thousands of sources may change in one evaluation
    update(source_health)
    .where(
        source_health.c.source == bindparam("name"), source_health.c.status == bindparam("before")
    )
    .values(status=bindparam("after"), detail=bindparam("detail"), since=bindparam("since"))
)


def _record(conn: Connection, name: str, url: str, health: Mapping[str, Any],
            verdict: Verdict, now: datetime) -> Transition | None:
    """Move one row from the state read to `verdict` (compare-and-set on the status); the
    transition if it deserves a notice."""
    before = str(health["status"])
    started = health["since"] if isinstance(health["since"], datetime) else now
    was_healthy, healthy = before in HEALTHY, verdict.status in HEALTHY
    since = now if was_healthy != healthy else started
    claimed = conn.execute(
        _MOVE,
        {"name": name, "before": before, "after": verdict.status, "detail": verdict.detail,
         "since": since},
    )
    if claimed.rowcount != 1 or was_healthy == healthy or QUIET & {before, verdict.status}:
        return None  # another replica moved it, or no change worth a notice
    log.warning("source health changed source=%s health=%s error=%s", name, verdict.status,
                verdict.detail or "-")
    # the recovery notice is keyed by the episode it closes, the problem by its start
    return Transition(name, before, verdict.status, verdict.detail, url,
                      started if healthy else since)


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"  # no credentials


def _line(change: Transition) -> str:
    if change.after in HEALTHY:
        return f"{change.source} ({_shown(change.url)}) is healthy again, was {change.before}"
    # errors may quote a URL with a token in it
    return f"{change.source} ({_shown(change.url)}): {scrub_urls(change.detail)}"


def _tell(conn: Connection, changes: Sequence[Transition], now: datetime,
          channels: Sequence[str]) -> None:
    groups: dict[str, list[Transition]] = {}
    for change in changes:
        groups.setdefault("recovered" if change.after in HEALTHY else change.after, []).append(
            change)
    for kind, group in groups.items():
        if len(group) <= STORM:
            for change in group:
                episode = (change.episode or now).isoformat()
                recovered = kind == "recovered"
                create_notice(
                    conn,
                    key=f"health{'-ok' if recovered else ''}:{change.source}:{episode}",
                    title=f"source {change.source} {kind if recovered else 'is ' + kind}",
                    body=_line(change) + ".",
                    now=now,
                    operator_channels=channels,
                )
            continue
        lines = [_line(c) for c in group[:LISTED]]
        if len(group) > LISTED:
            lines.append(f"... and {len(group) - LISTED} more (see `monitor sources`)")
        verb = "recovered" if kind == "recovered" else f"are {kind}"
        create_notice(
            conn,
            key=f"health-batch:{kind}:{now.isoformat()}:{group[0].source}",
            title=f"{len(group)} sources {verb}",
            body="\n".join(lines),
            now=now,
            operator_channels=channels,
        )
