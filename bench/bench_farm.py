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
processes instead (bench/farm_replica.py), each with its own `App` over the same database and
feeds.yaml and the same clock offset, started together on each cycle; the sources are split by
their leases. A cycle's time runs from the start of the first replica to the end of the last.
After each cycle the database and the webhook receiver are checked for duplicates: sources
polled by more than one replica, articles stored twice, alerts per (rule, article) or (rule,
article text) above one, deliveries per (alert, channel) above one, alert ids the receiver got
twice. `--replica-mode cycle` runs `App.run_cycle()` (as `monitor run --once` does);
`--replica-mode claim` runs the daemon's claim loop (claims what fits in the pipeline, again as
polls end). The last lines give N replicas / 1 replica per kind of cycle.

    .venv/bin/python -m bench.bench_farm --sources 1000 --entries 1 --backend postgres \
        --replicas 1,2,1,2 --new-cycles 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.proctree import CpuMeter, PeakRss, database_backends
from monitor.app import App
from monitor.config.loader import load_config
from monitor.gctune import tune as tune_gc
from tests.e2e.harness import HOOK_SECRET, ROOT, write_config
from tests.support.postgres import fresh_database
from tests.support.receivers import WebhookReceiver

INTERVAL = timedelta(minutes=15)


@dataclass
class Cycle:
    name: str
    articles: int
    seconds: float
    peak_mb: float
    failed_sources: int
    # --replicas only: sources polled per replica, and what was found twice
    polls: list[int] = field(default_factory=list)
    alerts: int = 0
    sent: int = 0
    duplicates: dict[str, int] = field(default_factory=dict)
    peak_pss_mb: float = 0.0
    errors: list[str] = field(default_factory=list)
    cpu: CpuMeter | None = None

    @property
    def duplicate_count(self) -> int:
        return sum(self.duplicates.values())


def farm_flags(args: argparse.Namespace) -> list[str]:
    return [flag for flag, on in (("--copies", args.copies),
                                  ("--shared-sentences", args.shared_sentences)) if on]


