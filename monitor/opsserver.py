"""The operations endpoints of `monitor run`: /metrics, /healthz and /readyz on one address.

A small threaded HTTP server from the standard library, on its own thread, serving:

- `/metrics`: the application's registry in the Prometheus text format;
- `/healthz`: 200 while the pipeline is moving (the daemon's heartbeat is fresh), else 503;
- `/readyz`: 200 when the database answers and its schema is at the newest migration, else 503.

Each check is a callable returning a `Check`, so the daemon decides what "moving" means and tests
can pass their own. Responses carry no secrets: a failed check says what failed, not the URL.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import MonitorError
from monitor.opsconfig import OpsSettings, split_listen
from monitor.storage.db import READ_ONLY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    ok: bool
    message: str


def heartbeat_check(
    path: Path, max_age: timedelta, clock: Callable[[], datetime]
) -> Callable[[], Check]:
    """Healthy while the daemon's heartbeat (written by each poll tick: `{"at", "stalled",
    "in_flight"}`, or a bare timestamp) is younger than `max_age` and does not say stalled."""

    def check() -> Check:
        try:
            raw = path.read_text(encoding="utf-8").strip()
            beat = json.loads(raw) if raw.startswith("{") else {"at": raw}
            at = datetime.fromisoformat(str(beat["at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return Check(False, "no heartbeat yet")
        age = (clock() - at).total_seconds()
        if age > max_age.total_seconds():
            return Check(False, f"heartbeat is {int(age)}s old: the scheduler is not running")
        if beat.get("stalled"):
            return Check(False, f"pipeline stalled: {beat.get('in_flight', 0)} polls in flight")
        return Check(True, f"heartbeat {int(age)}s ago")

    return check


def database_check(engine: Engine) -> Callable[[], Check]:
    """Ready when the database answers and is at the newest schema revision."""
    from monitor.storage.db import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())

    def check() -> Check:
        try:
            with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
                conn.execute(text("SELECT 1"))
                current = set(MigrationContext.configure(conn).get_current_heads())
        except SQLAlchemyError as exc:
            return Check(False, f"database unreachable: {type(exc).__name__}")
        if current != heads:
            return Check(False, f"schema at {sorted(current)}, expected {sorted(heads)}")
        return Check(True, "database ready")

    return check


class OpsServer:
    """Serves the three endpoints on `host:port` (port 0 picks a free one) until `close()`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        registry: CollectorRegistry,
        liveness: Callable[[], Check],
        readiness: Callable[[], Check],
    ) -> None:
        routes: dict[str, Callable[[], tuple[int, str, bytes]]] = {
            "/metrics": lambda: (200, CONTENT_TYPE_LATEST, generate_latest(registry)),
            "/healthz": lambda: _status(liveness()),
            "/readyz": lambda: _status(readiness()),
        }
        self._server = ThreadingHTTPServer((host, port), _handler(routes))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ops-server", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> OpsServer:
        self._thread.start()
        host, port = self.address
        log.info("ops endpoints listening url=http://%s:%d/metrics", host, port)
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _status(check: Check) -> tuple[int, str, bytes]:
    return (200 if check.ok else 503), "text/plain; charset=utf-8", (check.message + "\n").encode()


def _handler(
    routes: dict[str, Callable[[], tuple[int, str, bytes]]],
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "news-monitor"

        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                status, ctype, body = 404, "text/plain; charset=utf-8", b"not found\n"
            else:
                try:
                    status, ctype, body = route()
                except Exception:  # the endpoint answers 500 and the daemon goes on
                    log.exception("ops endpoint failed url=%s", self.path[:200])
                    status, ctype, body = 500, "text/plain; charset=utf-8", b"internal error\n"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("ops request %s", format % args)

    return Handler


def serve_ops(
    settings: OpsSettings, registry: CollectorRegistry, engine: Engine, heartbeat: Path
) -> OpsServer | None:
    """Start the endpoints when `settings.listen` is set (the daemon's one call); else None."""
    if settings.listen is None:
        return None
    host, port = split_listen(settings.listen)
    try:
        server = OpsServer(
            host,
            port,
            registry=registry,
            liveness=heartbeat_check(heartbeat, settings.heartbeat_max_age, _now),
            readiness=database_check(engine),
        )
    except OSError as exc:
        raise MonitorError(
            f"settings.ops.listen: cannot listen on {settings.listen}: {exc.strerror or exc}"
        ) from exc
    return server.start()


def _now() -> datetime:
    return datetime.now(UTC)  # the heartbeat file holds wall-clock time
