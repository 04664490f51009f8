"""The long-running daemon: a claim loop and APScheduler 3 drive polling and delivery to SIGTERM.

The claim loop (its own thread) claims due sources (one statement, no more than the pipeline has
room for) and hands them to the pipeline's stages, never waiting for the polls themselves: it
claims again as soon as a poll ends and room frees up, and at least every tick. The scheduler
runs `deliver` (due alerts) and `maintain` (prunes the dedup window). Each round of the claim
loop writes the heartbeat that `monitor healthcheck` reads: its time, and whether the pipeline
is stalled (work in flight but nothing progressing for
`settings.stall_timeout`). On SIGTERM or SIGINT the scheduler stops, in-flight polls get
`settings.drain_timeout` to finish, the rest are cancelled and their leases released.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from monitor.app import App
from monitor.config.loader import AppConfig
from monitor.errors import MonitorError
from monitor.opsserver import serve_ops

log = logging.getLogger(__name__)
POLL_TICK_SECONDS = 5
DELIVER_TICK_SECONDS = 2
MAINTAIN_SECONDS = 30
HEARTBEAT_MAX_AGE = timedelta(minutes=3)
HEALTH_DB_TIMEOUT = 5.0  # seconds a health check waits for a locked or busy database


class Unhealthy(MonitorError):
    """`monitor healthcheck` failed; the message says why in one line."""


def heartbeat_path(config: AppConfig) -> Path:
    """Where the daemon writes its heartbeat: `heartbeat` in the storage directory."""
    storage = Path(config.settings.storage_dir)
    if not storage.is_absolute():
        storage = config.feeds_path.parent / storage
    return storage / "heartbeat"


def write_heartbeat(path: Path, *, stalled: bool = False, in_flight: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    beat = {"at": datetime.now(UTC).isoformat(), "stalled": stalled, "in_flight": in_flight}
    tmp.write_text(json.dumps(beat), encoding="utf-8")
    tmp.replace(path)


def check_health(config: AppConfig, now: datetime | None = None) -> str:
    """One line saying the daemon is healthy; raises Unhealthy (one line) otherwise."""
    from monitor.storage.db import create_db_engine

    engine = create_db_engine(config.database_url, pool_size=1, busy_timeout=HEALTH_DB_TIMEOUT)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc) or type(exc).__name__).splitlines()[0]
        raise Unhealthy(f"database not answering: {reason}") from None
    finally:
        engine.dispose()
    beat_file = heartbeat_path(config)
    try:
        beat = json.loads(beat_file.read_text(encoding="utf-8"))
        age = (now or datetime.now(UTC)) - datetime.fromisoformat(beat["at"])
    except (OSError, ValueError, KeyError, TypeError):
        raise Unhealthy(f"no heartbeat at {beat_file}: is the daemon running?") from None
    seconds = int(age.total_seconds())
    if age > HEARTBEAT_MAX_AGE:
        raise Unhealthy(f"heartbeat is {seconds}s old: the scheduler is not running")
    if beat.get("stalled"):
        raise Unhealthy(
            f"pipeline stalled: {beat.get('in_flight', 0)} polls in flight and no progress for "
            f"{int(config.settings.stall_timeout.total_seconds())}s"
        )
    return f"healthy (heartbeat {seconds}s ago, {beat.get('in_flight', 0)} polls in flight)"


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
    stall = app.config.settings.stall_timeout.total_seconds()

    def claim_loop() -> None:
        """Claim what fits whenever there is room (at the latest every tick); never waits for
        the polls themselves. Writes the heartbeat each round."""
        pipeline = app.pipeline
        while not stop.is_set():
            try:
                app.feed_pipeline()
            except Exception:
                log.exception("job failed job=poll")
            in_flight = len(pipeline.in_flight())
            stalled = pipeline.stalled(stall)
            if stalled:
                log.error("pipeline stalled in_flight=%d", in_flight)
            write_heartbeat(beat, stalled=stalled, in_flight=in_flight)
            if pipeline.capacity() == 0:
                pipeline.wait_for_room(POLL_TICK_SECONDS)  # refill as soon as a poll ends
            else:
                stop.wait(POLL_TICK_SECONDS)

    def maintain() -> None:
        app.prune()

    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )
    now = datetime.now(UTC)
    for name, job, seconds in (
        ("deliver", app.deliver, DELIVER_TICK_SECONDS),
        ("maintain", maintain, MAINTAIN_SECONDS),
        ("health", app.check_health, app.config.settings.health.check_every.total_seconds()),
    ):
        scheduler.add_job(
            _guard(name, job), "interval", seconds=seconds, id=name, next_run_time=now
        )
    write_heartbeat(beat)
    # O (issue 10): /metrics, /healthz, /readyz when settings.ops.listen is set
    ops = serve_ops(app.config.settings.ops, app.metrics.registry, app.engine, beat)
    log.info(
        "daemon started sources=%d rules=%d channels=%d owner=%s",
        len(app.config.sources),
        len(app.config.ruleset.rules),
        len(app.notifiers),
        app.owner,
    )
    claimer = threading.Thread(target=claim_loop, name="claim", daemon=True)
    scheduler.start()
    claimer.start()
    try:
        stop.wait()
    finally:
        steps: list[tuple[str, Callable[[], object]]] = [
            ("claim", lambda: claimer.join(timeout=2 * POLL_TICK_SECONDS)),
            ("scheduler", lambda: scheduler.shutdown(wait=True)),
            ("ops", ops.close if ops is not None else lambda: None),
            ("app", app.close),  # drains in-flight polls within settings.drain_timeout
        ]
        if not _shut_down(steps):
            raise MonitorError("the daemon stopped, but not cleanly: see the errors logged above")
        log.info("daemon stopped")


def _shut_down(steps: list[tuple[str, Callable[[], object]]]) -> bool:
    """Run every shutdown step even when one fails (each failure is logged with its traceback);
    True if all succeeded."""
    clean = True
    for name, step in steps:
        try:
            step()
        except Exception:
            log.exception("shutdown step failed step=%s", name)
            clean = False
    return clean
