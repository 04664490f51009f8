"""bench_farm's `--replicas N`: the cycles run by N replica processes over one PostgreSQL database
(`bench/farm_replica.py` is one replica), the duplicate checks after each cycle, and the table
of N replicas against one (see bench_farm's docstring).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

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
from tests.e2e.harness import HOOK_SECRET, ROOT
from tests.support.receivers import WebhookReceiver

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


def replica_processes(
    config: Path, count: int, mode: str, *, pin: bool = False
) -> list[subprocess.Popen[str]]:
    """`count` replicas; with `pin`, replica i (and the workers it starts, which inherit it) is
    bound to CPU i modulo the machine's CPUs."""
    cpus = sorted(os.sched_getaffinity(0))

    def bind(i: int) -> Callable[[], None] | None:
        if not pin:
            return None
        return lambda: os.sched_setaffinity(0, {cpus[i % len(cpus)]})

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.farm_replica", "--config", str(config), "--mode", mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            preexec_fn=bind(i),  # only sets the CPU affinity before exec
        )
        for i in range(count)
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
        procs = replica_processes(config, count, args.replica_mode, pin=args.pin_replicas)
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
