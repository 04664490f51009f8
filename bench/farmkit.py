"""What the farm benches share: the loopback news farm process, the feeds.yaml of its sources, the
cycle plan (first, one new article, all 304) and the record of one cycle (`Cycle`).

Used by `bench_farm` (one process) and `farm_replicas` (N replica processes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from bench.proctree import CpuMeter
from tests.e2e.harness import HOOK_SECRET, ROOT, write_config
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
