"""The long-running daemon: APScheduler 3 drives polling and delivery until SIGTERM.

The scheduler runs three jobs: `poll` claims and polls the sources whose persisted next-poll time
has come (each source's interval and jitter are applied when its next poll time is recorded),
`deliver` sends due alerts, `maintain` prunes the dedup window. Each poll tick (which returns at
once: polls run in the application's pool) writes the heartbeat that
`monitor healthcheck` reads. On SIGTERM or SIGINT the scheduler stops taking new work, waits for
running jobs to finish, and the process exits.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from monitor.app import App
from monitor.config.loader import AppConfig

log = logging.getLogger(__name__)
POLL_TICK_SECONDS = 5
DELIVER_TICK_SECONDS = 2
MAINTAIN_SECONDS = 30


def heartbeat_path(config: AppConfig) -> Path:
    """Where the daemon writes its heartbeat: `heartbeat` in the storage directory."""
    storage = Path(config.settings.storage_dir)
    if not storage.is_absolute():
        storage = config.feeds_path.parent / storage
    return storage / "heartbeat"


def write_heartbeat(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(datetime.now(UTC).isoformat(), encoding="utf-8")
    tmp.replace(path)


def _guard(name: str, job: object) -> object:
    def run() -> None:
        try:
            job()  # type: ignore[operator]
        except Exception:
            log.exception("job failed job=%s", name)

    return run


def run_daemon(app: App, stop: threading.Event | None = None) -> None:
    """Run until `stop` is set (by SIGTERM/SIGINT when called from the main thread)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal received, draining signal=%s", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    beat = heartbeat_path(app.config)

    def poll_tick() -> None:
        app.poll_due(wait=False)  # returns at once; polls run in the app's pool
        write_heartbeat(beat)  # the heartbeat proves the scheduler and the database work

    def maintain() -> None:
        app.prune()

    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        _guard("poll", poll_tick),
        "interval",
        seconds=POLL_TICK_SECONDS,
        id="poll",
        next_run_time=now,
    )
    scheduler.add_job(
        _guard("deliver", app.deliver),
        "interval",
        seconds=DELIVER_TICK_SECONDS,
        id="deliver",
        next_run_time=now,
    )
    scheduler.add_job(
        _guard("maintain", maintain),
        "interval",
        seconds=MAINTAIN_SECONDS,
        id="maintain",
        next_run_time=now,
    )
    write_heartbeat(beat)
    log.info(
        "daemon started sources=%d rules=%d channels=%d",
        len(app.config.sources),
        len(app.config.ruleset.rules),
        len(app.notifiers),
    )
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        log.info("daemon stopped")
