"""The work stage: extraction, language, rule matching and fingerprints, off the fetch loop.

`WorkStage.submit(item) -> Future[Worked]` is all the flow knows. `PoolWork` adapts the worker
processes of `monitor.work` (each article within its CPU/memory budget) to it, and applies the
field bounds to what the workers extracted before it is stored.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from monitor.bounds import FieldBounds, clip, clip_url
from monitor.pipeline.model import MatchOut, Worked, WorkItem
from monitor.pipeline.stages import OLDEST
from monitor.storage.articles_repo import NewArticle
from monitor.work import FeedJob, FeedResult, WorkJob, WorkPool, WorkResult


class WorkStage(Protocol):
    def submit(self, item: WorkItem) -> Future[Worked]: ...

    def parse_feed(self, job: FeedJob) -> Future[FeedResult]: ...

    def close(self) -> None: ...


def to_worked(item: WorkItem, result: WorkResult, bounds: FieldBounds) -> Worked:
    """The article to store from a worker's result, every field within its bound."""
    if result.skipped is not None:
        return Worked(None, skipped=result.skipped)
    entry = item.entry
    article = NewArticle(
        source=item.source.name,
        guid=entry.guid,
        url=clip_url(result.url, bounds.url),
        canonical_url=result.canonical_url,
        title=clip(result.title, bounds.title),
        text=clip(result.text, bounds.text),
        author=clip(result.author, bounds.author) if result.author else None,
        site_name=clip(result.site_name, bounds.author) if result.site_name else None,
        language=result.language,
        published_at=result.published,
        fetched_at=OLDEST,  # set by the write stage
        extraction=result.extraction,
        tags=item.source.tags,
    )
    matches = tuple(MatchOut(m.rule, m.data) for m in result.matches)
    return Worked(article, matches, result.fingerprints)


class PoolWork:
    """`monitor.work.WorkPool` behind the stage interface."""

    def __init__(self, pool: WorkPool, bounds: FieldBounds) -> None:
        self._pool = pool
        self._bounds = bounds

    def submit(self, item: WorkItem) -> Future[Worked]:
        job = WorkJob.from_entry(
            item.source, item.entry, item.page, item.page_url, match=item.alerting
        )
        inner = self._pool.submit(job)
        outer: Future[Worked] = Future()

        def done(future: Future[WorkResult]) -> None:
            if future.cancelled():
                outer.cancel()
            elif (error := future.exception()) is not None:
                outer.set_exception(error)
            else:
                try:
                    outer.set_result(to_worked(item, future.result(), self._bounds))
                except Exception as exc:  # noqa: BLE001 - handed to the caller
                    outer.set_exception(exc)

        inner.add_done_callback(done)
        return outer

    def parse_feed(self, job: FeedJob) -> Future[FeedResult]:
        return self._pool.submit_feed(job)

    def close(self) -> None:
        self._pool.close()
