"""Fixtures for the operations tests: a migrated database and helpers that write what the
pipeline records (poll outcomes on `sources`, first-seen entries), at times a test chooses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from monitor.config.models import SourceSpec
from monitor.delivery.tables import operator_notices
from monitor.storage import sources_repo
from monitor.storage.db import open_database
from monitor.storage.tables import seen_entries, sources

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_database(db_url)
    yield eng
    eng.dispose()


class History:
    """Writes a source's history as the pipeline would: polls, failures, new entries."""

    def __init__(self, engine: Engine, name: str = "wire") -> None:
        self.engine = engine
        self.spec = SourceSpec(name=name, url=f"https://{name}.example.org/feed?token=s3cret")
        self._n = 0
        with engine.begin() as conn:
            sources_repo.sync_sources(conn, [self.spec])

    def entries(self, at: datetime, count: int = 1) -> None:
        with self.engine.begin() as conn:
            for i in range(count):
                self._n += 1
                conn.execute(
                    seen_entries.insert().values(
                        source=self.spec.name,
                        entry_key=f"e{self._n}",
                        first_seen_at=at + timedelta(seconds=i),
                    )
                )
        self.success(at)

    def success(self, at: datetime) -> None:
        self._set(at, last_success_at=at, error_count=0, last_error=None)

    def failure(self, at: datetime, error: str = "connect: refused") -> None:
        self._set(at, error_count=sources.c.error_count + 1, last_error=error)

    def _set(self, at: datetime, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sources)
                .where(sources.c.name == self.spec.name)
                .values(last_polled_at=at, next_poll_at=at + timedelta(minutes=15), **values)
            )


def notices(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(operator_notices.c.title).order_by(operator_notices.c.id)).scalars()
        )


def notice_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(operator_notices)).scalar() or 0)
