"""Extracts an article's text and metadata from HTML with trafilatura (never its downloader).

`extract_html` is a pure function of the bytes, meant to run in a worker process: trafilatura is
CPU-bound and holds the GIL, so the pipeline spreads pages over a process pool (`ExtractorPool`)
and bounds each with a timeout. Paragraphs come out separated by a blank line.
"""

from __future__ import annotations

import functools
import re
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from typing import Any

MAX_TREE_SIZE = 200_000
_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


@dataclass(frozen=True)
class Extracted:
    """What extraction found; `text` empty means it failed."""

    title: str = ""
    text: str = ""
    published: datetime | None = None
    author: str | None = None
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@functools.cache
def _config() -> Any:
    """trafilatura's configuration, read once per process (reading it costs as much as an
    extraction)."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def extract_html(html: bytes, url: str) -> Extracted:
    """Run trafilatura on `html`; returns an empty Extracted when nothing usable was found."""
    import trafilatura  # imported here: it is heavy and only needed in worker processes
    import trafilatura.settings

    lang = _LANG.search(html[:4096])
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        config=_config(),
    )
    if not isinstance(document, trafilatura.settings.Document) or not document.text:
        return Extracted(language=lang.group(1).decode().lower() if lang else None)
    text = "\n\n".join(line.strip() for line in str(document.text).splitlines() if line.strip())
    return Extracted(
        title=str(document.title or ""),
        text=text,
        published=_date(document.date),
        author=document.author or None,
        site_name=document.sitename or None,
        language=(document.language or (lang.group(1).decode() if lang else None) or None),
        canonical_url=document.url or None,
    )


class ExtractorPool:
    """A process pool running `extract_html`, with a per-page timeout."""

    def __init__(self, workers: int, timeout: float = 60.0) -> None:
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        self._timeout = timeout

    def submit(self, html: bytes, url: str) -> Future[Extracted]:
        return self._pool.submit(extract_html, html, url)

    def result(self, future: Future[Extracted]) -> Extracted:
        """The extraction, or an empty one if it failed or took too long."""
        try:
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            future.cancel()
            return Extracted()
        except Exception:  # noqa: BLE001 - a crash in trafilatura must not stop the cycle
            return Extracted()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
