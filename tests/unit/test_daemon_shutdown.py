"""The daemon's shutdown (monitor.daemon): a failing step is logged and the others still run."""

from __future__ import annotations

import logging

import pytest

from monitor.daemon import _shut_down


def test_every_step_runs_and_a_failure_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    def broken() -> None:
        ran.append("fetch")
        raise RuntimeError("transport already closed")

    steps = [("claim", lambda: ran.append("claim")), ("fetch", broken),
             ("app", lambda: ran.append("app"))]
    with caplog.at_level(logging.ERROR, logger="monitor.daemon"):
        assert _shut_down(steps) is False
    assert ran == ["claim", "fetch", "app"]
    (record,) = caplog.records
    assert record.getMessage() == "shutdown step failed step=fetch"
    assert record.exc_info is not None and "transport already closed" in str(record.exc_info[1])


def test_a_clean_shutdown_says_so() -> None:
    assert _shut_down([("a", lambda: None), ("b", lambda: 1)]) is True
