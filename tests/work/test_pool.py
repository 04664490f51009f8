"""The work pool over real worker processes: results, budgets, replaced workers, no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.config.models import Settings
from monitor.rules import RuleSet
from monitor.work import SourceMeta, WorkJob, WorkPool, WorkPoolClosed
from tests.work.conftest import ARTICLE, dense_page

ROOT = Path(__file__).resolve().parents[2]
SOURCE = SourceMeta("daily")
MakeSettings = Callable[..., Settings]


def article(n: int) -> WorkJob:
    return WorkJob(SOURCE, f"https://daily.example/a/{n}", ARTICLE)


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its new parent to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def children(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.add(int(entry.name))
    return found


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_jobs_are_processed(ruleset: RuleSet, settings: MakeSettings) -> None:
    with WorkPool(ruleset, settings()) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(article(n)) for n in range(20)]]
        assert all(r.skipped is None for r in results)
        assert [r.url for r in results] == [f"https://daily.example/a/{n}" for n in range(20)]
        assert {r.title for r in results} == {"Floods bring cholera to the delta"}
        assert all([m.rule for m in r.matches] == ["floods"] for r in results)
        assert pool.stats.done == 20 and pool.stats.workers_lost == 0


def test_article_over_cpu_budget_is_skipped_and_the_rest_flow_on(
    ruleset: RuleSet, settings: MakeSettings
) -> None:
    with WorkPool(ruleset, settings(cpu_seconds=1, wall_seconds=300)) as pool:
        assert pool.wait_ready(120)
        before = set(pool.pids())
        hostile = pool.submit(WorkJob(SOURCE, "http://hostile.test/", dense_page()))
        others = [pool.submit(article(n)) for n in range(10)]
        assert hostile.result(timeout=120).skipped == "cpu budget exceeded (1 s)"
        assert all(f.result(timeout=120).skipped is None for f in others)
        assert pool.stats.workers_lost == 1
        assert wait_for(lambda: len(pool.pids()) == 2, 60)
        assert len(set(pool.pids()) - before) == 1  # the killed worker was replaced
        assert pool.submit(article(99)).result(timeout=120).skipped is None


def test_article_over_wall_budget_is_skipped(ruleset: RuleSet, settings: MakeSettings) -> None:
    with WorkPool(ruleset, settings(workers=1, cpu_seconds=300, wall_seconds=0.5)) as pool:
        hostile = pool.submit(WorkJob(SOURCE, "http://hostile.test/", dense_page()))
        after = pool.submit(article(1))
        assert hostile.result(timeout=120).skipped == "wall-clock budget exceeded (0.5 s)"
        assert after.result(timeout=120).skipped is None


def test_article_over_memory_budget_is_skipped(ruleset: RuleSet, settings: MakeSettings) -> None:
    huge = WorkJob(SOURCE, "http://huge.test/", None, content="flood cholera " * 4_000_000)
    with WorkPool(ruleset, settings(workers=1, memory="64MB", cpu_seconds=300)) as pool:
        skipped = pool.submit(huge).result(timeout=120).skipped
        assert skipped is not None
        assert skipped == "memory budget exceeded (64 MB)" or skipped.startswith("worker crashed")
        assert pool.submit(article(1)).result(timeout=120).skipped is None


def test_killed_worker_is_replaced(ruleset: RuleSet, settings: MakeSettings) -> None:
    with WorkPool(ruleset, settings()) as pool:
        assert pool.wait_ready(120)
        victim = pool.pids()[0]
        os.kill(victim, signal.SIGKILL)
        assert wait_for(lambda: victim not in pool.pids() and len(pool.pids()) == 2, 60)
        results = [f.result(timeout=120) for f in [pool.submit(article(n)) for n in range(6)]]
        assert all(r.skipped is None for r in results)


def test_closed_pool_refuses_jobs_and_leaves_no_workers(
    ruleset: RuleSet, settings: MakeSettings
) -> None:
    pool = WorkPool(ruleset, settings())
    assert pool.wait_ready(120)
    pids = pool.pids()
    pool.close()
    pool.close()  # a second close is harmless
    with pytest.raises(WorkPoolClosed):
        pool.submit(article(1))
    assert not any(alive(pid) for pid in pids)


@pytest.mark.slow
def test_no_worker_outlives_a_killed_parent(tmp_path: Path, ruleset: RuleSet) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "floods.yaml").write_text("rules:\n  - name: floods\n    query: flood\n")
    parent = subprocess.Popen(
        [sys.executable, "-m", "tests.work.orphan_harness", str(rules)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert parent.stdout is not None
        workers = json.loads(parent.stdout.readline())["workers"]
        descendants = children(parent.pid)
        assert len(workers) == 2
        assert descendants == set(workers)  # no resource tracker or other helper process
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    assert wait_for(lambda: not any(alive(pid) for pid in descendants), 10)
