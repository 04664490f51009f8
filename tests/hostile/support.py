"""The hostile world: a scriptable loopback server, bombs, and the CLI run under a memory limit.

Every case runs the real `monitor` command in a subprocess whose address space is capped
(`RLIMIT_AS`, 1 GiB by default), so a regression that would swap the machine fails instead.
Outcomes are read from the real SQLite database the command wrote.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1 << 30
ENV = {"MALLOC_ARENA_MAX": "2", "PYTHONFAULTHANDLER": "1"}


@dataclass
class Ran:
    """A finished command: exit code and output."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# The limit is set by a tiny launcher that then exec()s the command (no preexec_fn: the test
# process has server threads running, and forking a threaded process to run Python is unsafe).
_LAUNCHER = (
    "import os, resource, sys; limit = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


def limited(command: list[str], memory: int = MEMORY_LIMIT) -> list[str]:
    """`command` (arguments to the Python interpreter) run under RLIMIT_AS = `memory`."""
    return [sys.executable, "-c", _LAUNCHER, str(memory), *command]


def run_monitor(
    config: Path,
    *args: str,
    rules: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    memory: int = MEMORY_LIMIT,
) -> Ran:
    """`python -m monitor --config CONFIG [--rules RULES] ARGS` under RLIMIT_AS."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update(ENV)
    full_env.update(env or {})
    command = ["-m", "monitor", "--config", str(config)]
    command += ["--rules", str(rules or ROOT / "rules"), *args]
    done = subprocess.run(
        limited(command, memory),
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=config.parent,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def write_config(
    tmp_path: Path,
    sources: list[dict[str, Any]],
    channels: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> Path:
    fetch = {"allow_networks": ["127.0.0.0/8"], "deadline": "4s", "read_timeout": "2s"}
    fetch.update((settings or {}).pop("fetch", {}))
    config = {
        "settings": {
            "storage_dir": str(tmp_path / "storage"),
            "jitter": 0,
            "fetch": fetch,
            **(settings or {}),
        },
        "sources": sources,
        "channels": channels or {},
    }
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def source_rows(config: Path) -> dict[str, dict[str, Any]]:
    """The `sources` table of the SQLite database next to `config`, by name."""
    with sqlite3.connect(config.parent / "storage" / "monitor.db") as conn:
        conn.row_factory = sqlite3.Row
        return {row["name"]: dict(row) for row in conn.execute("SELECT * FROM sources")}


def article_titles(config: Path) -> list[str]:
    with sqlite3.connect(config.parent / "storage" / "monitor.db") as conn:
        return [row[0] for row in conn.execute("SELECT title FROM articles")]


def assert_no_traceback(ran: Ran) -> None:
    assert "Traceback" not in ran.output, ran.output[-3000:]


# --- the server ------------------------------------------------------------------------------


@dataclass
class Reply:
    """What a path answers: status, headers, body; or a behaviour (`trickle`, `silent`)."""

    status: int = 200
    body: bytes = b""
    ctype: str = "application/rss+xml"
    headers: dict[str, str] = field(default_factory=dict)
    behaviour: str = ""  # "" | "trickle" | "silent"
    delay: float = 0.0  # seconds before answering


class HostileServer:
    """Serves scripted replies at http://127.0.0.1:PORT/<path>; logs when each was answered."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.answered: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def hits(self, path: str) -> int:
        with self._lock:
            return len(self.answered.get("/" + path.lstrip("/"), []))

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                reply = server.routes.get(path, Reply(404, b"not found", "text/plain"))
                with contextlib.suppress(OSError):  # the client gave up (deadline): the point
                    self._answer(reply)
                with server._lock:
                    server.answered.setdefault(path, []).append(time.time())

            def _answer(self, reply: Reply) -> None:
                if reply.delay:
                    server._stop.wait(reply.delay)
                if reply.behaviour == "silent":
                    server._stop.wait(30)
                    return
                self.send_response(reply.status)
                self.send_header("content-type", reply.ctype)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.behaviour == "trickle":
                    self.end_headers()
                    for _ in range(300):
                        if server._stop.wait(0.1):
                            return
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    return
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        return Handler


# --- documents -------------------------------------------------------------------------------


def rss(items: list[dict[str, str]], title: str = "hostile") -> bytes:
    """An RSS 2.0 feed; each item's values are inserted as given (callers escape)."""
    parts = [f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}"
             "</title><link>http://127.0.0.1/</link><description>d</description>"]
    for item in items:
        parts.append("<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in item.items()) + "</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def _flushed_zeros() -> bytes:
    """Raw deflate data for 1 MiB of zeros ending in a full flush: it references nothing before
    it, so repeating it gives a valid stream of many MiB from a small body."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)


def compression_bomb(encoding: str, megabytes: int = 2048) -> bytes:
    """A gzip or deflate (zlib) body that expands to `megabytes` MiB of zeros (~1 KB per MiB).

    The trailer's checksum is left zero: a decoder only reaches it after expanding everything,
    which under the suite's memory limit already fails.
    """
    body = _flushed_zeros() * megabytes + b"\x03\x00"  # an empty final block ends the stream
    if encoding == "gzip":
        header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
        return header + body + struct.pack("<II", 0, (megabytes << 20) & 0xFFFFFFFF)
    return b"\x78\xda" + body + struct.pack(">I", 0)


def check_bomb(body: bytes, encoding: str) -> int:
    """Bytes the first 64 MiB of a bomb expands to (used by the suite's own self-check)."""
    wbits = 31 if encoding == "gzip" else 15
    out = zlib.decompressobj(wbits).decompress(body, 64 << 20)
    return len(out)

