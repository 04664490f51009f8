"""End-to-end throughput: one `run_cycle` over loopback news sites vs raw trafilatura.

In the same run, on the same pages: (1) raw `trafilatura.bare_extraction` of every article page
in one process, (2) one full cycle of the monitor (fetch feeds and pages, parse, extract and
match in the worker pool, dedup, write, outbox, delivery to a loopback webhook), on SQLite. The
ratio of (2) to (1) in articles per second is issue 8's "end to end / raw trafilatura".

The pages come from the news farm (`bench/newsfarm.py`: distinct ~8 KB pages with boilerplate,
sites spread over 59 loopback addresses), or with `--corpus` from the labelled corpora served
by six sites on 127.0.0.1 (3-5 KB pages).

    .venv/bin/python -m bench.bench_pipeline [--sources 200 --entries 5] [--corpus [--limit N]]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import trafilatura

from bench.bench_farm import warm_up
from bench.farmkit import farm
from bench.proctree import CpuMeter, PeakRss
from monitor.app import App
from monitor.config.loader import load_config
from monitor.corpus import load_corpus
from monitor.gctune import tune as tune_gc
from tests.e2e.harness import HOOK_SECRET, ROOT, write_config
from tests.support.newsserver import NewsServer
from tests.support.receivers import WebhookReceiver

SITES = [
    ("wire", "rss", "share"),
    ("portal", "atom", "portal"),
    ("desk", "json", "plain"),
    ("daily", "rss", "plain"),
    ("globe", "atom", "share"),
    ("post", "json", "portal"),
]


def farm_pages(port: int, sources: int, entries: int) -> list[tuple[str, bytes]]:
    with httpx.Client() as client:
        return [
            (url, client.get(url).content)
            for i in range(sources)
            for a in range(entries)
            if (url := f"http://127.0.0.{2 + i % 59}:{port}/s{i}/a/{a}")
        ]


def corpus_sites(news: NewsServer, limit: int) -> tuple[list[dict[str, Any]], list[tuple[str, bytes]]]:
    articles = load_corpus(ROOT / "tests/fixtures/rules_corpus") + load_corpus(
        ROOT / "tests/fixtures/dedup_corpus"
    )
    if limit:
        articles = articles[:limit]
    for name, fmt, boiler in SITES:
        news.add_site(name, fmt, boiler)
    urls = [news.publish(SITES[i % len(SITES)][0], a, slug=f"a{i}") for i, a in enumerate(articles)]
    pages = [(u, httpx.get(u).content) for u in urls]
    return [{"name": n, "url": news.feed_url(n)} for n, _, _ in SITES], pages


def measure(
    sources: list[dict[str, Any]], pages: list[tuple[str, bytes]], hook_url: str, settings: dict[str, Any], exclude: set[int]
) -> None:
    start = time.perf_counter()
    for url, page in pages:
        trafilatura.bare_extraction(page, url=url, with_metadata=True, include_comments=False)
    raw = time.perf_counter() - start
    channels = {"hook": {"type": "webhook", "url": hook_url, "secrets": [{"env": "BENCH_SECRET"}]}}
    os.environ["BENCH_SECRET"] = HOOK_SECRET
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), sources, channels, {"alert_backlog": True, **settings})
        app = App(load_config(config, ROOT / "rules"))
        try:
            warm_up(app)
            tune_gc()  # as `monitor run` does
            with PeakRss(exclude) as rss, CpuMeter(next(iter(exclude), -1)) as cpu:
                start = time.perf_counter()
                report = app.run_cycle()
                cycle = time.perf_counter() - start
        finally:
            app.close()
    n = len(pages)
    workers = settings.get("extract_workers", 2)
    print("| measure | articles | seconds | articles/s |\n|---|---:|---:|---:|")
    print(f"| raw trafilatura, 1 process | {n} | {raw:.2f} | {n / raw:.1f} |")
    print(
        f"| monitor `run_cycle`, end to end ({workers} workers) | {report.new_articles} | "
        f"{cycle:.2f} | {report.new_articles / cycle:.1f} |"
    )
    print(
        f"\nend to end / raw: {(report.new_articles / cycle) / (n / raw):.2f}; alerts queued "
        f"{report.alerts}, delivered {report.delivery.sent}; failed sources "
        f"{sum(1 for o in report.sources if o.error)}; peak RSS of the process tree "
        f"{rss.peak:.0f} MB"
    )
    print(
        f"CPU seconds in the cycle: monitor (main process and workers) {cpu.ours:.2f}, its "
        f"busiest process {cpu.busiest:.2f}, the news sites {cpu.farm:.2f}, the whole machine "
        f"{cpu.machine:.2f} (of {cycle * (os.cpu_count() or 1):.2f} available)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=200, help="farm sites")
    parser.add_argument("--entries", type=int, default=5, help="articles per farm site")
    parser.add_argument("--workers", type=int, default=2, help="settings.extract_workers")
    parser.add_argument("--corpus", action="store_true", help="serve the labelled corpora instead")
    parser.add_argument("--limit", type=int, default=0, help="with --corpus: at most N articles")
    args = parser.parse_args()
    with WebhookReceiver(secrets=(HOOK_SECRET,)) as hook:
        if args.corpus:
            with NewsServer() as news:
                sources, pages = corpus_sites(news, args.limit)
                measure(sources, pages, hook.url, {"extract_workers": args.workers}, set())
            return
        with farm(args.sources, args.entries) as (port, farm_pid):
            sources = [
                {"name": f"s{i}", "url": f"http://127.0.0.{2 + i % 59}:{port}/s{i}/feed"}
                for i in range(args.sources)
            ]
            pages = farm_pages(port, args.sources, args.entries)
            settings = {
                "extract_workers": args.workers,
                "fetch": {
                    "allow_networks": ["127.0.0.0/8"],
                    "deadline": "60s",
                    "concurrency": 64,
                    "per_host_concurrency": 16,
                },
            }
            measure(sources, pages, hook.url, settings, {farm_pid})


if __name__ == "__main__":
    main()
