"""Fixtures for the work stage: a one-rule RuleSet, settings with chosen budgets, pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# Imported at collection, outside each test's warnings-as-errors filter: trafilatura's first import
# may warn that urllib3's optional SOCKS support is missing, which would fail the extraction.
import trafilatura  # noqa: F401

from monitor.config.models import Settings
from monitor.rules import RuleSet, load_rules
from monitor.work import WorkSettings

RULES = """\
rules:
  - name: floods
    query: 'flood* AND cholera'
"""

ARTICLE = (
    b"<html lang='en'><head><title>Floods | Daily</title></head><body>"
    b"<nav>Home | World | Sport</nav><article><h1>Floods bring cholera to the delta</h1>"
    + b"".join(
        b"<p>Health workers in the delta reported %d new cholera cases after the floods, "
        b"officials said on Monday, as aid convoys reached the cut-off villages.</p>" % i
        for i in range(12)
    )
    + b"</article><footer>Contact | Jobs | Privacy</footer></body></html>"
)


def dense_page(paragraphs: int = 20_000) -> bytes:
    """A hostile page: many small blocks, which trafilatura takes seconds of CPU to read."""
    blocks = b"".join(
        b"<div><p>Floods and cholera in the <b>delta</b> %d, officials said.</p></div>" % i
        for i in range(paragraphs)
    )
    return b"<html><body><article><h1>Flood</h1>" + blocks + b"</article></body></html>"


@pytest.fixture(scope="session")
def ruleset(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    directory: Path = tmp_path_factory.mktemp("rules")
    (directory / "floods.yaml").write_text(RULES, encoding="utf-8")
    return load_rules(directory)


@pytest.fixture
def settings() -> Callable[..., Settings]:
    def make(workers: int = 2, **budget: object) -> Settings:
        return Settings(extract_workers=workers, work=WorkSettings.model_validate(budget))

    return make
