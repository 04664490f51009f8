"""A minimal delivery loop for one webhook channel: `python -m monitor.delivery.runner`.

Used by the SIGKILL harness (and usable by hand) until the daemon's scheduler job exists: it opens
the database, builds one webhook notifier and calls `deliver_due()` in a loop. SIGTERM finishes
the current cycle and exits.
"""

from __future__ import annotations

import argparse
import signal
import time
from datetime import UTC, datetime, timedelta
from types import FrameType

import httpx

from monitor.config.secrets import Secret
from monitor.delivery.factory import build_delivery_worker
from monitor.delivery.settings import DeliverySettings
from monitor.notify.webhook import WebhookNotifier
from monitor.storage.db import open_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="database URL")
    parser.add_argument("--webhook", required=True, help="receiver URL (channel 'hook')")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between cycles")
    parser.add_argument("--lease", type=float, default=10.0, help="lease seconds")
    parser.add_argument("--deadline", type=float, default=5.0, help="per-send deadline seconds")
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args(argv)

    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    engine = open_database(args.db)
    settings = DeliverySettings(
        lease=timedelta(seconds=args.lease), attempt_deadline=timedelta(seconds=args.deadline),
        retry_base=timedelta(seconds=0.2), retry_cap=timedelta(seconds=1),
        grouping_window=timedelta(0), batch_size=args.batch,
    )
    with httpx.Client() as http:
        hook = WebhookNotifier("hook", http=http, url=Secret(args.webhook), secrets=(),
                               timeout=args.deadline)
        worker = build_delivery_worker(engine, settings, {"hook": hook},
                                       lambda: datetime.now(UTC))
        while not stopping:
            report = worker.deliver_due()
            if not report.messages:
                time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
