"""End-to-end throughput: one `run_cycle` over a loopback news server vs raw trafilatura.

Serves every article of the labelled corpora from six loopback sites (RSS, Atom, JSON Feed, with
boilerplate), then in the same run: (1) raw `trafilatura.bare_extraction` of the same pages in
one process, (2) one full cycle of the monitor (fetch, parse, extract in the process pool,
dedup, match, outbox, delivery to a loopback webhook). Prints a table.

    .venv/bin/python -m bench.bench_pipeline [--limit N]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import httpx
import trafilatura

from monitor.app import App
from monitor.config.loader import load_config
from monitor.corpus import load_corpus
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="at most N articles (0 = all)")
    args = parser.parse_args()
    articles = load_corpus(ROOT / "tests/fixtures/rules_corpus") + load_corpus(
        ROOT / "tests/fixtures/dedup_corpus"
    )
    if args.limit:
        articles = articles[: args.limit]
    with (
        NewsServer() as news,
        WebhookReceiver(secrets=(HOOK_SECRET,)) as hook,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for name, fmt, boiler in SITES:
            news.add_site(name, fmt, boiler)
        urls = []
        for i, article in enumerate(articles):
            site = SITES[i % len(SITES)][0]
            urls.append(news.publish(site, article, slug=f"a{i}"))
        pages = [httpx.get(u).content for u in urls]

        start = time.perf_counter()
        for page, url in zip(pages, urls, strict=True):
            trafilatura.bare_extraction(page, url=url, with_metadata=True, include_comments=False)
        raw = time.perf_counter() - start

        sources = [{"name": n, "url": news.feed_url(n)} for n, _, _ in SITES]
        channels = {
            "hook": {"type": "webhook", "url": hook.url, "secrets": [{"env": "BENCH_SECRET"}]}
        }
        config = write_config(Path(tmp), sources, channels, {"alert_backlog": True})
        os.environ["BENCH_SECRET"] = HOOK_SECRET
        app = App(load_config(config, ROOT / "rules"))
        try:
            warm = [app.extractor.submit(pages[0], urls[0]) for _ in range(4)]
            for future in warm:  # start the worker processes before timing, as in the daemon
                future.result()
            start = time.perf_counter()
            report = app.run_cycle()
            cycle = time.perf_counter() - start
        finally:
            app.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n = len(pages)
    print(f"{'measure':<44}{'articles':>10}{'seconds':>10}{'articles/s':>12}")
    print(f"{'raw trafilatura, 1 process':<44}{n:>10}{raw:>10.2f}{n / raw:>12.1f}")
    print(
        f"{'monitor run_cycle (end to end, 2 workers)':<44}{report.new_articles:>10}{cycle:>10.2f}"
        f"{report.new_articles / cycle:>12.1f}"
    )
    print(
        f"alerts queued: {report.alerts}, delivered: {report.delivery.sent}, "
        f"webhook received: {len(hook.accepted())}; peak RSS of the main process: {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
