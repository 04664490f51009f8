"""Running sends with a hard total deadline, several at a time, off the caller's thread.

httpx and smtplib timeouts apply per socket operation, so a receiver that trickles one byte a
second never trips them. Each send runs in its own daemon thread; the caller waits at most the
deadline and then records a retryable timeout. A thread left behind cannot block shutdown, and if
its send completes later the retry repeats it with the same idempotency key (a duplicate the
receiver can recognise, never a loss).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from monitor.errors import DeliveryError
from monitor.notify.classify import timed_out, unexpected


@dataclass
class _Job:
    action: Callable[[], None]
    what: str
    error: DeliveryError | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            self.action()
        except DeliveryError as exc:
            self.error = exc
        except Exception as exc:  # noqa: BLE001 - a notifier bug must not kill the worker
            self.error = unexpected(exc, self.what)
        finally:
            self.done.set()


class DeadlineRunner:
    """Runs actions in daemon threads, `concurrency` at a time, each within `deadline` seconds."""

    def __init__(self, deadline: float, concurrency: int = 4) -> None:
        self.deadline = deadline
        self.concurrency = concurrency

    def run_one(self, action: Callable[[], None], what: str) -> DeliveryError | None:
        return self.run_many([(action, what)])[0]

    def run_many(
        self, actions: Sequence[tuple[Callable[[], None], str]]
    ) -> list[DeliveryError | None]:
        """Outcomes in the order given: None when the action returned in time."""
        results: list[DeliveryError | None] = []
        for start in range(0, len(actions), self.concurrency):
            wave = [_Job(action, what) for action, what in actions[start:start + self.concurrency]]
            for job in wave:
                threading.Thread(target=job.run, name="delivery-send", daemon=True).start()
            stop = time.monotonic() + self.deadline
            for job in wave:
                if job.done.wait(max(stop - time.monotonic(), 0.0)):
                    results.append(job.error)
                else:
                    results.append(timed_out(job.what, self.deadline))
        return results
