"""Hostile configuration through the CLI: bombs, huge files, deep nesting, cascades, durations.

Each case runs `monitor check-config` (or another command) in a subprocess under a 1 GiB
address-space limit and asserts one clear error (file and line or rule named) and no traceback.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.errors import unexpected_error_message
from tests.hostile.support import Ran, assert_no_traceback, run_monitor, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def alias_bomb(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghijklmnop"[:levels]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def rules_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def a_rule(query: str, concepts: dict[str, str] | None = None, name: str = "deep") -> str:
    lines = []
    if concepts:
        lines.append("concepts:")
        lines += [f"  {key}: '{value}'" for key, value in concepts.items()]
    lines += ["rules:", f"  - name: {name}", f"    query: '{query}'"]
    return "\n".join(lines) + "\n"


def test_alias_bomb_in_feeds_yaml_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("sources: []\n" + alias_bomb(), encoding="utf-8")
    ran = run_monitor(config, "check-config", timeout=30)
    assert ran.returncode == 2, ran.output
    assert f"{config}: line 6: not valid YAML: aliases expand" in ran.stderr
    assert_no_traceback(ran)


def test_alias_bomb_in_a_rules_file_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    rules = rules_dir(tmp_path, {"bomb.yaml": "concepts:\n" + textwrap.indent(alias_bomb(), "  ")})
    ran = run_monitor(config, "check-config", rules=rules, timeout=30)
    assert ran.returncode == 2, ran.output
    assert "bomb.yaml" in ran.stderr and "aliases expand" in ran.stderr
    assert_no_traceback(ran)


def test_a_50_mb_feeds_yaml_is_refused_before_it_is_read(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    line = "  - {name: s%06d, url: 'https://news%06d.example.org/feed.xml', interval: 15m}\n"
    with config.open("w", encoding="utf-8") as out:
        out.write("sources:\n")
        for i in range(0, 700_000, 1000):
            out.write("".join(line % (j, j) for j in range(i, i + 1000)))
    assert config.stat().st_size > 50 * 10**6
    ran = run_monitor(config, "check-config", timeout=30)
    assert ran.returncode == 2, ran.output
    assert "configuration files are limited to 2,097,152 bytes" in ran.stderr
    assert "MONITOR_MAX_CONFIG_BYTES" in ran.stderr
    assert_no_traceback(ran)


DEEP_RULES = {
    "parens": ("(" * 200 + "wagner" + ")" * 200, None),
    "nots": ("wagner AND " + "NOT " * 10_000 + "mali", None),
    "chain": ("@c0", {f"c{i}": f"@c{i + 1}" for i in range(3000)} | {"c3000": "wagner"}),
    "near-big": ("aaa* NEAR/100000 bbb*", None),
    "near-huge": ("aaa* NEAR/1000000000000000000000 bbb*", None),
}


@pytest.fixture(scope="module")
def deep_rules_checked(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """One `check-config` over a rules directory holding every deep or huge query at once."""
    tmp_path = tmp_path_factory.mktemp("deep")
    config = write_config(tmp_path, [])
    files = {
        f"{name}.yaml": a_rule(query, concepts, name=name)
        for name, (query, concepts) in DEEP_RULES.items()
    }
    return run_monitor(config, "check-config", rules=rules_dir(tmp_path, files), timeout=90)


@pytest.mark.parametrize("rule", list(DEEP_RULES))
def test_deep_or_huge_queries_are_a_load_error_naming_the_rule(
    deep_rules_checked: Ran, rule: str
) -> None:
    """200 nested parentheses, 10,000 chained NOT, a 3,000-deep concept chain, NEAR/100000 and
    NEAR/10^21: each one problem naming its rule (M's parser and resolver limits), no traceback."""
    ran = deep_rules_checked
    assert_no_traceback(ran)
    assert ran.returncode == 2, ran.output[-2000:]
    lines = [line for line in ran.stderr.splitlines() if f"{rule}.yaml" in line]
    assert len(lines) == 1, ran.stderr[-3000:]
    assert len(lines[0]) < 600
    if rule.startswith("near"):
        assert "NEAR" in lines[0]


def test_one_invalid_setting_is_one_problem_not_a_cascade(tmp_path: Path) -> None:
    sources = [{"name": f"local{i}", "url": f"http://127.0.0.1:{8000 + i}/feed"} for i in range(100)]
    config = write_config(tmp_path, sources, settings={"jitter": "lots"})
    ran = run_monitor(config, "check-config", timeout=60)
    assert ran.returncode == 2, ran.output
    assert "1 configuration problem:" in ran.stderr and "settings.jitter" in ran.stderr
    assert "not public" not in ran.stderr
    assert_no_traceback(ran)


def test_an_invalid_channel_is_not_also_undefined_everywhere_it_is_used(tmp_path: Path) -> None:
    channels = {"mail": {"type": "email", "host": "h", "from": "nobody", "to": ["a@b.org"]}}
    settings = {"default_channels": ["mail"], "delivery": {"operator_channels": ["mail"]}}
    config = write_config(tmp_path, [], channels, settings)
    ran = run_monitor(config, "check-config", timeout=60)
    assert ran.returncode == 2 and "1 configuration problem:" in ran.stderr, ran.output
    assert "channels.mail.from" in ran.stderr


def test_channel_timeouts_accept_durations(tmp_path: Path) -> None:
    channels = {
        "mail": {"type": "email", "host": "h", "from": "a@b.org", "to": ["c@d.org"],
                 "timeout": "3s"},
        "hook": {"type": "webhook", "url": "https://hooks.example.org/x", "timeout": "1m"},
        "chat": {"type": "slack", "url": {"env": "SLACK_URL"}, "timeout": "2.5s"},
    }
    config = write_config(tmp_path, [], channels)
    ran = run_monitor(config, "check-config", env={"SLACK_URL": "https://hooks.slack.com/x"})
    assert ran.returncode == 0, ran.output


def test_literal_private_addresses_are_refused_at_load(tmp_path: Path) -> None:
    hosts = ["127.1", "2130706433", "[::ffff:127.0.0.1]", "0x7f.0.0.1", "localhost", "[::1]",
             "169.254.169.254", "10.0.0.1"]
    sources = [{"name": f"s{i}", "url": f"http://{host}/feed"} for i, host in enumerate(hosts)]
    config = write_config(tmp_path, sources, settings={"fetch": {"allow_networks": []}})
    ran = run_monitor(config, "check-config", timeout=60)
    assert ran.returncode == 2, ran.output
    assert f"{len(hosts)} configuration problems:" in ran.stderr
    assert all(f"sources[{i}].url" in ran.stderr for i in range(len(hosts)))
    assert_no_traceback(ran)


def test_a_bad_log_level_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    ran = run_monitor(config, "--log-level", "LOUD", "check-config", timeout=60)
    assert ran.returncode == 1 and ran.stderr.count("\n") == 1, ran.output
    assert_no_traceback(ran)


def test_a_locked_database_is_one_line(tmp_path: Path) -> None:
    """SQLite's "database is locked", raised by a real engine against a real lock."""
    path = tmp_path / "locked.db"
    holder = sa.create_engine(f"sqlite:///{path}")
    waiter = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with holder.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x)")
        conn.commit()
        conn.exec_driver_sql("BEGIN EXCLUSIVE")
        with pytest.raises(sa.exc.OperationalError) as caught, waiter.connect() as other:
            other.exec_driver_sql("SELECT * FROM t")
        conn.rollback()
    message = unexpected_error_message(caught.value)
    assert message.startswith("database is locked") and "\n" not in message
    assert "SELECT" not in message and "sqlalche.me" not in message
