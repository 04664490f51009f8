"""Helpers for end-to-end tests: write a config pointing at loopback servers, run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from monitor.corpus import CorpusArticle, parse_article

ROOT = Path(__file__).resolve().parents[2]
NEWS = ROOT / "tests" / "fixtures" / "news" / "articles"
HOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # test-only key (base64)


def fixture_article(name: str) -> CorpusArticle:
    path = NEWS / f"{name}.md"
    return parse_article(path.read_text(encoding="utf-8"), path=path)


def write_config(
    tmp_path: Path,
    sources: list[dict[str, Any]],
    channels: dict[str, Any],
    settings: dict[str, Any] | None = None,
) -> Path:
    config = {
        "settings": {
            "storage_dir": str(tmp_path / "storage"),
            "default_channels": list(channels),
            "extract_workers": 2,
            "fetch": {"allow_networks": ["127.0.0.0/8"], "deadline": "20s"},
            **(settings or {}),
        },
        "sources": sources,
        "channels": channels,
    }
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def monitor(
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run `python -m monitor --config CONFIG --rules ROOT/rules ARGS...` in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "--rules",
            str(ROOT / "rules"),
            *args,
        ],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=config.parent,
        check=False,
    )


def export(config: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    result = monitor(config, "export", env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]