@contextmanager
def farm(sources: int, entries: int, flags: Iterable[str] = ()) -> Iterator[tuple[int, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.newsfarm", "--sites", str(sources), "--entries", str(entries),
         *flags],
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


def farm_config(
    args: argparse.Namespace, port: int, hook: WebhookReceiver, database_url: str | None, tmp: Path
) -> Path:
    """feeds.yaml with the farm's sources and one webhook channel (`BENCH_SECRET` set here)."""
    sources = [
        {"name": f"s{i}", "url": f"http://127.0.0.{2 + i % 59}:{port}/s{i}/feed"}
        for i in range(args.sources)
    ]
    channels = {
        "hook": {"type": "webhook", "url": hook.url, "secrets": [{"env": "BENCH_SECRET"}]}
    }
    settings: dict[str, object] = {
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
    os.environ["BENCH_SECRET"] = HOOK_SECRET
    return write_config(tmp, sources, channels, settings)


def begin_cycle(cycles: list[Cycle], name: str, publish: bool | None, port: int) -> bool:
    """Start cycle `name`: a skipped one (`publish` None) is recorded as such and False is
    returned; with `publish`, the farm publishes one new article on every site first."""
    if publish is None:
        cycles.append(Cycle(name, 0, float("nan"), 0.0, 0))
        return False
    if publish:
        httpx.get(f"http://127.0.0.2:{port}/_farm/publish").raise_for_status()
    return True


def cycle_plan(args: argparse.Namespace) -> list[tuple[str, bool | None]]:
    """(name, publish first?) per cycle; None: the cycle is skipped."""
    news: list[tuple[str, bool | None]] = [("one new", True)]
    news += [(f"one new ({k})", True) for k in range(2, args.new_cycles + 1)]
    if args.skip_new:
        news = [("one new (skipped)", None)]
    return [("first", False), *news, ("all 304", False)]


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



DUPLICATE_QUERIES = {
    # extra rows: what a second replica would leave behind if two of them did the same work
    "articles": "SELECT source, canonical_url FROM articles GROUP BY 1, 2",
    "alerts per (rule, article)": "SELECT rule, article_id FROM alerts GROUP BY 1, 2",
    "alerts per (rule, text)": (
        "SELECT a.rule, md5(r.text) FROM alerts a JOIN articles r ON r.id = a.article_id "
        "GROUP BY 1, 2"
    ),
    "deliveries per (alert, channel)": "SELECT alert_id, channel FROM deliveries GROUP BY 1, 2",
}


def stored_duplicates(database_url: str) -> dict[str, int]:
    """Rows in the database beyond one per key, per query of DUPLICATE_QUERIES."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                name: int(conn.execute(text(
                    "SELECT coalesce(sum(n - 1), 0) FROM "
                    f"({query.replace(' FROM ', ', count(*) AS n FROM ', 1)} "
                    "HAVING count(*) > 1) AS d"
                )).scalar_one())
                for name, query in DUPLICATE_QUERIES.items()
            }
    finally:
        engine.dispose()


def received_alert_ids(hook: WebhookReceiver) -> list[int]:
    """Alert ids of every accepted webhook message (operator notices carry none)."""
    ids: list[int] = []
    for hit in hook.accepted():
        data = hit.payload
        if data.get("type") == "batch":
            ids += [a["alert_id"] for a in data["alerts"]]
        elif "alert_id" in data:
            ids.append(data["alert_id"])
    return ids


def replica_processes(config: Path, count: int, mode: str) -> list[subprocess.Popen[str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.farm_replica", "--config", str(config), "--mode", mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(count)
    ]
    for proc in procs:  # they start their workers in parallel
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"replica {proc.pid} exited before it was ready")
        json.loads(line)
    return procs


def stop_replicas(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.stdin is not None:
            proc.stdin.close()
    for proc in procs:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def run_replicas(args: argparse.Namespace, count: int, database_url: str, tmp: Path) -> list[Cycle]:
    """The same cycles as run_backend, run by `count` replica processes started together."""
    cycles: list[Cycle] = []
    with farm(args.sources, args.entries, farm_flags(args)) as (port, farm_pid), WebhookReceiver(
        secrets=(HOOK_SECRET,)
    ) as hook:
        config = farm_config(args, port, hook, database_url, tmp)
        procs = replica_processes(config, count, args.replica_mode)
        backends = database_backends(database_url)
        try:
            offset = timedelta(0)
            for name, publish in cycle_plan(args):
                if not begin_cycle(cycles, name, publish, port):
                    continue
                sent_before = len(received_alert_ids(hook))
                command = json.dumps(
                    {"offset": offset.total_seconds(), "start_at": time.time() + 0.5}
                )
                with PeakRss({farm_pid}) as rss, CpuMeter(farm_pid, backends) as cpu:
                    for proc in procs:
                        assert proc.stdin is not None
                        proc.stdin.write(command + "\n")
                        proc.stdin.flush()
                    replies = [_reply(proc) for proc in procs]
                offset += INTERVAL * 2
                cycles.append(_replica_cycle(name, replies, rss.peak, database_url, hook,
                                             sent_before, cpu))
        finally:
            stop_replicas(procs)
    return cycles


def _reply(proc: subprocess.Popen[str]) -> dict[str, object]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"replica {proc.pid} exited during a cycle")
    reply: dict[str, object] = json.loads(line)
    return reply


def _replica_cycle(
    name: str,
    replies: list[dict[str, object]],
    peak_mb: float,
    database_url: str,
    hook: WebhookReceiver,
    sent_before: int,
    cpu: CpuMeter,
) -> Cycle:
    def num(reply: dict[str, object], key: str) -> int:
        value = reply.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    def names(reply: dict[str, object], key: str) -> list[str]:
        value = reply.get(key, [])
        return [str(v) for v in value] if isinstance(value, list) else []

    seconds = max(float(str(r["end"])) for r in replies) - min(
        float(str(r["start"])) for r in replies
    )
    polled = Counter(n for r in replies for n in names(r, "polled"))
    ids = received_alert_ids(hook)
    duplicates = {
        "sources polled twice": sum(c - 1 for c in polled.values()),
        **stored_duplicates(database_url),
        "alert ids received twice": len(ids) - len(set(ids)),
    }
    errors = [str(r["error"]) for r in replies if "error" in r]
    errors += [e for r in replies for e in names(r, "errors") + names(r, "delivery_errors")]
    cycle = Cycle(
        name,
        sum(num(r, "articles") for r in replies),
        seconds,
        peak_mb,
        sum(num(r, "failed") for r in replies),
        polls=[len(names(r, "polled")) for r in replies],
        alerts=sum(num(r, "alerts") for r in replies),
        sent=len(ids) - sent_before,
        duplicates=duplicates,
        errors=errors,
        cpu=cpu,
    )
    found = {k: v for k, v in duplicates.items() if v} or "none"
    print(f"  {name}: {cycle.articles} articles, {seconds:.1f} s, polls per replica "
          f"{cycle.polls}, {cycle.failed_sources} failed, {cycle.alerts} alerts, "
          f"{cycle.sent} alerts received, duplicates: {found}; CPU s: monitor {cpu.ours:.1f} (busiest process "
          f"{cpu.busiest:.1f}), "
          f"PostgreSQL {cpu.database:.1f}, farm {cpu.farm:.1f}, whole machine {cpu.machine:.1f} "
          f"(of {seconds * (os.cpu_count() or 1):.1f} available)", flush=True)
    for error in errors[:10]:
        print(f"    error: {error}", flush=True)
    return cycle


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


def print_replicas(results: dict[str, list[Cycle]], counts: dict[str, int]) -> None:
    """Per cycle: polls per replica, duplicates, CPU; then N replicas / 1 replica."""
    labels = list(results)
    cores = os.cpu_count() or 1
    print()
    print("| run | cycle | seconds | articles/s | polls per replica | duplicates "
          "| alerts received | CPU s: monitor / PostgreSQL / farm / whole machine (available) "
          "| articles per CPU s of monitor + PostgreSQL |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label in labels:
        for c in results[label]:
            cpu, per_cpu = "-", "-"
            if c.cpu:
                cpu = (f"{c.cpu.ours:.0f} / {c.cpu.database:.0f} / {c.cpu.farm:.0f} / "
                       f"{c.cpu.machine:.0f} ({c.seconds * cores:.0f})")
                per_cpu = f"{c.articles / max(c.cpu.ours + c.cpu.database, 0.01):.1f}"
            print(f"| {label} | {c.name} | {c.seconds:.1f} | {c.articles / c.seconds:.1f} "
                  f"| {'+'.join(map(str, c.polls)) or '-'} | {c.duplicate_count} | {c.sent} "
                  f"| {cpu} | {per_cpu} |")
    for label in labels:
        found = {
            c.name: {k: v for k, v in c.duplicates.items() if v} for c in results[label]
        }
        print(f"\nduplicates ({label}): {found}")
    print()
    for kind in ("first", "one new", "all 304"):
        rates: dict[int, float] = {}
        for count in sorted(set(counts.values())):
            cycles = [
                c for label in labels if counts[label] == count for c in results[label]
                if c.name.split(" (")[0] == kind and c.seconds == c.seconds  # not skipped
            ]
            if not cycles:
                continue
            seconds = sum(c.seconds for c in cycles)
            # articles per second, or all-304 cycles per second
            rates[count] = (sum(c.articles for c in cycles) or len(cycles)) / seconds
            each = ", ".join(f"{c.articles / c.seconds:.1f}" if c.articles else f"{c.seconds:.1f} s"
                             for c in cycles)
            print(f"{kind} cycle, {count} replica(s): {len(cycles)} cycle(s): {each}")
        for count, rate in rates.items():
            if count != 1 and 1 in rates:
                unit = "articles/s" if kind != "all 304" else "inverse seconds"
                print(f"  {kind} cycle: {count} replicas / 1 replica = {rate / rates[1]:.2f}x "
                      f"({unit}, summed over the cycles)")

if __name__ == "__main__":
    main()
