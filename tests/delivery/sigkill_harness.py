"""SIGKILL harness: kill the delivery runner at random instants, restart it, count losses.

Run `python -m tests.delivery.sigkill_harness --alerts 200 --kills 12` to print the figures;
`test_sigkill.py` runs it as a slow test. The receiver records each alert id and idempotency key;
at the end every alert must have arrived (lost == 0); duplicates (same key, re-sent because the
kill came between the receiver's 2xx and the database commit) are reported.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from monitor.storage.db import open_database
from monitor.storage.tables import deliveries
from tests.delivery.conftest import add_alerts
from tests.support.receivers import WebhookReceiver


@dataclass
class Figures:
    alerts: int
    kills: int
    lost: int
    duplicates: int
    keys_mismatched: int
    seconds: float


def run(alerts: int = 200, kills: int = 12, seed: int = 7) -> Figures:
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="sigkill-"))
    url = f"sqlite:///{root / 'monitor.db'}"
    engine = open_database(url)
    ids = add_alerts(engine, alerts, channels=("hook",), now=datetime.now(UTC))
    started = time.monotonic()
    with WebhookReceiver() as receiver:
        cmd = [sys.executable, "-m", "monitor.delivery.runner", "--db", url, "--webhook",
               receiver.url, "--interval", "0.05", "--lease", "1", "--deadline", "0.5",
               "--batch", "5"]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        done_kills = 0
        while done_kills < kills:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            done_kills += 1
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                pending = conn.execute(select(func.count()).where(
                    deliveries.c.state != "sent")).scalar_one()
            if pending == 0:
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        hits = receiver.accepted()
    engine.dispose()
    counts = Counter(hit.payload["alert_id"] for hit in hits)
    keys: dict[int, set[str]] = {}
    for hit in hits:
        keys.setdefault(hit.payload["alert_id"], set()).add(hit.headers["webhook-id"])
    return Figures(
        alerts=alerts, kills=kills, lost=len(set(ids) - set(counts)),
        duplicates=sum(n - 1 for n in counts.values()),
        keys_mismatched=sum(1 for k in keys.values() if len(k) != 1),
        seconds=round(time.monotonic() - started, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    figures = run(args.alerts, args.kills, args.seed)
    print(f"{'alerts':>8} {'kills':>6} {'lost':>5} {'duplicates':>11} {'key-mismatch':>13} {'s':>6}")
    print(f"{figures.alerts:>8} {figures.kills:>6} {figures.lost:>5} {figures.duplicates:>11} "
          f"{figures.keys_mismatched:>13} {figures.seconds:>6}")


if __name__ == "__main__":
    main()
