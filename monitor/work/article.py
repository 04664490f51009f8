"""What a worker does with one article: extract, choose title/text/language, match, fingerprint.

`process` is a pure function of the job and the worker's collaborators, so it runs the same in a
worker process and in a test. The feed's content is the fallback when the page gives no text.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from monitor.extract.article import Extracted, extract_html
from monitor.extract.fallback import html_to_text
from monitor.fetch.urls import canonical_url
from monitor.rules import Document, RuleEngine
from monitor.work.model import MatchedRule, WorkJob, WorkResult
from monitor.work.optional import DetectLanguage, PrepareFingerprints

MAX_URL = 2000  # the size of the URL columns
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})?$")


@dataclass(frozen=True)
class Tools:
    """A worker's collaborators, built once per worker process."""

    rules: RuleEngine
    detect_language: DetectLanguage | None = None
    prepare_fingerprints: PrepareFingerprints | None = None


def language_code(value: object) -> str | None:
    """A plausible language code from untrusted metadata, lower-cased; else None."""
    if isinstance(value, str) and _LANG.match(value.strip()):
        return value.strip().lower().replace("_", "-")
    return None


def bounded_url(url: str) -> str:
    """URLs longer than the column keep their start and a hash of the whole, staying unique."""
    if len(url) <= MAX_URL:
        return url
    return url[: MAX_URL - 65] + "#" + hashlib.sha256(url.encode()).hexdigest()


def _extract(job: WorkJob, notes: list[str]) -> Extracted:
    if job.page is None:
        return Extracted()
    try:
        return extract_html(job.page, job.url)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a trafilatura failure falls back to the feed
        notes.append(f"extraction failed: {type(exc).__name__}: {exc}"[:300])
        return Extracted()


def _language(job: WorkJob, ex: Extracted, title: str, text: str, tools: Tools) -> str | None:
    declared = language_code(ex.language) or language_code(job.language)
    if declared:
        return declared
    if tools.detect_language is not None:
        detected = language_code(tools.detect_language(title, text))
        if detected:
            return detected
    return job.source.language


def process(job: WorkJob, tools: Tools) -> WorkResult:
    """The article of `job`, matched against every rule when `job.match` is set."""
    started = time.process_time()
    notes: list[str] = []
    ex = _extract(job, notes)
    title = ex.title or html_to_text(job.title) or job.url
    text = ex.text or html_to_text(job.content) or html_to_text(job.summary)
    paragraphs = text.split("\n\n")
    if paragraphs and paragraphs[0].strip() == title.strip():
        text = "\n\n".join(paragraphs[1:])
    language = _language(job, ex, title, text, tools)
    published = job.published or ex.published
    matches: tuple[MatchedRule, ...] = ()
    if job.match:
        document = Document(
            title=title,
            body=text,
            language=language,
            source=job.source.name,
            tags=frozenset(job.source.tags),
            url=job.url,
            published=published,
        )
        matches = tuple(MatchedRule(m.rule, m.to_json()) for m in tools.rules.match(document))
    fingerprints = (
        tools.prepare_fingerprints(title, text) if tools.prepare_fingerprints is not None else None
    )
    return WorkResult(
        url=job.url,
        title=title,
        text=text,
        language=language,
        published=published,
        author=ex.author or job.author,
        site_name=ex.site_name,
        canonical_url=bounded_url(canonical_url(ex.canonical_url or job.url)),
        extraction="trafilatura" if ex.text else "feed",
        matches=matches,
        fingerprints=fingerprints,
        cpu_seconds=time.process_time() - started,
        notes=tuple(notes),
    )
