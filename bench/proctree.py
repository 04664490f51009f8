"""Process-tree meters for the benchmarks: peak memory (RSS and PSS) and CPU seconds of this
process and its descendants, the PostgreSQL backends of a database, the whole machine."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

from sqlalchemy import create_engine, text

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return 0.0


def _pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
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
    """Samples the memory of this process tree (minus `exclude`) until stopped: the sum of the
    members' RSS every 0.1 s (`peak`), and of their PSS once a second (`peak_pss`).

    Summed RSS counts every page a process maps, so the pages several processes share (the
    interpreter, numpy's and lxml's libraries, mapped files) count once per process; PSS splits
    each shared page between the processes that map it, so its sum is what the tree costs the
    machine (what a container's memory limit charges)."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude, self.peak, self._stop = exclude, 0.0, threading.Event()
        self.peak_pss = 0.0
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
                self.peak_pss = max(self.peak_pss, sum(_pss_mb(p) for p in pids))
            ticks += 1
            total = sum(_rss_mb(p) for p in pids)
            self.peak = max(self.peak, total)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_by_pid(pids: Iterable[int]) -> dict[int, float]:
    """utime + stime in seconds of each live process among `pids`."""
    found: dict[int, float] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / _TICK
        except OSError:
            continue
    return found


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy (all users), from /proc/stat."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / _TICK  # minus idle and iowait


def database_backends(database_url: str) -> Callable[[], list[int]]:
    """The pids of the PostgreSQL server processes connected to this bench's database."""

    def pids() -> list[int]:
        engine = create_engine(database_url)
        try:
            with engine.connect() as conn:
                return [int(p) for p in conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )).scalars()]
        finally:
            engine.dispose()

    return pids


class CpuMeter:
    """CPU seconds over a cycle: this process tree (minus the farm), the PostgreSQL backends of
    the bench's database, the farm, and the whole machine (everybody's jobs).

    The tree is taken at the start (the replicas and their workers live across cycles); the
    backends at the start and at the end (a backend that ends in between is not counted)."""

    def __init__(self, farm_pid: int, backends: Callable[[], list[int]] | None = None) -> None:
        self.farm_pid, self.backends = farm_pid, backends
        self.ours = self.database = self.farm = self.machine = 0.0
        self.busiest = 0.0  # the one process of the tree that used most

    def _database_pids(self) -> list[int]:
        return self.backends() if self.backends else []

    def __enter__(self) -> CpuMeter:
        self._pids = _tree(os.getpid(), {self.farm_pid})
        self._start = _cpu_by_pid([*self._pids, self.farm_pid, *self._database_pids()])
        self._machine = _machine_busy()
        return self

    def __exit__(self, *exc: object) -> None:
        machine = _machine_busy()
        database = set(self._database_pids())
        now = _cpu_by_pid([*self._pids, self.farm_pid, *database])

        def spent(pids: Iterable[int]) -> float:
            return sum(now.get(p, 0.0) - self._start.get(p, 0.0) for p in pids if p in now)

        self.machine = machine - self._machine
        self.ours = spent(self._pids)
        self.busiest = max((spent([p]) for p in self._pids), default=0.0)
        self.farm = spent([self.farm_pid])
        self.database = spent(database - set(self._pids))
