"""The ops endpoints over a real loopback socket: status codes follow the checks."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from monitor.metrics import Metrics
from monitor.opsserver import Check, OpsServer, database_check, heartbeat_check
from tests.ops.conftest import T0


def test_endpoints_answer_with_the_checks_status(engine: Engine, tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    now = [T0]
    metrics = Metrics()
    metrics.poll_done("ok")
    server = OpsServer(
        "127.0.0.1",
        0,
        registry=metrics.registry,
        liveness=heartbeat_check(beat, timedelta(minutes=3), lambda: now[0]),
        readiness=database_check(engine),
    ).start()
    host, port = server.address
    base = f"http://{host}:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/healthz").status_code == 503  # no heartbeat yet
            beat.write_text(T0.isoformat(), encoding="utf-8")
            assert http.get("/healthz").status_code == 200
            now[0] = T0 + timedelta(minutes=5)
            late = http.get("/healthz")
            assert late.status_code == 503 and "old" in late.text
            beat.write_text(json.dumps({"at": now[0].isoformat(), "stalled": True}), "utf-8")
            stalled = http.get("/healthz")
            assert stalled.status_code == 503 and "stalled" in stalled.text
            beat.write_text(json.dumps({"at": now[0].isoformat(), "in_flight": 2}), "utf-8")
            assert http.get("/healthz").status_code == 200
            assert http.get("/readyz").status_code == 200
            scraped = http.get("/metrics")
            assert scraped.status_code == 200
            names = {f.name for f in text_string_to_metric_families(scraped.text)}
            assert "monitor_polls" in names
            assert http.get("/nothing").status_code == 404
            with engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = '0003_delivery'"))
            assert http.get("/readyz").status_code == 503
    finally:
        server.close()


def test_a_failing_check_is_a_500_not_a_dead_server() -> None:
    def broken() -> Check:
        raise RuntimeError("boom")

    server = OpsServer(
        "127.0.0.1", 0, registry=Metrics().registry, liveness=broken,
        readiness=lambda: Check(True, "ok"),
    ).start()
    host, port = server.address
    try:
        assert httpx.get(f"http://{host}:{port}/healthz").status_code == 500
        assert httpx.get(f"http://{host}:{port}/readyz").status_code == 200
    finally:
        server.close()
