"""Adding sources to feeds.yaml without losing its comments or layout.

The new entries are rendered as YAML and inserted as text after the last entry of the
top-level `sources:` block list, indented like the entries already there. The result is parsed
again and checked (the old sources unchanged, the new ones valid) before it replaces the file
atomically; a `sources:` written in flow style (`[...]`) is refused rather than rewritten.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from monitor.config.models import SourceSpec
from monitor.errors import MonitorError

_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_SOURCES = re.compile(r"^sources\s*:\s*(#.*)?$")
_EMPTY = re.compile(r"^sources\s*:\s*(\[\s*\]|null|~)?\s*(#.*)?$")


class FeedsFileError(MonitorError):
    """feeds.yaml could not be edited safely."""


def render(entries: Sequence[dict[str, Any]], indent: str = "  ") -> str:
    text = yaml.safe_dump(list(entries), sort_keys=False, allow_unicode=True, width=100)
    return "".join(indent + line if line.strip() else line for line in text.splitlines(True))


def insert_sources(text: str, entries: Sequence[dict[str, Any]]) -> str:
    """`text` with `entries` appended to its top-level `sources:` list."""
    lines = text.splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if line.startswith("sources")), None)
    if start is None or not _EMPTY.match(lines[start].rstrip("\n")):
        if start is not None:
            raise FeedsFileError(
                "feeds.yaml: `sources:` is not a block list; add the entry by hand"
            )
        return "".join(lines) + "\nsources:\n" + render(entries)
    if not _SOURCES.match(lines[start].rstrip("\n")):
        lines[start] = "sources:\n"
    last, indent = start, "  "
    for i in range(start + 1, len(lines)):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _TOP_KEY.match(line):
            break
        if stripped.startswith("- ") and last == start:
            indent = line[: len(line) - len(line.lstrip())]
        last = i
    return "".join(lines[: last + 1]) + render(entries, indent) + "".join(lines[last + 1 :])


def _sources(text: str) -> list[Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise FeedsFileError(f"feeds.yaml would not parse after the edit: {exc}") from None
    found = data.get("sources") if isinstance(data, dict) else None
    return list(found or [])


def add_sources(path: Path, entries: Sequence[dict[str, Any]]) -> None:
    """Append `entries` to the file's sources, keeping everything else byte for byte."""
    for entry in entries:
        SourceSpec.model_validate(entry)
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    updated = insert_sources(original, entries)
    before, after = _sources(original), _sources(updated)
    if after != before + list(entries):
        raise FeedsFileError("feeds.yaml: could not place the new sources safely; add them by hand")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".feeds-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(updated)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
