"""A parent process for the orphan test: starts a WorkPool, keeps one worker busy, prints the
worker pids as JSON and then waits to be killed.

    python -m tests.work.orphan_harness RULES_DIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from monitor.config.models import Settings
from monitor.rules import load_rules
from monitor.work import SourceMeta, WorkJob, WorkPool, WorkSettings
from tests.work.conftest import dense_page


def main() -> None:
    settings = Settings(extract_workers=2, work=WorkSettings(cpu_seconds=600, wall_seconds=600))
    pool = WorkPool(load_rules(Path(sys.argv[1])), settings)
    assert pool.wait_ready(120)
    pool.submit(WorkJob(SourceMeta("hostile"), "http://hostile.test/", dense_page(60_000)))
    time.sleep(1.0)  # the job is in a worker now
    print(json.dumps({"workers": pool.pids()}), flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
