"""Configuration loading: every problem reported at once, with file, key path and value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from monitor.config.loader import load_config
from monitor.errors import ConfigError
from tests.e2e.harness import ROOT, monitor

BROKEN = """
settings:
  default_interval: often
  fetch:
    max_redirects: 12
sources:
  - name: good
    url: https://example.org/feed.xml
  - name: good
    url: ftp://example.org/feed
  - name: local
    url: http://2130706433/feed
  - url: https://example.org/other
    intervall: 5m
channels:
  mail:
    type: email
    host: smtp.example.org
    from: not-an-address
    to: [a@example.org]
    password: hunter2-literal
  pager:
    type: carrier-pigeon
unknown_key: 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, BROKEN), ROOT / "rules", environ={})
    problems = {(p.path, p.message.split(";")[0]) for p in caught.value.problems}
    paths = {p.path for p in caught.value.problems}
    assert {
        "settings.default_interval",
        "settings.fetch.max_redirects",
        "sources[1].name",
        "sources[1].url",
        "sources[2].url",
        "sources[3].name",
        "sources[3].intervall",
        "channels.mail.from",
        "channels.mail.password",
        "channels.pager.type",
        "unknown_key",
    } <= paths, problems
    assert all(p.file.endswith("feeds.yaml") for p in caught.value.problems)
    local = next(p for p in caught.value.problems if p.path == "sources[2].url")
    assert "127.0.0.1" in local.message and "allow_networks" in local.message
    assert "hunter2" not in str(caught.value)


def test_secret_from_env_and_missing_env(tmp_path: Path) -> None:
    text = """
channels:
  hook:
    type: webhook
    url: {env: HOOK_URL}
"""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), ROOT / "rules", environ={})
    assert "HOOK_URL" in str(caught.value)
    config = load_config(
        write(tmp_path, text),
        ROOT / "rules",
        environ={"HOOK_URL": "https://hooks.example.org/t/SECRET123"},
    )
    from monitor.app import App

    config = replace(config, settings=config.settings.model_copy(update={"storage_dir": str(tmp_path)}))
    app = App(config)
    try:
        assert "SECRET123" not in repr(app.notifiers) + repr(config)
    finally:
        app.close()


def test_shipped_configuration_is_valid() -> None:
    config = load_config(ROOT / "feeds.yaml", ROOT / "rules", environ={})
    assert config.sources and config.ruleset.rules
    assert "console" in config.channels


def test_check_config_cli_lists_problems_and_fails(tmp_path: Path) -> None:
    result = monitor(write(tmp_path, BROKEN), "check-config")
    assert result.returncode == 2
    assert "configuration problems" in result.stderr
    assert "sources[2].url" in result.stderr and "channels.pager.type" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_database_url_from_environment(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "sources: []\n"),
        ROOT / "rules",
        environ={"DATABASE_URL": "postgresql://u@db/monitor"},
    )
    assert config.database_url == "postgresql://u@db/monitor"
    default = load_config(write(tmp_path, "sources: []\n"), ROOT / "rules", environ={})
    assert default.database_url == f"sqlite:///{tmp_path / 'storage' / 'monitor.db'}"


def test_duplicate_keys_negative_values_and_nested_secrets_are_refused(tmp_path: Path) -> None:
    text = """
settings:
  default_interval: -5
  fetch:
    max_bytes: -1
    deadline: 0
channels:
  mail:
    type: webhook
    url: https://hooks.example.org/a
  hook:
    type: webhook
    url: https://hooks.example.org/b
    secrets: [{env: X, value: hunter2-nested}]
"""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), ROOT / "rules", environ={"X": "whsec_abc"})
    paths = {p.path for p in caught.value.problems}
    assert {"settings.default_interval", "settings.fetch.max_bytes", "settings.fetch.deadline"} <= paths
    assert "hunter2" not in str(caught.value)
    duplicated = text.replace("  hook:\n", "  mail:\n")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, duplicated), ROOT / "rules", environ={"X": "whsec_abc"})
    assert "duplicate key 'mail'" in str(caught.value)


def test_alias_bomb_is_refused_with_its_line(tmp_path: Path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "\n".join(lines) + "\n"), ROOT / "rules", environ={})
    (problem,) = caught.value.problems
    assert problem.path == "line 5" and "aliases expand" in problem.message


def test_small_aliases_recursion_and_depth(tmp_path: Path) -> None:
    shared = """
settings:
  default_channels: &chans [console]
  delivery: {operator_channels: *chans}
"""
    assert load_config(write(tmp_path, shared), ROOT / "rules", environ={}).settings.delivery
    with pytest.raises(ConfigError, match="recursive alias"):
        load_config(write(tmp_path, "sources: &s [*s]\n"), ROOT / "rules", environ={})
    deep = "sources: " + "[" * 500 + "]" * 500 + "\n"
    with pytest.raises(ConfigError, match="nested more than 100 levels"):
        load_config(write(tmp_path, deep), ROOT / "rules", environ={})


def test_file_size_limit_is_checked_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_MAX_CONFIG_BYTES", "1000")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "sources: []\n" + "#" * 2000 + "\n"), ROOT / "rules", environ={})
    assert "limited to 1,000 bytes" in str(caught.value)
    assert "MONITOR_MAX_CONFIG_BYTES" in str(caught.value)


def test_one_invalid_setting_does_not_cascade(tmp_path: Path) -> None:
    sources = "".join(
        f"  - {{name: local{i}, url: 'http://127.0.0.1:8{i:03d}/feed'}}\n" for i in range(20)
    )
    text = f"""
settings:
  jitter: lots
  default_channels: [mail]
  fetch: {{allow_networks: [127.0.0.0/8]}}
sources:
{sources}
channels:
  mail: {{type: email, host: h, from: nobody, to: [a@example.org]}}
"""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), ROOT / "rules", environ={})
    assert sorted(p.path for p in caught.value.problems) == ["channels.mail.from", "settings.jitter"]


def test_channel_timeouts_accept_durations(tmp_path: Path) -> None:
    text = """
channels:
  mail: {type: email, host: h, from: a@b.org, to: [c@d.org], timeout: 3s}
  hook: {type: webhook, url: 'https://hooks.example.org/x', timeout: 1.5m}
  plain: {type: webhook, url: 'https://hooks.example.org/y', timeout: 7}
"""
    config = load_config(write(tmp_path, text), ROOT / "rules", environ={})
    timeouts = {name: config.channels[name].options.timeout for name in ("mail", "hook", "plain")}
    assert timeouts == {"mail": 3.0, "hook": 90.0, "plain": 7.0}
    with pytest.raises(ConfigError, match=r"channels\.mail\.timeout"):
        load_config(write(tmp_path, text.replace("3s", "10m")), ROOT / "rules", environ={})


def test_rule_settings_in_feeds_yaml_reach_the_rule_loader(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "wide.yaml").write_text(
        "rules:\n  - name: wide\n    query: 'alpha NEAR/500 beta'\n", encoding="utf-8"
    )
    assert load_config(write(tmp_path, "sources: []\n"), rules, environ={}).ruleset is not None
    narrow = "settings:\n  rules:\n    max_near_distance: 100\nsources: []\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, narrow), rules, environ={})
    assert "max_near_distance" in str(caught.value)
