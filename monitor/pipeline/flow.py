"""The pipeline, visible in one place: stages joined by bounded queues.

    claim (App) ─► FETCH feed ─► READ (parse) ─► follow ─► cap ─► select new
                     │ one asyncio loop, global + per-host limits          │
                     ▼                                                     ▼
              per new entry: FETCH page ─► WORK (processes) ─► WRITE (one thread, group commit)
                                                                           │
                                                 record the poll's outcome ┘ (same writer)

`Pipeline.submit` starts one coroutine per claimed source on the fetch loop; `poll` below chains
the stages for that source. Feed and page requests of all sources interleave on the loop. Each
hand-off is bounded: sources in flight (the claim limit), pages held for work (`work_slots`),
articles waiting for the writer (`write_slots`). A poll that fails is recorded with its error and
backoff; if even that cannot be recorded the lease is released (and it is short anyway).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from random import Random
from typing import Any, TypeVar

import httpx
from sqlalchemy import Connection, Engine

from monitor.bounds import bound_entry
from monitor.config.models import Settings, SourceSpec
from monitor.errors import FetchError, MonitorError
from monitor.fetch.aclient import AsyncFetcher
from monitor.fetch.loop import new_fetch_loop
from monitor.fetch.response import FetchResult
from monitor.health import PageFacts, observe_fetch, page_facts
from monitor.parse.feeds import FeedEntry
from monitor.pipeline import outcomes
from monitor.pipeline.leases import LeaseKeeper
from monitor.pipeline.model import (
    AlertRoute,
    NoMetrics,
    PipelineMetrics,
    SourceOutcome,
    Worked,
    WorkItem,
    Written,
)
from monitor.pipeline.stages import EntryError, error_kind, keep_newest, next_poll, select_new
from monitor.pipeline.work import WorkStage
from monitor.pipeline.write import Grouper, WriteContext, Writer, ingest
from monitor.sources import SourceRead, SourceReader, reader_for
from monitor.sources.feed import FeedReader
from monitor.storage import sources_repo
from monitor.storage.db import READ_ONLY
from monitor.storage.pgstats import StatsKeeper
from monitor.storage.sources_repo import SourceState
from monitor.work import FeedJob

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class PipelineDeps:
    """The collaborators of the pipeline, built by the composition root."""

    engine: Engine
    work: WorkStage
    grouper: Grouper
    settings: Settings
    clock: Callable[[], datetime]
    route_for: Callable[[str], AlertRoute]
    owner: str
    fetch_transport: httpx.AsyncBaseTransport | None = None
    reader_for: Callable[[SourceSpec], SourceReader] = reader_for
    metrics: PipelineMetrics = field(default_factory=NoMetrics)
    rng: Random = field(default_factory=Random)


GIL_SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005


def _shorten_gil_switch() -> None:
    """Hand the GIL over sooner. The writer releases it for every SQL statement (~20 per
    article) and then waits to get it back while the fetch loop runs Python; with CPython's
    default 5 ms switch interval that wait, not the work, set the writer's pace (the loopback
    farm: about 1.5x the articles per second at 0.5 ms). Only ever shortened."""
    if sys.getswitchinterval() > GIL_SWITCH_INTERVAL:
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)


class Pipeline:
    """Runs polls on the fetch loop; thread-safe `submit`, `drain` and `close`."""

    def __init__(self, deps: PipelineDeps, *, max_sources: int | None = None) -> None:
        self.deps = deps
        _shorten_gil_switch()
        fetch = deps.settings.fetch
        self.max_sources = max_sources or 4 * fetch.concurrency
        self._work_slots_n = 2 * fetch.concurrency
        self._write_slots_n = 1000
        self._lock = threading.Lock()
        self._polls: dict[str, Future[SourceOutcome]] = {}
        self._recording: set[str] = set()  # outcome being written: the lease goes with it
        self._room = threading.Event()  # set when a poll ends (room for another claim)
        self._last_progress = time.monotonic()
        self._loop = new_fetch_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fetch", daemon=True)
        self._db = ThreadPoolExecutor(max_workers=2, thread_name_prefix="db-read")
        self._parse = ThreadPoolExecutor(max_workers=2, thread_name_prefix="parse")
        stats = StatsKeeper(deps.engine) if deps.engine.dialect.name == "postgresql" else None
        self.writer = Writer(
            deps.engine,
            on_commit=self._progress,
            after_commit=stats.maybe_refresh if stats is not None else None,
        )
        self._write_ctx = WriteContext(
            deps.grouper, deps.route_for, deps.clock, deps.settings.bounds
        )
        self._leases = LeaseKeeper(deps.engine, deps.owner, self._leased, deps.clock)
        self._thread.start()
        self._call(self._setup())
        self._leases.start()

    # --- thread-safe control -----------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _setup(self) -> None:
        fetch = self.deps.settings.fetch
        self._fetcher = AsyncFetcher(fetch, self.deps.fetch_transport)
        self._work_slots = asyncio.Semaphore(self._work_slots_n)
        self._write_slots = asyncio.Semaphore(self._write_slots_n)

    def in_flight(self) -> set[str]:
        with self._lock:
            return set(self._polls)

    def _leased(self) -> set[str]:
        """The sources whose leases must be kept alive: in flight, outcome not yet written."""
        with self._lock:
            return set(self._polls) - self._recording

    def capacity(self) -> int:
        with self._lock:
            return max(self.max_sources - len(self._polls), 0)

    def submit(
        self, claimed: Sequence[tuple[SourceSpec, SourceState]]
    ) -> list[Future[SourceOutcome]]:
        futures = []
        for spec, state in claimed:
            future = asyncio.run_coroutine_threadsafe(self.poll(spec, state), self._loop)
            with self._lock:
                self._polls[spec.name] = future
            future.add_done_callback(partial(self._forget, spec.name))
            futures.append(future)
        return futures

    def _forget(self, name: str, future: Future[SourceOutcome]) -> None:
        with self._lock:
            if self._polls.get(name) is future:
                del self._polls[name]
                self._recording.discard(name)
        self._room.set()

    def wait_for_room(self, timeout: float) -> None:
        """Block until a poll ends (or `timeout` seconds pass)."""
        self._room.wait(timeout)
        self._room.clear()

    def _progress(self) -> None:
        self._last_progress = time.monotonic()

    def stalled(self, bound: float) -> bool:
        """True if work is queued but nothing progressed for `bound` seconds."""
        with self._lock:
            busy = bool(self._polls)
        return busy and time.monotonic() - self._last_progress > bound

    def drain(self, timeout: float) -> list[str]:
        """Wait up to `timeout` s for in-flight polls; cancel the rest and release their leases.
        Returns the names cancelled."""
        deadline = time.monotonic() + timeout
        with self._lock:
            running = list(self._polls.values())
        for future in running:
            try:
                future.result(timeout=max(deadline - time.monotonic(), 0))
            except Exception:  # noqa: BLE001, S112 - outcome already logged; we only wait
                continue
        cancelled = sorted(self.in_flight())
        for name in cancelled:
            with self._lock:
                poll = self._polls.get(name)
            if poll is not None:
                poll.cancel()
        if cancelled:
            log.warning("drain timed out, polls cancelled sources=%s", ",".join(cancelled))
            self._release(cancelled)
        return cancelled

    def _release(self, names: Sequence[str]) -> None:
        try:
            with self.deps.engine.begin() as conn:
                sources_repo.release(conn, names, owner=self.deps.owner)
        except Exception as exc:  # noqa: BLE001 - short leases expire on their own
            log.error("lease release failed sources=%s error=%s", ",".join(names), exc)

    def close(self, timeout: float = 30.0) -> None:
        self.drain(timeout)
        self._leases.stop()
        self._call(self._fetcher.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
        self.writer.close(timeout=30)
        self._db.shutdown(wait=True)
        self._parse.shutdown(wait=True)
        self.deps.work.close()

    # --- helpers run on the loop ------------------------------------------------------

    async def _record(self, name: str, run: Callable[[Connection], T]) -> T:
        """Write a poll's outcome (which releases its lease)."""
        with self._lock:
            self._recording.add(name)
        return await self._write(run)

    async def _write(self, run: Callable[[Connection], T]) -> T:
        async with self._write_slots:
            return await asyncio.wrap_future(self.writer.submit(run))

    async def _read(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self.deps.engine.connect() as conn:
                conn.execution_options(**{READ_ONLY: True})  # never waits for the writer
                return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._db, run)

    async def _fetch(self, url: str, kind: str, **validators: str | None) -> FetchResult:
        started = time.monotonic()
        try:
            return await self._fetcher.get(url, again=kind == "feed", **validators)
        finally:
            self.deps.metrics.fetch_observed(time.monotonic() - started, kind)
            self._progress()

    async def _parse_doc(
        self, reader: SourceReader, spec: SourceSpec, doc: FetchResult
    ) -> SourceRead:
        return await asyncio.get_running_loop().run_in_executor(self._parse, reader.read, spec, doc)

    # --- the chain ----------------------------------------------------------------------

    async def poll(self, source: SourceSpec, state: SourceState) -> SourceOutcome:
        """Run every stage for one source and record the outcome in its state row."""
        outcome = SourceOutcome(source.name)
        try:
            try:
                await self._poll(source, state, outcome)
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, shown, retried
                await self._failed(source, state, exc, outcome)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the outcome itself could not be recorded
            log.error("poll outcome not recorded source=%s error=%s", source.name, exc)
            outcome.error = outcome.error or f"internal: {exc}"
            await asyncio.get_running_loop().run_in_executor(self._db, self._release, [source.name])
        self.deps.metrics.poll_done(outcome.status)
        log.info(
            "poll done source=%s new=%d alerts=%d skipped=%d status=%s",
            source.name,
            outcome.new_articles,
            outcome.alerts,
            outcome.skipped,
            outcome.status,
        )
        return outcome

    async def _poll(self, source: SourceSpec, state: SourceState, outcome: SourceOutcome) -> None:
        reader = self.deps.reader_for(source)
        if isinstance(reader, FeedReader):
            urls = reader.start_urls(source)  # the feed's URL: no thread hop
        else:  # start_urls may read robots.txt (a blocking fetch): never on the event loop
            urls = await asyncio.get_running_loop().run_in_executor(
                self._parse, reader.start_urls, source
            )
        conditional = getattr(reader, "conditional", True)
        first = await self._fetch(
            urls[0],
            "feed",
            etag=state.etag if conditional else None,
            last_modified=state.last_modified if conditional else None,
        )
        if first.not_modified:
            outcome.not_modified = True
            await self._succeeded(source, first, 0, None)
            return
        if isinstance(reader, FeedReader):  # parsed in a worker process, within its budget
            entries, note = await self._read_feed(source, first)
        else:
            facts = await asyncio.get_running_loop().run_in_executor(
                self._parse, page_facts, first.body, first.content_type
            )  # O (issue 10): parked/placeholder detection; CPU off the writer
            await self._observe(source, facts)
            entries, note = await self._gather_entries(reader, source, first, urls[1:])
        entries, cut = keep_newest(entries, self.deps.settings.max_feed_entries)
        entries = [bound_entry(e, self.deps.settings.bounds) for e in entries]
        if cut:
            kept = f"kept the newest {len(entries)} of {len(entries) + cut} entries"
            note = f"{note}; {kept}" if note else kept
            log.warning("feed cut source=%s kept=%d cut=%d", source.name, len(entries), cut)
        new = await self._read(lambda conn: select_new(conn, source.name, entries))
        backlog = source.alert_backlog
        alerting = state.backlog_seen or (
            backlog if backlog is not None else self.deps.settings.alert_backlog
        )
        full = source.fetch_full and alerting
        results = await asyncio.gather(
            *(self._article(source, entry, alerting, full, outcome) for entry in new),
            return_exceptions=True,
        )
        failed = [
            f"{entry.link}: {type(r).__name__}: {r}"[:500]
            for entry, r in zip(new, results, strict=True)
            if isinstance(r, BaseException)
        ]
        for entry, r in zip(new, results, strict=True):
            if isinstance(r, asyncio.CancelledError):
                raise r
            if isinstance(r, BaseException):
                log.warning("entry failed source=%s url=%s error=%s", source.name, entry.link, r)
        if failed:
            raise EntryError(f"{len(failed)} of {len(new)} entries failed; first: {failed[0]}")
        await self._succeeded(source, first, cut, note)

    async def _observe(self, source: SourceSpec, facts: PageFacts) -> None:
        await self._write(
            partial(observe_fetch, source=source.name, facts=facts, now=self.deps.clock())
        )

    async def _read_feed(
        self, source: SourceSpec, doc: FetchResult
    ) -> tuple[list[FeedEntry], str | None]:
        """A feed document, parsed with its response's facts by a worker process (a feed that
        is no feed, or over the work budget, fails the poll after its facts are recorded)."""
        job = FeedJob(doc.url, doc.body, doc.content_type)
        parsed = await asyncio.wrap_future(self.deps.work.parse_feed(job))
        self._progress()
        facts = parsed.facts
        if facts is None:  # stopped by the budget: the facts are taken here (bounded work)
            facts = await asyncio.get_running_loop().run_in_executor(
                self._parse, page_facts, doc.body, doc.content_type
            )
        await self._observe(source, facts)
        feed, _ = parsed.parsed()
        read = FeedReader.entries_of(feed)
        return list(read.entries), read.note

    async def _gather_entries(
        self, reader: SourceReader, source: SourceSpec, first: FetchResult, more: Sequence[str]
    ) -> tuple[list[FeedEntry], str | None]:
        """Entries of the start documents and of the documents they lead to, breadth-first,
        at most `max_follow` follow-ups per poll. A follow-up that fails is logged and skipped."""
        read = await self._parse_doc(reader, source, first)
        entries, notes = list(read.entries), [read.note] if read.note else []
        seen = {first.url, *more}
        level = [*more, *read.follow]
        budget = getattr(source, "max_follow", 10)
        while level and budget > 0:
            batch = [u for u in dict.fromkeys(level) if u not in seen or u in more][:budget]
            more = ()
            budget -= len(batch)
            seen.update(batch)
            docs = await asyncio.gather(
                *(self._fetch(u, "follow") for u in batch), return_exceptions=True
            )
            level = []
            for url, doc in zip(batch, docs, strict=True):
                if isinstance(doc, FetchError):
                    log.warning(
                        "follow fetch failed source=%s url=%s error=%s", source.name, url, doc
                    )
                    continue
                if isinstance(doc, BaseException):
                    raise doc
                sub = await self._parse_doc(reader, source, doc)
                entries.extend(sub.entries)
                level.extend(u for u in sub.follow if u not in seen)
                if sub.note:
                    notes.append(sub.note)
        return entries, "; ".join(notes)[:2000] or None

    async def _article(
        self,
        source: SourceSpec,
        entry: FeedEntry,
        alerting: bool,
        full: bool,
        outcome: SourceOutcome,
    ) -> None:
        async with self._work_slots:
            page, url = None, entry.link
            if full:
                try:
                    fetched = await self._fetch(entry.link, "page")
                    page, url = fetched.body, fetched.url
                except FetchError as exc:
                    log.warning(
                        "article fetch failed source=%s url=%s error=%s",
                        source.name,
                        entry.link,
                        exc,
                    )
            item = WorkItem(source, entry, page, url, alerting)  # entry already bounded
            worked: Worked = await asyncio.wrap_future(self.deps.work.submit(item))
            self._progress()
        if worked.skipped is not None or worked.article is None:
            reason = f"{entry.link}: {worked.skipped or 'no article'}"
            log.warning(
                "article skipped source=%s url=%s error=%s", source.name, entry.link, reason
            )
            skipped = partial(outcomes.skip, source.name, entry.key, reason, self.deps.clock())
            await self._write(skipped)
            outcome.skipped += 1
            self.deps.metrics.article_skipped(outcomes.reason_kind(worked.skipped))
            return
        written: Written = await self._write(
            partial(ingest, ctx=self._write_ctx, key=entry.key, worked=worked, alerting=alerting)
        )
        if written.stored:
            outcome.new_articles += 1
            outcome.alerts += len(written.alerts)
            self.deps.metrics.articles_ingested(1)
        for rule, story in written.alerts:
            log.info("alert queued rule=%s story=%s url=%s", rule, story, url)
            self.deps.metrics.alert_queued(rule, self.deps.route_for(rule).channels)

    async def _succeeded(
        self, source: SourceSpec, first: FetchResult, cut: int, note: str | None
    ) -> None:
        now = self.deps.clock()  # the END of the poll
        when = next_poll(self.deps.settings, self.deps.rng, source, now)
        await self._record(source.name, outcomes.success(source, first, cut, note, now, when))

    async def _failed(
        self, source: SourceSpec, state: SourceState, exc: Exception, outcome: SourceOutcome
    ) -> None:
        outcome.error = f"{error_kind(exc)}: {exc}"
        if isinstance(exc, MonitorError):
            log.warning("poll failed source=%s error=%s", source.name, exc)
        else:
            log.error("poll failed source=%s error=%s", source.name, exc, exc_info=exc)
        now = self.deps.clock()  # backoff counts from the END of the poll
        job = outcomes.failure(self.deps.settings, self.deps.rng, source, state, exc, now)
        await self._record(source.name, job)
