"""Cycle throughput against the loopback news farm, on SQLite and PostgreSQL (issue 8's table).

For each backend it writes a feeds.yaml with N farm sources (M entries each), then runs the real
`App.run_cycle()` three times, with the clock moved past the poll interval between cycles:

1. first cycle: every source is new, N x M entries (with `--alert-backlog`, pages are fetched,
   extracted and matched too; otherwise the backlog is recorded from the feeds alone, as a new
   user gets by default);
2. one new article on every source (the farm publishes): pages fetched, extracted, matched;
3. nothing new: every feed answers 304.

Peak RSS is the sum over this process and its descendants (workers), sampled every 0.1 s; peak
PSS the same sum of proportional set sizes (shared pages split between the processes that map
them: what the tree costs the machine), sampled once a second (`bench/proctree.py`); the farm's
own process is excluded. PostgreSQL runs on a fresh database (MONITOR_TEST_POSTGRES_URL).

    .venv/bin/python -m bench.bench_farm --sources 1000 --entries 20 --backend sqlite,postgres
    .venv/bin/python -m bench.bench_farm --sources 100 --entries 5      # a quick run

`--new-cycles K` runs cycle 2 K times (K samples of the same measure); `--copies` makes every
odd farm site republish the text of the site before it (wire copies: one story, one alert).
Each cycle also reports CPU seconds: the monitor's process tree and its busiest process (which
the GIL keeps near one core, except where C code releases it), the PostgreSQL server processes
of its database, the farm, and the whole machine (everybody's jobs: when it is close to cores x
seconds the machine was saturated and the figures measure the share the monitor got).

With `--replicas 1,2` (PostgreSQL only; `1,2,1,2` interleaves runs) the cycles run in N replica
processes instead (driven by bench/farm_replicas.py; bench/farm_replica.py is one replica), each
with its own `App` over the same database and feeds.yaml and the same clock offset, started
together on each cycle; the sources are split by their leases. A cycle's time runs from the start of the first replica to the end of the last.
After each cycle the database and the webhook receiver are checked for duplicates: sources
polled by more than one replica, articles stored twice, alerts per (rule, article) or (rule,
article text) above one, deliveries per (alert, channel) above one, alert ids the receiver got
twice. `--replica-mode cycle` runs `App.run_cycle()` (as `monitor run --once` does);
`--replica-mode claim` runs the daemon's claim loop (claims what fits in the pipeline, again as
polls end). `--pin-replicas` binds replica i and its workers to CPU i (PostgreSQL and the farm
keep every CPU): how replicas scale when each has a core of its own. The last lines give N
replicas / 1 replica per kind of cycle.

    .venv/bin/python -m bench.bench_farm --sources 1000 --entries 1 --backend postgres \
        --replicas 1,2,1,2 --new-cycles 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.farm_replicas import print_replicas, run_replicas
from bench.farmkit import (
    INTERVAL,
    Cycle,
    begin_cycle,
    cycle_plan,
    farm,
    farm_config,
    farm_flags,
)
from bench.proctree import CpuMeter, PeakRss, database_backends
from monitor.app import App
from monitor.config.loader import load_config
from monitor.gctune import tune as tune_gc
from tests.e2e.harness import HOOK_SECRET, ROOT
from tests.support.postgres import fresh_database
from tests.support.receivers import WebhookReceiver


def warm_up(app: App) -> None:
    """Start the worker processes before timing, as a running daemon has them."""
    extractor = getattr(app, "extractor", None)  # the code before issue 8: a lazy process pool
    if extractor is not None:
        page = b"<html><body><article><p>warm</p></article></body></html>"
        for future in [extractor.submit(page, "http://warm.invalid/") for _ in range(8)]:
            future.result()
        return
    work = app.pipeline.deps.work
    pool = getattr(work, "pool", None) or getattr(work, "_pool", None)
    if pool is not None:
        pool.wait_ready(300)


def run_backend(args: argparse.Namespace, database_url: str | None, tmp: Path) -> list[Cycle]:
    cycles: list[Cycle] = []
    with farm(args.sources, args.entries, farm_flags(args)) as (port, farm_pid), WebhookReceiver(
        secrets=(HOOK_SECRET,)
    ) as hook:
        config = farm_config(args, port, hook, database_url, tmp)
        offset = [timedelta(0)]

        def clock() -> datetime:
            return datetime.now(UTC) + offset[0]

        app = App(load_config(config, ROOT / "rules"), clock=clock)
        try:
            warm_up(app)
            tune_gc()  # as `monitor run` does
            for name, publish in cycle_plan(args):
                if not begin_cycle(cycles, name, publish, port):
                    continue
                backends = database_backends(database_url) if database_url else None
                with PeakRss({farm_pid}) as rss, CpuMeter(farm_pid, backends) as cpu:
                    start = time.perf_counter()
                    report = app.run_cycle()
                    seconds = time.perf_counter() - start
                failed = sum(1 for o in report.sources if o.error)
                cycles.append(Cycle(name, report.new_articles, seconds, rss.peak, failed, cpu=cpu,
                                    peak_pss_mb=rss.peak_pss))
                print(f"  {name}: {report.new_articles} articles, {seconds:.1f} s, "
                      f"{len(report.sources)} sources polled, {failed} failed, "
                      f"{report.alerts} alerts; CPU s: monitor {cpu.ours:.1f} (busiest "
                      f"process {cpu.busiest:.1f}), PostgreSQL "
                      f"{cpu.database:.1f}, farm {cpu.farm:.1f}, whole machine "
                      f"{cpu.machine:.1f} (of {seconds * (os.cpu_count() or 1):.1f} available)",
                      flush=True)
                offset[0] += INTERVAL * 2
        finally:
            app.close()
    return cycles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20, help="entries per feed")
    parser.add_argument("--backend", default="sqlite,postgres")
    parser.add_argument("--alert-backlog", action="store_true", help="first cycle fetches pages")
    parser.add_argument("--workers", type=int, default=2, help="settings.extract_workers")
    parser.add_argument("--skip-new", action="store_true", help="only the first and 304 cycles")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=16)
    parser.add_argument("--new-cycles", type=int, default=1,
                        help="how many 'one new article' cycles (publish, cycle) to run")
    parser.add_argument("--copies", action="store_true",
                        help="odd farm sites republish the text of the site before them")
    parser.add_argument("--shared-sentences", action="store_true",
                        help="farm pages drawn from one pool of 4,000 sentences (the farm before "
                        "2026-11-26): every article has many copy candidates to verify")
    parser.add_argument("--replicas", default="",
                        help="replica counts, e.g. 1,2 or 1,2,1,2: run the cycles in that many "
                        "processes (postgres only), one column per run")
    parser.add_argument("--replica-mode", choices=("cycle", "claim"), default="cycle",
                        help="replicas run App.run_cycle() or the daemon's claim loop")
    parser.add_argument("--pin-replicas", action="store_true",
                        help="replica i and its workers run on CPU i only (PostgreSQL and the "
                        "farm on all): how replicas scale when each has a core of its own")
    args = parser.parse_args()
    results: dict[str, list[Cycle]] = {}
    if args.replicas:
        if args.backend != "postgres":
            parser.error("--replicas needs --backend postgres")
        counts: dict[str, int] = {}
        for count in (int(n) for n in args.replicas.split(",")):
            label = f"postgres, {count} replica{'s' if count > 1 else ''}"
            runs = sum(1 for c in counts.values() if c == count)
            label += f" (run {runs + 1})" if runs else ""
            counts[label] = count
            print(f"{label} ({args.replica_mode}): {args.sources} sources x {args.entries} "
                  "entries", flush=True)
            with tempfile.TemporaryDirectory() as tmp, fresh_database() as url:
                results[label] = run_replicas(args, count, url, Path(tmp))
        print_table(args, results)
        print_replicas(results, counts)
        return
    for backend in args.backend.split(","):
        print(f"{backend}: {args.sources} sources x {args.entries} entries", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "postgres":
                with fresh_database() as url:
                    results[backend] = run_backend(args, url, Path(tmp))
            else:
                results[backend] = run_backend(args, None, Path(tmp))
    print_table(args, results)


def print_table(args: argparse.Namespace, results: dict[str, list[Cycle]]) -> None:
    backends = list(results)
    rows: list[tuple[str, Callable[[Cycle], str]]] = [
        (f"first cycle, {args.sources} x {args.entries}: seconds",
         lambda c: f"{c.seconds:.1f}"),
        ("first cycle: entries/s", lambda c: f"{c.articles / c.seconds:.0f}"),
        (f"{args.sources} sources x 1 new article: articles/s",
         lambda c: f"{c.articles / c.seconds:.1f}"),
        (f"all-304 cycle at {args.sources} sources: seconds", lambda c: f"{c.seconds:.1f}"),
        ("all-304 cycle: peak RSS of the process tree (MB)", lambda c: f"{c.peak_mb:.0f}"),
        ("all-304 cycle: peak PSS of the process tree (MB)", lambda c: f"{c.peak_pss_mb:.0f}"),
    ]
    picks = [0, 0, 1, -1, -1, -1]
    print()
    print(f"| measure | {' | '.join(backends)} |")
    print(f"|---|{'---:|' * len(backends)}")
    for (label, cell), pick in zip(rows, picks, strict=True):
        print(f"| {label} | {' | '.join(cell(results[b][pick]) for b in backends)} |")
    failed = {b: [c.failed_sources for c in results[b]] for b in backends}
    print(f"\nfailed sources per cycle: {failed}")


if __name__ == "__main__":
    main()
