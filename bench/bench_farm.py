"""Cycle throughput against the loopback news farm, on SQLite and PostgreSQL (issue 8's table).

For each backend it writes a feeds.yaml with N farm sources (M entries each), then runs the real
`App.run_cycle()` three times, with the clock moved past the poll interval between cycles:

1. first cycle: every source is new, N x M entries (with `--alert-backlog`, pages are fetched,
   extracted and matched too; otherwise the backlog is recorded from the feeds alone, as a new
   user gets by default);
2. one new article on every source (the farm publishes): pages fetched, extracted, matched;
3. nothing new: every feed answers 304.

Peak RSS is the sum over this process and its descendants (workers), sampled every 0.1 s; the
farm's own process is excluded. PostgreSQL runs on a fresh database (MONITOR_TEST_POSTGRES_URL).

    .venv/bin/python -m bench.bench_farm --sources 1000 --entries 20 --backend sqlite,postgres
    .venv/bin/python -m bench.bench_farm --sources 100 --entries 5      # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from monitor.app import App
from monitor.config.loader import load_config
from tests.e2e.harness import HOOK_SECRET, ROOT, write_config
from tests.support.postgres import fresh_database
from tests.support.receivers import WebhookReceiver

INTERVAL = timedelta(minutes=15)
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Cycle:
    name: str
    articles: int
    seconds: float
    peak_mb: float
    failed_sources: int


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return 0.0


def _tree(root: int, exclude: set[int]) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = [root], [root]
    while frontier:
        frontier = [p for p, pp in parents.items() if pp in frontier and p not in exclude]
        found += frontier
    return found


class PeakRss:
    """Samples the RSS of this process tree (minus `exclude`) until stopped."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude, self.peak, self._stop = exclude, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # The process tree (a scan of all of /proc) is refreshed once a second, the RSS of its
        # members every 0.1 s: scanning /proc ten times a second took 5% of the GIL of the
        # process being measured.
        pids: list[int] = []
        ticks = 0
        while not self._stop.wait(0.1):
            if ticks % 10 == 0:
                pids = _tree(os.getpid(), self.exclude)
            ticks += 1
            total = sum(_rss_mb(p) for p in pids)
            self.peak = max(self.peak, total)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def farm(sources: int, entries: int) -> Iterator[tuple[int, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.newsfarm", "--sites", str(sources), "--entries", str(entries)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield int(info["port"]), proc.pid
    finally:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
    with farm(args.sources, args.entries) as (port, farm_pid), WebhookReceiver(
        secrets=(HOOK_SECRET,)
    ) as hook:
        sources = [
            {"name": f"s{i}", "url": f"http://127.0.0.{2 + i % 59}:{port}/s{i}/feed"}
            for i in range(args.sources)
        ]
        channels = {
            "hook": {"type": "webhook", "url": hook.url, "secrets": [{"env": "BENCH_SECRET"}]}
        }
        settings = {
            "alert_backlog": args.alert_backlog,
            "extract_workers": args.workers,
            "default_interval": "15m",
            "fetch": {
                "allow_networks": ["127.0.0.0/8"],
                "deadline": "60s",
                "concurrency": args.concurrency,
                "per_host_concurrency": args.per_host,
            },
        }
        if database_url:
            settings["database_url"] = database_url
        config = write_config(tmp, sources, channels, settings)
        os.environ["BENCH_SECRET"] = HOOK_SECRET
        offset = [timedelta(0)]

        def clock() -> datetime:
            return datetime.now(UTC) + offset[0]

        app = App(load_config(config, ROOT / "rules"), clock=clock)
        try:
            warm_up(app)
            plan: list[tuple[str, bool | None]] = [
                ("first", False), ("one new", True), ("all 304", False)
            ]
            if args.skip_new:
                plan = [plan[0], ("one new (skipped)", None), plan[2]]
            for name, publish in plan:
                if publish is None:
                    cycles.append(Cycle(name, 0, float("nan"), 0.0, 0))
                    continue
                if publish:
                    httpx.get(f"http://127.0.0.2:{port}/_farm/publish").raise_for_status()
                with PeakRss({farm_pid}) as rss:
                    start = time.perf_counter()
                    report = app.run_cycle()
                    seconds = time.perf_counter() - start
                failed = sum(1 for o in report.sources if o.error)
                cycles.append(Cycle(name, report.new_articles, seconds, rss.peak, failed))
                print(f"  {name}: {report.new_articles} articles, {seconds:.1f} s, "
                      f"{len(report.sources)} sources polled, {failed} failed, "
                      f"{report.alerts} alerts", flush=True)
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
    args = parser.parse_args()
    results: dict[str, list[Cycle]] = {}
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
    ]
    picks = [0, 0, 1, 2, 2]
    print()
    print(f"| measure | {' | '.join(backends)} |")
    print(f"|---|{'---:|' * len(backends)}")
    for (label, cell), pick in zip(rows, picks, strict=True):
        print(f"| {label} | {' | '.join(cell(results[b][pick]) for b in backends)} |")
    failed = {b: [c.failed_sources for c in results[b]] for b in backends}
    print(f"\nfailed sources per cycle: {failed}")


if __name__ == "__main__":
    main()
