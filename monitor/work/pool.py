"""The work pool: worker processes that extract and match articles, each within a budget.

`WorkPool(ruleset, settings).submit(job)` returns a Future of the job's `WorkResult`. One manager
thread owns the workers: it starts them (plain subprocesses joined by pipes, so no
multiprocessing resource tracker or semaphores outlive a killed daemon), feeds each up to two
jobs (the second waits in the pipe, so a worker never idles between jobs), reads results, and
is the watchdog: a worker whose current article exceeds its CPU or wall-clock budget is killed.
That article's future gets a result with `skipped` set to the reason, the jobs queued behind it
go to other workers, and a fresh worker takes its place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import MonitorError
from monitor.rules import RuleSet
from monitor.work import protocol
from monitor.work.feeds import FeedJob, FeedResult
from monitor.work.model import WorkJob, WorkResult
from monitor.work.settings import WorkSettings

if TYPE_CHECKING:
    from monitor.config.models import Settings

log = logging.getLogger(__name__)
PREFETCH = 2  # jobs handed to one worker at a time: the running one and the next
TICK = 0.1  # seconds between budget checks
MAX_START_FAILURES = 3  # consecutive workers dying before "ready": the pool gives up
PIPE_CHUNK = 1 << 16  # per pipe read/write: os.read(fd, 1 MiB) allocates 1 MiB a call (9x slower)
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_CLOCK_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class WorkPoolClosed(MonitorError):
    """The pool was closed (or could not start workers) before this job was processed."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0.0 where /proc is not available)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICK


@dataclass
class _Task:
    id: int
    job: WorkJob | FeedJob
    future: Future[Any]  # of WorkResult or FeedResult, as the job
    started: bool = False  # set_running_or_notify_cancel was called


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    jobs_fd: int
    results_fd: int
    reader: protocol.FrameReader = field(default_factory=protocol.FrameReader)
    outgoing: bytearray = field(default_factory=bytearray)
    tasks: deque[_Task] = field(default_factory=deque)  # the first one is running
    ready: bool = False
    gone: bool = False
    began: float = 0.0  # monotonic time the running task began
    cpu_at_start: float = 0.0
    kill_reason: str | None = None


@dataclass
class PoolStats:
    """Counters for metrics and benchmarks."""

    done: int = 0
    skipped: int = 0
    workers_started: int = 0
    workers_lost: int = 0


