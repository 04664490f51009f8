"""What one worker does to one article, run in-process: extraction, fallbacks, language, matches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.rules import RuleEngine, RuleSet
from monitor.work import SourceMeta, WorkJob
from monitor.work.article import Tools, bounded_url, process
from tests.work.conftest import ARTICLE

SOURCE = SourceMeta("daily", language="fr", tags=("africa",))


@pytest.fixture
def tools(ruleset: RuleSet) -> Tools:
    return Tools(rules=RuleEngine.compile(ruleset))


def test_page_is_extracted_and_matched(tools: Tools) -> None:
    job = WorkJob(SOURCE, "https://daily.example/a/1?utm_source=x", ARTICLE, title="Feed title")
    result = process(job, tools)
    assert result.skipped is None
    assert result.extraction == "trafilatura", result.notes
    assert result.title == "Floods bring cholera to the delta"
    assert "aid convoys" in result.text and "Contact | Jobs" not in result.text
    assert result.language == "en"  # the page's own declaration beats the source's hint
    assert result.canonical_url == "https://daily.example/a/1"
    assert [m.rule for m in result.matches] == ["floods"]
    passages = result.matches[0].passages()
    assert passages and {"field", "text", "highlights", "clause"} <= set(passages[0])


def test_feed_content_is_the_fallback(tools: Tools) -> None:
    published = datetime(2026, 3, 1, tzinfo=UTC)
    job = WorkJob(
        SOURCE,
        "https://daily.example/a/2",
        None,
        title="<b>Floods</b> in the delta",
        summary="<p>Short summary.</p>",
        content="<p>Floods in the delta</p><p>Cholera cases rise.</p>",
        published=published,
        author="Desk",
    )
    result = process(job, tools)
    assert result.extraction == "feed"
    assert result.title == "Floods in the delta"
    assert result.text == "Cholera cases rise."  # the repeated title paragraph is dropped
    assert result.published == published and result.author == "Desk"
    assert result.language == "fr"  # nothing declared, no detector: the source's hint
    assert [m.rule for m in result.matches] == ["floods"]


def test_detector_runs_only_when_nothing_is_declared(ruleset: RuleSet) -> None:
    seen: list[tuple[str, str]] = []

    def detect(title: str, text: str) -> str | None:
        seen.append((title, text))
        return "sw"

    tools = Tools(rules=RuleEngine.compile(ruleset), detect_language=detect)
    bare = WorkJob(SOURCE, "https://daily.example/a/3", None, title="Mafuriko", content="Habari")
    assert process(bare, tools).language == "sw"
    declared = WorkJob(SOURCE, "https://daily.example/a/4", None, title="T", language="en-GB")
    assert process(declared, tools).language == "en-gb"
    assert seen == [("Mafuriko", "Habari")]


def test_backlog_jobs_are_not_matched_and_fingerprints_are_computed(ruleset: RuleSet) -> None:
    tools = Tools(
        rules=RuleEngine.compile(ruleset),
        prepare_fingerprints=lambda title, text: (len(title), len(text)),
    )
    job = WorkJob(SOURCE, "https://daily.example/a/5", ARTICLE, match=False)
    result = process(job, tools)
    assert result.matches == ()
    assert result.fingerprints == (len(result.title), len(result.text))


def test_unparseable_page_falls_back_to_the_feed(tools: Tools) -> None:
    job = WorkJob(SOURCE, "https://daily.example/a/6", b"\x00\xff" * 10, content="Floods text")
    result = process(job, tools)
    assert result.skipped is None and result.text == "Floods text"


def test_long_urls_stay_unique_within_the_column() -> None:
    a, b = "https://x.example/" + "a" * 3000, "https://x.example/" + "a" * 2999 + "b"
    assert len(bounded_url(a)) == 2000 and bounded_url(a) != bounded_url(b)
