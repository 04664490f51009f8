"""Daemons as real processes over real sockets: kill -9 mid-poll, replicas sharing PostgreSQL.

- `kill -9` of `monitor run` while a source's poll is in progress: the restarted daemon polls
  that source again at once (the dead owner's lease is taken over), the killed daemon's worker
  processes are gone within 10 s, and the alert still arrives (SQLite and PostgreSQL).
- 2 and 3 daemons sharing one PostgreSQL split the sources: each source is polled once in the
  interval, by one daemon, and no alert is sent twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import HOOK_SECRET, ROOT, fixture_article, write_config
from tests.support.newsserver import NewsServer
from tests.support.receivers import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def wait_for(condition: Any, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def start(config: Path, log: Path, database_url: str | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["E2E_HOOK_SECRET"] = HOOK_SECRET
    if database_url:
        env["DATABASE_URL"] = database_url
    cmd = [sys.executable, "-m", "monitor", "--config", str(config), "--rules", str(ROOT / "rules"), "run"]
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=out, env=env, cwd=config.parent)


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=90)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def hook_channel(hook: WebhookReceiver) -> dict[str, Any]:
    return {"hook": {"type": "webhook", "url": hook.url, "secrets": [{"env": "E2E_HOOK_SECRET"}]}}


def test_kill_9_mid_poll_then_restart_polls_again_at_once_and_loses_no_alert(
    tmp_path: Path, db_url: str
) -> None:
    with NewsServer() as news, WebhookReceiver(secrets=(HOOK_SECRET,)) as hook:
        news.add_site("wire", "rss", "share")
        news.publish("wire", fixture_article("wire-moura"))
        sources = [
            {"name": "wire", "url": news.feed_url("wire"), "interval": "1h"},
            {"name": "slow", "url": f"{news.base}/slow", "interval": "1h"},  # 6 s per poll
        ]
        config = write_config(tmp_path, sources, hook_channel(hook), {"alert_backlog": True, "jitter": 0})
        log = tmp_path / "daemon.log"
        first = start(config, log, db_url)
        try:
            assert wait_for(lambda: news.statuses("/wire/feed")), log.read_text()
            time.sleep(1.0)  # the slow poll is in progress
            workers = children(first.pid)
            assert news.statuses("/slow") == []
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        killed_at = time.monotonic()
        assert workers, "the daemon had worker processes"
        assert wait_for(lambda: not any(alive(p) for p in workers), timeout=10), (
            "no orphan worker outlives the killed daemon by 10 s"
        )
        second = start(config, log, db_url)
        try:
            # the interrupted source is polled again at once, not after its lease (or interval)
            assert wait_for(lambda: len(news.statuses("/slow")) >= 2, timeout=60 + 10), log.read_text()
            assert time.monotonic() - killed_at < 60 + 20
            assert wait_for(lambda: len(hook.accepted()) >= 1, timeout=60), log.read_text()
        finally:
            assert stop(second) == 0, log.read_text()
        ids = {h.payload["alert_id"] for h in hook.accepted()}
        assert len(ids) == 1  # the alert arrived (a duplicate is allowed only right after a kill)
        assert "Traceback" not in log.read_text()


@pytest.mark.postgres
@pytest.mark.parametrize("replicas", [2, 3])
def test_replicas_on_postgresql_split_sources_and_never_alert_twice(
    tmp_path: Path, pg_url: str, replicas: int
) -> None:
    count = 24
    with NewsServer() as news, WebhookReceiver(secrets=(HOOK_SECRET,)) as hook:
        names = [f"site{i}" for i in range(count)]
        for name in names:
            news.add_site(name, "rss", "plain")
            news.publish(name, fixture_article("neg-opera"), slug=f"{name}-opera")
        news.publish("site0", fixture_article("wire-moura"))
        news.publish("site1", fixture_article("wire-hombori"))
        sources = [{"name": n, "url": news.feed_url(n), "interval": "1h"} for n in names]
        settings = {"alert_backlog": True, "jitter": 0, "fetch": {
            "allow_networks": ["127.0.0.0/8"], "concurrency": 2}}  # room for 8 sources each
        config = write_config(tmp_path, sources, hook_channel(hook), settings)
        logs = [tmp_path / f"replica{i}.log" for i in range(replicas)]
        procs = [start(config, log, pg_url) for log in logs]
        try:
            assert wait_for(lambda: all(news.statuses(f"/{n}/feed") for n in names), timeout=120)
            assert wait_for(lambda: len(hook.accepted()) >= 2, timeout=60)
            time.sleep(6)  # more ticks: nothing is polled again within the interval
        finally:
            codes = [stop(p) for p in procs]
        texts = [log.read_text() for log in logs]
        failed = {i: texts[i][-4000:] for i, code in enumerate(codes) if code != 0}
        assert codes == [0] * replicas, failed
        polls = Counter(n for n in names for _ in news.statuses(f"/{n}/feed"))
        assert set(polls.values()) == {1}, polls  # every source polled exactly once
        by_replica = [set(re.findall(r"poll done source=(\S+)", text)) for text in texts]
        assert sum(len(s) for s in by_replica) == count and set().union(*by_replica) == set(names)
        assert sum(1 for s in by_replica if s) >= 2, "the sources were split between replicas"
        keys = Counter(h.headers["webhook-id"] for h in hook.accepted())
        assert set(keys.values()) == {1}, keys  # no alert sent twice
