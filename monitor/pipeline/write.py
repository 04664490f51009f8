"""The write stage: ONE thread that commits many articles per transaction (group commit).

Jobs arrive on a queue from the fetch loop. The writer takes the first, then whatever else is
waiting (up to `batch`), and runs them in one transaction. An article is stored, grouped,
matched and enqueued all or nothing: the batch is first tried whole (no savepoints, the usual
case); if anything fails it is rolled back and replayed with each job in its own SAVEPOINT, so a
failing article is rolled back alone and reported to its caller while the rest commit. Results
are handed back only after the commit, so a caller never acts on data that a failed commit lost.
Poll outcomes (success, failure, skip, disabling) go through the same thread, after the articles
they follow.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine

from monitor.bounds import FieldBounds
from monitor.dedup import DedupInput, DedupResult
from monitor.delivery.outbox import enqueue
from monitor.pipeline.model import AlertRoute, Worked, Written
from monitor.pipeline.stages import alert_payload
from monitor.storage import articles_repo as repo
from monitor.storage.direct import Given, Read, deferring, flush

log = logging.getLogger(__name__)
T = TypeVar("T")


class Grouper(Protocol):
    """What the write stage needs from deduplication (see monitor.dedup.DedupIndex)."""

    def lock(self, conn: Connection) -> None: ...

    def classify(
        self, conn: Connection, item: DedupInput, given: Given | None = None
    ) -> DedupResult: ...

    def reads_ahead(self, conn: Connection, item: DedupInput) -> list[Read]: ...

    def story_ids(self, conn: Connection, story_id: int) -> list[int]: ...


@dataclass(frozen=True)
class WriteContext:
    grouper: Grouper
    route_for: Callable[[str], AlertRoute]
    clock: Callable[[], datetime]
    bounds: FieldBounds


def _dedup_input(article_id: int, article: repo.NewArticle, prepared: Any) -> DedupInput:
    return DedupInput(
        article_id=article_id,
        title=article.title,
        text=article.text,
        language=article.language,
        published=article.published_at,
        fetched=article.fetched_at,
        source=article.source,
        fingerprints=prepared,
        fresh=True,
    )


def group(
    conn: Connection,
    grouper: Grouper,
    article_id: int,
    article: repo.NewArticle,
    prepared: Any,
    given: Given | None = None,
) -> DedupResult:
    """Copy and story of a new article. The dedup index always records it (so it is listed as
    "also carried by"); an identical canonical URL overrides the index's decision. `given`:
    the rows of the canonical-URL look-up and of the index's `reads_ahead`, when `ingest` ran
    them before storing the article."""
    # read before classifying (the index's writes are deferred, sent in one round trip, until
    # the next read), but under the classification lock, so that it sees what another replica
    # committed before us
    grouper.lock(conn)
    same_url = repo.find_by_canonical_url(conn, article.canonical_url, article_id, given)
    decision = grouper.classify(conn, _dedup_input(article_id, article, prepared), given)
    if decision.copy_of is None and same_url is not None and same_url["story_id"] is not None:
        original = int(same_url["copy_of"] or same_url["id"])
        return DedupResult(
            copy_of=original,
            story_id=int(same_url["story_id"]),
            reason="same-url",
            regrouped=decision.regrouped,
        )
    return decision


def ingest(
    conn: Connection, ctx: WriteContext, key: str, worked: Worked, *, alerting: bool
) -> Written:
    """Store, group, match and enqueue one article on `conn` (inside the caller's savepoint).

    The look-ups grouping starts with (the canonical URL, the dedup index's `reads_ahead`) do
    not depend on the article's id: on PostgreSQL they run under the classification lock just
    before the article is stored, in the same round trip (`store_new_after`); on SQLite they
    are made when needed, as before."""
    now = ctx.clock()
    assert worked.article is not None
    article = replace(worked.article, fetched_at=now)
    ctx.grouper.lock(conn)
    reads = (
        [
            repo.canonical_url_read(article.canonical_url),
            *ctx.grouper.reads_ahead(conn, _dedup_input(0, article, worked.fingerprints)),
        ]
        if conn.dialect.name == "postgresql"  # SQLite: nothing to save (store_new_after)
        else []
    )
    article_id, given = repo.store_new_after(conn, article, key, now, reads)
    if article_id is None:
        return Written(stored=False)  # another replica took this entry
    grouping = group(conn, ctx.grouper, article_id, article, worked.fingerprints, given)
    repo.set_grouping(conn, article_id, story_id=grouping.story_id, copy_of=grouping.copy_of)
    for earlier in grouping.regrouped:  # a fuller original arrived, or two stories merged
        repo.set_grouping(
            conn, earlier.article_id, story_id=earlier.story_id, copy_of=earlier.copy_of
        )
    written = Written(stored=True)
    if not alerting or not worked.matches:
        return written
    joined = ctx.grouper.story_ids(conn, grouping.story_id)  # stories merged into this one
    for match in worked.matches:
        repo.record_match(conn, article_id, match.rule, match.json, now)
        route = ctx.route_for(match.rule)
        alert_id = enqueue(
            conn,
            rule=match.rule,
            story_id=grouping.story_id,
            article_id=article_id,
            payload=alert_payload(article, match.json, ctx.bounds),
            channels=route.channels,
            now=now,
            delivery=route.delivery,
            joined_stories=joined,
        )
        if alert_id is not None:
            written.alerts.append((match.rule, grouping.story_id))
    return written


@dataclass
class _Job:
    run: Callable[[Connection], Any]
    future: Future[Any]


class Writer:
    """The single writer thread; `submit` returns a future resolved after the commit."""

    def __init__(
        self,
        engine: Engine,
        *,
        batch: int = 200,
        on_commit: Callable[[], None],
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        """`on_commit` reports progress; `after_commit` is housekeeping run on this thread after
        each commit, once the batch's results are handed back (e.g. `pgstats.StatsKeeper`)."""
        self._engine = engine
        self._batch = batch
        self._on_commit = on_commit
        self._after_commit = after_commit
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="writer", daemon=True)
        self.committed = 0
        self._thread.start()

    def submit(self, run: Callable[[Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put(_Job(run, future))
        return future

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float | None = None) -> None:
        """Finish the jobs already queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _take(self) -> tuple[list[_Job], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        jobs = [first]
        while len(jobs) < self._batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _loop(self) -> None:
        stop = False
        while not stop:
            jobs, stop = self._take()
            if jobs:
                self._commit([j for j in jobs if j.future.set_running_or_notify_cancel()])

    def _commit(self, jobs: list[_Job]) -> None:
        started = time.monotonic()
        results = self._all_at_once(jobs)
        if results is None:
            results = self._one_savepoint_each(jobs)
        if results is None:
            return
        self.committed += len(jobs)
        seconds = time.monotonic() - started
        log.debug("write batch committed jobs=%d seconds=%.3f", len(jobs), seconds)
        self._on_commit()
        for job, value, error in results:
            if error is None:
                job.future.set_result(value)
            else:
                job.future.set_exception(error)
        if self._after_commit is not None:
            self._after_commit()

    def _all_at_once(self, jobs: list[_Job]) -> list[tuple[_Job, Any, Exception | None]] | None:
        """The usual case: every job succeeds, one transaction, no savepoints (two round trips
        fewer per article on PostgreSQL). None if anything failed: all of it was rolled back."""
        if len(jobs) == 1:
            return None
        try:
            with self._engine.begin() as conn, deferring(conn):
                # a job's deferred writes go out with the next job's first read (one round
                # trip): an error in them fails the batch, replayed below job by job
                return [(job, job.run(conn), None) for job in jobs]
        except Exception:  # noqa: BLE001 - retried job by job below
            return None

    def _one_savepoint_each(
        self, jobs: list[_Job]
    ) -> list[tuple[_Job, Any, Exception | None]] | None:
        """Each job in its own SAVEPOINT: a failing one is rolled back alone and reported."""
        results: list[tuple[_Job, Any, Exception | None]] = []
        try:
            with self._engine.begin() as conn, deferring(conn):
                for job in jobs:
                    try:
                        with conn.begin_nested():
                            results.append((job, _run(job, conn), None))
                    except Exception as exc:  # noqa: BLE001 - one bad article is rolled back alone
                        results.append((job, None, exc))
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is stored
            log.warning("write batch failed articles=%d error=%s", len(jobs), exc)
            for job in jobs:
                job.future.set_exception(exc)
            return None
        return results


def _run(job: _Job, conn: Connection) -> Any:
    """The job, and the writes it deferred (sent before the job counts as done, so that an
    error in them is the job's own)."""
    value = job.run(conn)
    flush(conn)
    return value
