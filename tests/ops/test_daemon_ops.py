"""A real daemon process with its ops endpoints on a free loopback port: /metrics parses with
prometheus_client's own parser, /healthz and /readyz answer 200, every log line is JSON, and
`monitor sources --json` lists the source with its kind and health."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import ROOT, fixture_article, monitor, write_config
from tests.support.newsserver import NewsServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def scrape(base: str) -> dict[str, float]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return {
        s.name + json.dumps(s.labels, sort_keys=True): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def polls(samples: dict[str, float]) -> float:
    return sum(v for k, v in samples.items() if k.startswith("monitor_polls_total{"))


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_daemon_serves_metrics_health_and_json_logs(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with NewsServer() as news:
        news.add_site("wire", "rss", "share")
        news.publish("wire", fixture_article("wire-moura"))
        config = write_config(
            tmp_path,
            [{"name": "wire", "url": news.feed_url("wire"), "interval": "1s"}],
            {"desk": {"type": "console"}},
            {"jitter": 0, "ops": {"listen": f"127.0.0.1:{port}"}},
        )
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["MONITOR_LOG_FORMAT"] = "json"
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--rules",
             str(ROOT / "rules"), "run"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        try:
            assert wait_for(lambda: answers(f"{base}/healthz")), "healthz turns 200"
            assert answers(f"{base}/readyz")
            assert wait_for(lambda: len(news.statuses("/wire/feed")) >= 2), "it polls"
            assert wait_for(lambda: polls(scrape(base)) >= 2), "polls are counted"
            got = scrape(base)
            assert got['monitor_polls_total{"outcome": "ok"}'] >= 1
            assert got['monitor_fetch_seconds_count{"kind": "feed"}'] >= 2
            assert got['monitor_db_up{}'] == 1
            assert got['monitor_sources{}'] == 1
            assert 'monitor_outbox_depth{}' in got
            listing = monitor(config, "sources", "--json")
            assert listing.returncode == 0, listing.stderr
            (row,) = json.loads(listing.stdout)
            assert row["name"] == "wire" and row["kind"] == "feed" and row["health"] == "ok"
            assert row["last_new_entry"] is not None and row["errors"] == 0
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert lines and all({"ts", "level", "logger", "msg"} <= line.keys() for line in lines)
    assert any(line.get("event") == "daemon stopped" for line in lines)
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")], err
