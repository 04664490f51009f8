"""One replica of the monitor for bench_farm's `--replicas N`: its own `App` in its own process.

bench_farm starts N of these over the same feeds.yaml (and so the same PostgreSQL database) and
drives them over stdin/stdout with one JSON object per line. The replica builds its `App`, starts
its worker processes and answers `{"ready": true, "pid": ..., "owner": ...}`. Then, for each
command `{"offset": SECONDS, "start_at": EPOCH}` it sets its clock to the wall clock plus
`offset` (bench_farm moves every replica's clock past the poll interval between cycles, as it
does for one process), waits until `start_at` (so the replicas start together), runs one cycle
and answers with what it did: start and end (wall clock), the sources it polled, articles,
alerts, failures and the delivery report. End of file on stdin closes the App and exits.

A cycle is either `App.run_cycle()` (`--mode cycle`: claim every due source at once, poll them
all, deliver) or the daemon's claim loop (`--mode claim`: claim no more than the pipeline has
room for, again whenever a poll ends, until nothing is due nor in flight; then deliver).

    python -m bench.farm_replica --config feeds.yaml --mode cycle   # started by bench_farm
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bench.bench_farm import warm_up
from monitor.app import App, CycleReport
from monitor.config.loader import load_config
from monitor.pipeline import SourceOutcome

ROOT = Path(__file__).resolve().parents[1]
ROOM_WAIT = 0.5  # seconds: the claim loop waits at most this long for a poll to end
MAX_CLAIM_ERRORS = 5


def claim_cycle(app: App, claim_errors: list[str]) -> CycleReport:
    """The daemon's claim loop (monitor.daemon.run_daemon) until nothing is due nor in flight,
    then one delivery round. `App._claim` is what `App.feed_pipeline` runs; it is called here
    for the futures, so the outcomes can be reported. A claim that fails is logged and tried
    again after a wait, as the daemon does (its tick is longer), up to MAX_CLAIM_ERRORS."""
    pipeline = app.pipeline
    futures: list[Future[SourceOutcome]] = []
    while True:
        room = pipeline.capacity()
        try:
            claimed = [f for _, f in (app._claim(limit=room) if room else [])]
        except Exception as exc:
            claim_errors.append(f"claim: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            if len(claim_errors) >= MAX_CLAIM_ERRORS:
                raise
            time.sleep(ROOM_WAIT)
            continue
        futures += claimed
        if not claimed and not pipeline.in_flight():
            break
        if not claimed or not pipeline.capacity():
            pipeline.wait_for_room(ROOM_WAIT)
    report = CycleReport(sources=[f.result() for f in futures])
    report.delivery = app.deliver()
    return report


def run(app: App, mode: str, offset: list[timedelta], command: dict[str, Any]) -> dict[str, Any]:
    offset[0] = timedelta(seconds=float(command["offset"]))
    time.sleep(max(float(command.get("start_at", 0.0)) - time.time(), 0.0))
    start = time.time()
    claim_errors: list[str] = []
    try:
        report = app.run_cycle() if mode == "cycle" else claim_cycle(app, claim_errors)
    except Exception as exc:
        return {"start": start, "end": time.time(), "error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(limit=8)}
    end = time.time()
    errors = [f"{o.source}: {o.error}" for o in report.sources if o.error]
    return {
        "start": start,
        "end": end,
        "polled": [o.source for o in report.sources],
        "articles": report.new_articles,
        "alerts": report.alerts,
        "failed": len(errors),
        "errors": claim_errors[:5] + errors[:5],
        "sent": report.delivery.sent,
        "lost": report.delivery.lost,
        "delivery_errors": report.delivery.errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--mode", choices=("cycle", "claim"), default="cycle")
    args = parser.parse_args()
    # The protocol keeps this process's stdout; anything else writing to fd 1 (this process or
    # its workers) goes to stderr instead.
    out: TextIO = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    offset = [timedelta(0)]

    def clock() -> datetime:
        return datetime.now(UTC) + offset[0]

    app = App(load_config(args.config, ROOT / "rules"), clock=clock)
    try:
        warm_up(app)
        out.write(json.dumps({"ready": True, "pid": os.getpid(), "owner": app.owner}) + "\n")
        for line in sys.stdin:
            if line.strip():
                out.write(json.dumps(run(app, args.mode, offset, json.loads(line))) + "\n")
    finally:
        app.close()
        out.close()


if __name__ == "__main__":
    main()
