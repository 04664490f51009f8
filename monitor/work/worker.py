"""The worker process: `python -m monitor.work.worker PARENT_PID`, started by `WorkPool`.

It dies with its parent (PR_SET_PDEATHSIG on Linux, plus a thread that watches the parent's pid
and end of file on the job pipe), builds its rule engine once from the RuleSet it is sent, then
processes one job at a time. Its address space is capped at what it uses once warmed up plus
the per-article memory budget, so an article that allocates too much fails with MemoryError
(answered as skipped, after which the worker exits for a fresh heap) or kills only this process.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import threading
import time

from monitor import gctune
from monitor.rules import RuleEngine, RuleSet
from monitor.work import optional, protocol
from monitor.work.article import Tools, process
from monitor.work.feeds import FeedJob, parse_feed_job
from monitor.work.model import SourceMeta, WorkJob

PR_SET_PDEATHSIG = 1
# long enough to be given a language: the warm-up loads the language model too (before the
# memory cap is set, so the model is not charged to the first article's budget)
WARM_PAGE = (
    b"<html><body><article><h1>Warm-up</h1><p>The worker reads this page once at start, so the "
    b"extractor, the language model and the rules are loaded before the first article.</p>"
    b"</article></body></html>"
)


def die_with_parent(parent: int) -> None:
    """Exit when `parent` does: a kernel signal where available, a polling thread everywhere."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def private_pipes() -> tuple[int, int]:
    """The job pipes on fresh descriptors; fd 0 becomes /dev/null and fd 1 stderr, so a library
    printing to stdout cannot corrupt the protocol."""
    jobs, results = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return jobs, results


def limit_memory(budget: int) -> None:
    """Cap the address space at the current size plus `budget` bytes."""
    with open("/proc/self/statm") as statm:
        size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + budget
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def serve(jobs: int, results: int, tools: Tools, memory: int) -> None:
    while (message := protocol.read(jobs)) is not None:
        job_id, job = message
        assert isinstance(job, WorkJob | FeedJob)
        out_of_memory = False
        result: object
        try:
            result = process(job, tools) if isinstance(job, WorkJob) else parse_feed_job(job)
        except MemoryError:
            out_of_memory = True
            result = job.skipped(f"memory budget exceeded ({memory >> 20} MB)")
        except Exception as exc:  # noqa: BLE001 - reported as this job's skip reason
            result = job.skipped(f"error: {type(exc).__name__}: {exc}"[:300])
        protocol.write(results, (job_id, result))
        if out_of_memory:
            return  # start afresh: the pool replaces this worker


def main(argv: list[str]) -> None:
    die_with_parent(int(argv[1]))
    jobs, results = private_pipes()
    init = protocol.read(jobs)
    if init is None:
        return
    ruleset, memory = init
    assert isinstance(ruleset, RuleSet)
    tools = Tools(
        rules=RuleEngine.compile(ruleset),
        detect_language=optional.detect_language(),
        prepare_fingerprints=optional.prepare_fingerprints(),
    )
    process(WorkJob(SourceMeta("warm-up"), url="http://warm.invalid/", page=WARM_PAGE), tools)
    gctune.tune()
    if sys.platform.startswith("linux"):
        limit_memory(memory)
    protocol.write(results, "ready")
    serve(jobs, results, tools, memory)


if __name__ == "__main__":
    main(sys.argv)
