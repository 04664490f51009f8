"""Alembic environment: runs migrations on the engine handed over by `monitor.storage.db`."""

from __future__ import annotations

from alembic import context

import monitor.dedup.tables
import monitor.delivery.tables
import monitor.health.tables  # noqa: F401 - register every table on the shared metadata
from monitor.storage.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
