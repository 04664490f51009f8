"""feeds.yaml edits keep comments and layout, and are checked before they replace the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.sources.feedsfile import FeedsFileError, add_sources, insert_sources

SHIPPED = Path(__file__).resolve().parents[2] / "feeds.yaml"
NEW = {
    "name": "sahel-daily",
    "url": "https://sahel-daily.example/category/security/",
    "kind": "page",
}


def test_shipped_file_keeps_every_comment(tmp_path: Path) -> None:
    target = tmp_path / "feeds.yaml"
    target.write_text(SHIPPED.read_text())
    add_sources(target, [NEW])
    before, after = SHIPPED.read_text().splitlines(), target.read_text().splitlines()
    assert [line for line in after if line not in before] == [
        "  - name: sahel-daily",
        "    url: https://sahel-daily.example/category/security/",
        "    kind: page",
    ]
    assert [line for line in before if line not in after] == []
    assert yaml.safe_load(target.read_text())["sources"][-1] == NEW


@pytest.mark.parametrize(
    ("text", "expected_tail"),
    [
        (
            "settings: {}\nsources:\n- name: a\n  url: https://a.example/\n# end\n",
            "- name: sahel-daily",
        ),
        ("sources: []   # none yet\nchannels: {}\n", "  - name: sahel-daily"),
        ("settings: {}\n", "  - name: sahel-daily"),
    ],
    ids=["column-zero-items", "empty-flow-list", "no-sources-key"],
)
def test_insertion_follows_the_file_layout(text: str, expected_tail: str) -> None:
    updated = insert_sources(text, [NEW])
    assert expected_tail in updated.splitlines()
    assert yaml.safe_load(updated)["sources"][-1] == NEW
    assert all(line in updated.splitlines() for line in text.splitlines() if line.startswith("#"))


def test_flow_style_sources_are_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "feeds.yaml"
    target.write_text("sources: [{name: a, url: 'https://a.example/'}]\n")
    with pytest.raises(FeedsFileError):
        add_sources(target, [NEW])
    assert target.read_text() == "sources: [{name: a, url: 'https://a.example/'}]\n"
