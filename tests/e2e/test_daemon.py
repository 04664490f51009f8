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
