"""Collaborators other helpers provide, looked up by name so the work stage runs with or without
them: `monitor.lang.detect_language(title, text)` and
`monitor.dedup.prepare_fingerprints(title, text)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, cast

DetectLanguage = Callable[[str, str], "str | None"]
PrepareFingerprints = Callable[[str, str], Any]


def _lookup(module: str, name: str) -> Any:
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # the module exists but one of its imports is missing
            raise
        return None
    return getattr(loaded, name, None)


def detect_language() -> DetectLanguage | None:
    return cast("DetectLanguage | None", _lookup("monitor.lang", "detect_language"))


def prepare_fingerprints() -> PrepareFingerprints | None:
    return cast("PrepareFingerprints | None", _lookup("monitor.dedup", "prepare_fingerprints"))
