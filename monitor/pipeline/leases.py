"""Keeps the leases of the sources being polled alive: one thread renews them all at once.

Leases are short (`sources_repo.LEASE`, 90 s), so a process that dies holds its sources for at
most that long (or not at all on the same host, where a dead pid is noticed at the next claim).
The keeper renews every lease of the in-flight sources every third of the lease.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.storage import sources_repo

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(
        self,
        engine: Engine,
        owner: str,
        in_flight: Callable[[], set[str]],
        clock: Callable[[], datetime],
        lease: timedelta = sources_repo.LEASE,
    ) -> None:
        self._engine = engine
        self._owner = owner
        self._in_flight = in_flight
        self._clock = clock
        self._lease = lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="leases", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def renew_now(self) -> None:
        names = self._in_flight()
        if not names:
            return
        held = sources_repo.renew(
            self._engine, names, owner=self._owner, now=self._clock(), lease=self._lease
        )
        for name in sorted((names - held) & self._in_flight()):  # still polling, lease gone
            log.warning("lease lost source=%s", name)

    def _loop(self) -> None:
        while not self._stop.wait(self._lease.total_seconds() / 3):
            try:
                self.renew_now()
            except Exception as exc:  # noqa: BLE001 - retried at the next round; leases expire
                log.warning("lease renewal failed error=%s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
