"""Real PostgreSQL for tests: a fresh database per use, dropped afterwards.

The server is found at $MONITOR_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/
postgres). When it does not answer, tests skip with the reason, unless MONITOR_REQUIRE_POSTGRES=1
(set by CI), in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    url = os.environ.get("MONITOR_TEST_POSTGRES_URL", DEFAULT_URL)
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create a uniquely named database and yield its URL; drop it afterwards."""
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        reason = f"PostgreSQL not reachable at {make_url(admin_url()).render_as_string()}: {type(exc).__name__}"
        if os.environ.get("MONITOR_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (MONITOR_REQUIRE_POSTGRES=1 makes PostgreSQL mandatory)")
        pytest.skip(reason + " (set MONITOR_REQUIRE_POSTGRES=1 to make this a failure)")
    url = make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