class WorkPool:
    """`settings.extract_workers` worker processes with per-article budgets (`settings.work`)."""

    def __init__(self, ruleset: RuleSet, settings: Settings) -> None:
        self._ruleset = ruleset
        self._budget: WorkSettings = settings.work
        self._size = settings.extract_workers
        self._pending: deque[_Task] = deque()
        self._lock = threading.Lock()
        self._next_id = 0
        self._closing = False
        self._close_deadline = 0.0
        self._broken: str | None = None
        self._start_failures = 0
        self._checked = 0.0  # monotonic time of the last budget check
        self._ready = threading.Event()
        self.stats = PoolStats()
        self._workers: list[_Worker] = []
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name="work-pool", daemon=True)
        self._thread.start()

    # --- public ------------------------------------------------------------------------

    def submit(self, job: WorkJob) -> Future[WorkResult]:
        """Queue one article; the future's result is a WorkResult (possibly `skipped`)."""
        future: Future[WorkResult] = Future()
        self._queue(job, future)
        return future

    def submit_feed(self, job: FeedJob) -> Future[FeedResult]:
        """Queue one feed document to parse; the result is a FeedResult (possibly `skipped`)."""
        future: Future[FeedResult] = Future()
        self._queue(job, future)
        return future

    def _queue(self, job: WorkJob | FeedJob, future: Future[Any]) -> None:
        with self._lock:
            if self._closing or self._broken:
                raise WorkPoolClosed(self._broken or "the work pool is closed")
            self._next_id += 1
            self._pending.append(_Task(self._next_id, job, future))
            self._wake()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every worker has started (imports done, rules compiled)."""
        return self._ready.wait(timeout)

    def pids(self) -> list[int]:
        """The process ids of the current workers."""
        with self._lock:
            return [w.proc.pid for w in self._workers if not w.gone]

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking jobs, let the running ones finish for up to `timeout` seconds, then stop
        the workers. Jobs not finished get WorkPoolClosed; queued ones are cancelled."""
        with self._lock:
            if not self._closing:
                self._closing = True
                self._close_deadline = time.monotonic() + timeout
                self._wake()
        self._thread.join()

    def __enter__(self) -> WorkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the manager thread ------------------------------------------------------------

    def _wake(self) -> None:
        """Interrupt the manager's select (called with the lock held: the pipe stays open)."""
        with contextlib.suppress(BlockingIOError):  # already awake
            os.write(self._wake_w, b"x")

    def _run(self) -> None:
        try:
            for _ in range(self._size):
                self._start_worker()
            while not self._finished():
                for key, events in self._selector.select(TICK):
                    if key.data is None:
                        self._drain_wake()
                    elif events & selectors.EVENT_READ:
                        self._receive(key.data)
                    elif events & selectors.EVENT_WRITE:
                        self._send(key.data)
                self._enforce_budgets()
                self._replace_lost()
                self._dispatch()
        except Exception as exc:  # the pool must never leave futures hanging
            log.exception("work pool failed error=%s", exc)
            self._broken = f"work pool failed: {type(exc).__name__}: {exc}"
        finally:
            self._shutdown()

    def _finished(self) -> bool:
        with self._lock:
            if self._broken:
                return True
            if not self._closing:
                return False
            for task in self._pending:
                if not task.started:
                    task.future.cancel()
            self._pending = deque(t for t in self._pending if t.started)
        busy = any(w.tasks for w in self._workers if not w.gone) or self._pending
        return not busy or time.monotonic() >= self._close_deadline

    def _drain_wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 4096):
                pass

    def _start_worker(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "monitor.work.worker", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        worker = _Worker(proc, proc.stdin.fileno(), proc.stdout.fileno())
        os.set_blocking(worker.jobs_fd, False)
        os.set_blocking(worker.results_fd, False)
        worker.outgoing += protocol.encode((self._ruleset, self._budget.memory))
        self._selector.register(worker.results_fd, selectors.EVENT_READ, worker)
        self._watch_writes(worker)
        with self._lock:
            self._workers.append(worker)
        self.stats.workers_started += 1

    def _watch_writes(self, worker: _Worker) -> None:
        key = self._selector.get_map().get(worker.jobs_fd)
        if worker.outgoing and key is None:
            self._selector.register(worker.jobs_fd, selectors.EVENT_WRITE, worker)
        elif not worker.outgoing and key is not None:
            self._selector.unregister(worker.jobs_fd)

    def _send(self, worker: _Worker) -> None:
        try:
            with memoryview(worker.outgoing) as pending:  # no copy of the whole backlog
                sent = os.write(worker.jobs_fd, pending[:PIPE_CHUNK])
        except BlockingIOError:
            return
        except OSError:  # the worker is gone: end of file on its results pipe follows
            worker.outgoing.clear()
            worker.gone = True
        else:
            del worker.outgoing[:sent]
        self._watch_writes(worker)

    def _receive(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.results_fd, PIPE_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lose(worker)
            return
        for message in worker.reader.feed(data):
            if message == "ready":
                worker.ready = True
                self._start_failures = 0
                if all(w.ready for w in self._workers if not w.gone):
                    self._ready.set()
                continue
            job_id, result = message
            task = worker.tasks.popleft()
            assert task.id == job_id, (task.id, job_id)
            self._finish(task, result)
            if worker.tasks:
                self._begin(worker)

    def _begin(self, worker: _Worker) -> None:
        worker.began = time.monotonic()
        worker.cpu_at_start = cpu_seconds(worker.proc.pid)

    def _finish(self, task: _Task, result: WorkResult | FeedResult) -> None:
        if result.skipped:
            self.stats.skipped += 1
            kind = "article" if isinstance(task.job, WorkJob) else "feed"
            log.warning("%s skipped url=%s error=%s", kind, result.url, result.skipped)
        else:
            self.stats.done += 1
        task.future.set_result(result)

    def _enforce_budgets(self) -> None:
        now = time.monotonic()
        if now - self._checked < TICK:
            return  # reading /proc for every result would cost more than the check is worth
        self._checked = now
        for worker in self._workers:
            if not worker.tasks or worker.gone or worker.kill_reason:
                continue
            reason = None
            if now - worker.began > self._budget.wall_seconds:
                reason = f"wall-clock budget exceeded ({self._budget.wall_seconds:g} s)"
            elif cpu_seconds(worker.proc.pid) - worker.cpu_at_start > self._budget.cpu_seconds:
                reason = f"cpu budget exceeded ({self._budget.cpu_seconds:g} s)"
            if reason:
                worker.kill_reason = reason
                worker.proc.kill()

    def _lose(self, worker: _Worker) -> None:
        """The worker's pipe closed: it exited, crashed or was killed."""
        worker.gone = True
        self._selector.unregister(worker.results_fd)
        worker.outgoing.clear()
        self._watch_writes(worker)
        try:
            code = worker.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            code = worker.proc.wait()
        assert worker.proc.stdin is not None and worker.proc.stdout is not None
        worker.proc.stdin.close()
        worker.proc.stdout.close()
        if not worker.ready:
            self._start_failures += 1
        if worker.tasks:
            running = worker.tasks.popleft()
            reason = worker.kill_reason or f"worker crashed ({_describe(code)})"
            self._finish(running, running.job.skipped(reason))
            with self._lock:
                self._pending.extendleft(reversed(worker.tasks))
            worker.tasks.clear()
        if code != 0 or worker.kill_reason:
            self.stats.workers_lost += 1
            log.warning("worker replaced pid=%s error=%s", worker.proc.pid, _describe(code))

    def _replace_lost(self) -> None:
        lost = [w for w in self._workers if w.gone and w.proc.returncode is not None]
        if not lost:
            return
        with self._lock:
            self._workers = [w for w in self._workers if w not in lost]
        if self._start_failures >= MAX_START_FAILURES:
            self._broken = f"workers fail to start ({self._start_failures} in a row)"
            return
        if not self._closing:
            for _ in lost:
                self._start_worker()

    def _dispatch(self) -> None:
        while True:
            candidates = [
                w for w in self._workers if w.ready and not w.gone and len(w.tasks) < PREFETCH
            ]
            if not candidates:
                return
            worker = min(candidates, key=lambda w: len(w.tasks))
            with self._lock:
                if not self._pending:
                    return
                task = self._pending.popleft()
            if not task.started:
                if not task.future.set_running_or_notify_cancel():
                    continue  # cancelled while queued
                task.started = True
            worker.tasks.append(task)
            if len(worker.tasks) == 1:
                self._begin(worker)
            worker.outgoing += protocol.encode((task.id, task.job))
            self._send(worker)

    def _shutdown(self) -> None:
        for worker in self._workers:
            if worker.proc.stdin is not None and not worker.proc.stdin.closed:
                worker.proc.stdin.close()  # end of file: the worker exits
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            try:
                worker.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
            if worker.proc.stdout is not None:
                worker.proc.stdout.close()
        reason = self._broken or "the work pool closed before this article was processed"
        with self._lock:
            self._closing = True
            leftovers = [t for w in self._workers for t in w.tasks] + list(self._pending)
            self._pending.clear()
            self._workers = []
            self._selector.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
        for task in leftovers:
            if not task.future.done():
                task.future.set_exception(WorkPoolClosed(reason))
        self._ready.set()


def _describe(code: int) -> str:
    if code < 0:
        return f"signal {-code}"
    return f"exit status {code}"
