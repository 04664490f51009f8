"""JSON logs: one object per line, stable keys, message keys as fields, no secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from monitor.errors import MonitorError
from monitor.logs import JsonFormatter, message_fields, setup_logging


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("monitor.pipeline", logging.WARNING, __file__, 1, message, args, None)


def test_message_keys_become_fields() -> None:
    event, fields = message_fields("poll failed source=wire error=timeout: no answer in 60 s")
    assert event == "poll failed"
    assert fields == {"source": "wire", "error": "timeout: no answer in 60 s"}


def test_each_line_is_one_json_object_with_stable_keys() -> None:
    line = JsonFormatter().format(
        record("alert queued rule=%s story=%s url=%s msg=%s", "coups", 7, "https://x.org/a?id=1", "x")
    )
    assert "\n" not in line
    data = json.loads(line)
    assert {"ts", "level", "logger", "msg", "event"} <= data.keys()
    assert data["level"] == "WARNING" and data["logger"] == "monitor.pipeline"
    assert data["rule"] == "coups" and data["story"] == "7" and data["url"] == "https://x.org/a?id=1"
    assert data["msg"].startswith("alert queued rule=coups")  # msg= in a message never overrides


def test_credentials_in_urls_never_reach_the_line() -> None:
    line = JsonFormatter().format(
        record("poll failed source=wire url=%s", "https://user:hunter22@x.org/feed?api_key=abc123&p=2")
    )
    assert "hunter22" not in line and "abc123" not in line
    assert json.loads(line)["url"] == "https://x.org/feed?api_key=<secret>&p=2"


def test_tracebacks_stay_inside_the_line() -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        rec = record("poll crashed source=wire")
        rec.exc_info = sys.exc_info()
    data = json.loads(JsonFormatter().format(rec))
    assert "ValueError" in data["exc"]


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_the_format_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITOR_LOG_FORMAT", "json")
    setup_logging("INFO")
    logging.getLogger("monitor.test").info("daemon started sources=%d", 3)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["sources"] == "3"
    monkeypatch.setenv("MONITOR_LOG_FORMAT", "yaml")
    with pytest.raises(MonitorError):
        setup_logging("INFO")
