"""Crash safety: SIGKILL the delivery runner at random instants; no alert may be lost."""

from __future__ import annotations

import pytest

from tests.delivery.sigkill_harness import run


@pytest.mark.slow
def test_sigkill_loses_no_alert() -> None:
    figures = run(alerts=120, kills=10, seed=11)
    print(figures)
    assert figures.lost == 0
    assert figures.keys_mismatched == 0, "a re-send always carries the same idempotency key"
