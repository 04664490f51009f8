"""The daemon over real sockets: it polls on its own, alerts, answers healthcheck, drains on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT, fixture_article, monitor, write_config
from tests.support.newsserver import NewsServer
from tests.support.receivers import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def wait_for(condition: object, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_daemon_alerts_reports_health_and_drains_on_sigterm(tmp_path: Path) -> None:
    with NewsServer() as news, SmtpServer() as smtp:
        news.add_site("wire", "rss", "share")
        news.publish("wire", fixture_article("wire-moura"))
        channels = {
            "desk": {
                "type": "email",
                "host": "127.0.0.1",
                "port": smtp.port,
                "security": "none",
                "from": "m@example.org",
                "to": ["a@example.org"],
            }
        }
        config = write_config(
            tmp_path,
            [{"name": "wire", "url": news.feed_url("wire"), "interval": "0s"}],
            channels,
            {"alert_backlog": True, "jitter": 0},
        )
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--rules", str(ROOT / "rules"), "run"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert wait_for(lambda: len(smtp.messages) == 1), "the daemon delivered the alert"
            health = monitor(config, "healthcheck")
            assert health.returncode == 0, health.stderr
            assert wait_for(lambda: len(news.statuses("/wire/feed")) >= 2), "it polls again on its own"
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, err = daemon.communicate(timeout=60)
        assert daemon.returncode == 0, err
        assert "draining" in err and "daemon stopped" in err
        assert "job failed" not in err and "Traceback" not in err, err
        assert len(smtp.messages) == 1  # polling again never re-alerts


def test_healthcheck_is_truthful_about_a_stalled_pipeline_and_a_locked_database(tmp_path: Path) -> None:
    import json
    import sqlite3
    from datetime import UTC, datetime

    config = write_config(tmp_path, [], {})
    assert monitor(config, "db", "upgrade").returncode == 0
    beat = tmp_path / "storage" / "heartbeat"
    beat.write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "stalled": False, "in_flight": 3}))
    healthy = monitor(config, "healthcheck")
    assert healthy.returncode == 0 and "3 polls in flight" in healthy.stdout, healthy.stderr
    beat.write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "stalled": True, "in_flight": 3}))
    stalled = monitor(config, "healthcheck")
    assert stalled.returncode != 0 and "pipeline stalled" in stalled.stderr
    holder = sqlite3.connect(tmp_path / "storage" / "monitor.db", isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        locked = monitor(config, "healthcheck")
    finally:
        holder.rollback()
        holder.close()
    assert locked.returncode != 0
    assert "database not answering: database is locked" in locked.stderr, locked.stderr
    assert "Traceback" not in locked.stderr and len(locked.stderr.strip().splitlines()) == 1


def test_sigterm_drains_within_the_bound_and_releases_the_lease(tmp_path: Path) -> None:
    from sqlalchemy import select

    from monitor.storage.db import create_db_engine
    from monitor.storage.tables import sources

    with NewsServer() as news:
        config = write_config(
            tmp_path,
            [{"name": "slow", "url": f"{news.base}/slow", "interval": "1h"}],  # 6 s per poll
            {},
            {"drain_timeout": "1s"},
        )
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--rules", str(ROOT / "rules"), "run"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        engine = create_db_engine(f"sqlite:///{tmp_path / 'storage' / 'monitor.db'}")

        def leased() -> bool:
            try:
                with engine.connect() as conn:
                    return conn.execute(select(sources.c.lease_owner)).scalar() is not None
            except Exception:
                return False

        try:
            assert wait_for(leased), "the slow source is being polled"
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, err = daemon.communicate(timeout=60)
        assert daemon.returncode == 0, err
        assert "polls cancelled sources=slow" in err and "daemon stopped" in err
        assert not leased()  # released: another replica may take it at once
        engine.dispose()
