"""Helpers shared by the rule-language tests: paths and a file-reading CLI host."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from monitor.rules import Document, RuleSet, load_rules
from monitor.rules.sources import document_from_file

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO.parent / "shared" / "seeds"  # shared/ sits beside the checkout, in CI too


class FileHost:
    """A RulesHost that reads rules and articles from files; the archive is a list."""

    def __init__(self, rules_dir: Path, archive: Iterable[Document] = ()) -> None:
        self.rules_dir = rules_dir
        self.documents = list(archive)

    def ruleset(self) -> RuleSet:
        return load_rules(self.rules_dir)

    def document_from(self, file_or_url: str) -> Document:
        return document_from_file(Path(file_or_url))

    def archive(self, since: datetime) -> Iterable[Document]:
        return [d for d in self.documents if d.published is None or d.published >= since]
