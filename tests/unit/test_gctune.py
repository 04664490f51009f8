"""The collector settings of long-running processes (checked in a child: they are global)."""

from __future__ import annotations

import subprocess
import sys


def test_tune_freezes_start_up_objects_and_widens_the_young_generation() -> None:
    code = (
        "import gc; from monitor import gctune; gctune.tune(); "
        "print(gc.get_threshold(), gc.get_freeze_count() > 1000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert " ".join(out) == "(20000, 20, 50) True"
