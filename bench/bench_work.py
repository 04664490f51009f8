"""The work stage alone: farm pages through `WorkPool` vs raw trafilatura, same pages, same run.

Builds `--pages` distinct news-farm pages (~8 KB, boilerplate) in memory, then measures (1) raw
`trafilatura.bare_extraction` in this process, (2) the same work in-process as one worker does
it (`monitor.work.article.process`: extraction, language, the shipped rules, dedup
fingerprints), (3) the pool of `--workers` processes end to end (submit to result, IPC
included), and (4) the pool on empty jobs (feed text only, no rules): its per-job IPC cost.
Then the CPU of each step of `process` on the same pages, in this process: extraction, language
detection (run on every page here, although farm pages declare theirs), the shipped rules (the
share of pages they match is shown: a match costs its explanation), dedup fingerprints.

    .venv/bin/python -m bench.bench_work [--pages 600] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import trafilatura

from bench.newsfarm import Farm
from monitor.config.models import Settings
from monitor.extract.article import extract_html
from monitor.rules import Document, RuleEngine, load_rules
from monitor.work import SourceMeta, WorkJob, WorkPool, WorkResult
from monitor.work import optional as collaborators
from monitor.work.article import Tools, process
from tests.e2e.harness import ROOT


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of this process."""
    start, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - start, time.process_time() - cpu


def stages(jobs: list[WorkJob], tools: Tools) -> None:
    """CPU ms per page of each step of `process`, in this process."""
    assert tools.detect_language is not None and tools.prepare_fingerprints is not None
    detect, prepare = tools.detect_language, tools.prepare_fingerprints
    pages = [(j.page or b"", j.url) for j in jobs]
    extracted = [extract_html(page, url) for page, url in pages]
    texts = [(e.title or "", e.text) for e in extracted]
    docs = [Document(title=t, body=b, language="en", source="farm") for t, b in texts]
    matched = sum(1 for d in docs if tools.rules.match(d))
    detect(*texts[0])  # loads the language model (farm pages declare theirs: not loaded yet)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("extraction (trafilatura)", lambda: [extract_html(p, u) for p, u in pages]),
        ("language detection", lambda: [detect(t, b) for t, b in texts]),
        (
            f"rules ({matched / len(docs):.0%} of pages match)",
            lambda: [[m.to_json() for m in tools.rules.match(d)] for d in docs],
        ),
        ("dedup fingerprints", lambda: [prepare(t, b) for t, b in texts]),
    ]
    print("\n| step of process() | CPU ms/page |\n|---|---:|")
    for name, run in steps:
        print(f"| {name} | {timed(run)[1] / len(jobs) * 1e3:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    farm = Farm(sites=1000, entries=20, port=80)
    source = SourceMeta("farm")
    jobs = [
        WorkJob(source, f"http://farm.test/s{i}/a/{i}", farm.page(i % 1000, i))
        for i in range(args.pages)
    ]
    empty = [
        WorkJob(source, f"http://farm.test/e/{i}", None, title="t", match=False)
        for i in range(args.pages * 5)
    ]
    ruleset = load_rules(ROOT / "rules")
    tools = Tools(
        RuleEngine.compile(ruleset),
        collaborators.detect_language(),
        collaborators.prepare_fingerprints(),
    )
    process(jobs[0], tools)
    raw, raw_cpu = timed(
        lambda: [
            trafilatura.bare_extraction(
                j.page, url=j.url, with_metadata=True, include_comments=False
            )
            for j in jobs
        ]
    )
    inproc, inproc_cpu = timed(lambda: [process(j, tools) for j in jobs])
    results: list[WorkResult] = []
    with WorkPool(ruleset, Settings(extract_workers=args.workers)) as pool:
        pool.wait_ready(300)
        pooled, _ = timed(
            lambda: results.extend(f.result() for f in [pool.submit(j) for j in jobs])
        )
        ipc, _ = timed(lambda: [f.result() for f in [pool.submit(j) for j in empty]])
        assert pool.stats.skipped == 0
    worker_cpu = sum(r.cpu_seconds for r in results)
    n = len(jobs)
    print("| measure | pages | seconds | pages/s | CPU ms/page |\n|---|---:|---:|---:|---:|")
    print(
        f"| raw trafilatura, 1 process | {n} | {raw:.2f} | {n / raw:.0f} | {raw_cpu / n * 1e3:.1f} |"
    )
    print(
        f"| work stage in-process, 1 process | {n} | {inproc:.2f} | {n / inproc:.0f} | "
        f"{inproc_cpu / n * 1e3:.1f} |"
    )
    print(
        f"| WorkPool, {args.workers} workers | {n} | {pooled:.2f} | {n / pooled:.0f} | "
        f"{worker_cpu / n * 1e3:.1f} (in workers) |"
    )
    print(
        f"\nWorkPool / raw trafilatura (wall): {raw / pooled:.2f}; "
        f"per-job IPC round trip (empty jobs): {ipc / len(empty) * 1e6:.0f} µs"
    )
    stages(jobs, tools)


if __name__ == "__main__":
    main()
