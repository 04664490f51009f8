"""`monitor sources add | import | export` through click, on a temporary feeds.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from monitor.cli import _register_groups, cli
from tests.sources.test_opml import FEEDLY

RULES = Path(__file__).resolve().parents[2] / "rules"

CONFIG = """\
# my feeds
settings:
  storage_dir: storage

sources:
  # wires first
  - name: wire
    url: https://wire.example/rss
    tags: [wires]

channels: {}
"""


def _run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    _register_groups()
    config = ["--config", str(tmp_path / "feeds.yaml"), "--rules", str(RULES)]
    result = CliRunner().invoke(cli, [*config, "sources", *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_prints_then_writes_keeping_comments(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(CONFIG)
    (tmp_path / "subs.opml").write_bytes(FEEDLY)
    code, out, err = _run(tmp_path, "import", str(tmp_path / "subs.opml"))
    assert code == 0, err
    assert "- name: sahel-daily" in out and "skipped ftp://old.example/feed" in err
    assert (tmp_path / "feeds.yaml").read_text() == CONFIG
    code, out, err = _run(tmp_path, "import", str(tmp_path / "subs.opml"), "--write")
    assert code == 0, err
    text = (tmp_path / "feeds.yaml").read_text()
    assert "# my feeds" in text and "  # wires first" in text
    names = [s["name"] for s in yaml.safe_load(text)["sources"]]
    assert names == [
        "wire",
        "sahel-daily",
        "journal-du-mali",
        "agence-sahel-presse",
        "ungrouped-reliefweb-updates",
    ]


def test_export_then_import_round_trip(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(CONFIG)
    (tmp_path / "subs.opml").write_bytes(FEEDLY)
    assert _run(tmp_path, "import", str(tmp_path / "subs.opml"), "--write")[0] == 0
    code, _, err = _run(tmp_path, "export", "--format", "opml", "-o", str(tmp_path / "out.opml"))
    assert code == 0, err
    before = {
        (s["url"], tuple(s.get("tags", ())))
        for s in yaml.safe_load((tmp_path / "feeds.yaml").read_text())["sources"]
    }
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "feeds.yaml").write_text("sources: []\n")
    code, _, err = _run(fresh, "import", str(tmp_path / "out.opml"), "--write")
    assert code == 0, err
    after = {
        (s["url"], tuple(s.get("tags", ())))
        for s in yaml.safe_load((fresh / "feeds.yaml").read_text())["sources"]
    }
    assert after == before
