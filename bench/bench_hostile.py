"""Hostile configuration inputs through the real CLI: wall time and peak memory of each refusal.

Run: .venv/bin/python bench/bench_hostile.py [--code DIR]
`--code` runs another checkout (e.g. `git archive <commit> | tar -x -C /tmp/before`) with the same
virtualenv, for before/after figures. Each case runs `monitor check-config` under RLIMIT_AS
(2 GiB) and a time limit (60 s): a case that hits either is reported as such, not waited for.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_AS = 2 << 30
TIME_LIMIT = 120.0

# Runs the command as a child with RLIMIT_AS set, then prints the child's peak RSS (KiB).
_MEASURE = (
    "import json, resource, subprocess, sys; limit = int(sys.argv[1]); "
    "p = subprocess.run(sys.argv[2:], capture_output=True, text=True, "
    "preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))); "
    "print(json.dumps({'rc': p.returncode, 'rss': resource.getrusage(resource.RUSAGE_CHILDREN)"
    ".ru_maxrss, 'err': p.stderr[-4000:]}))"
)


def alias_bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "sources: *i\n" + "\n".join(lines) + "\n"


def many_sources(count: int) -> str:
    line = "  - {name: s%06d, url: 'https://news%06d.example.org/feed.xml', interval: 15m}\n"
    return "sources:\n" + "".join(line % (i, i) for i in range(count))


def cases(tmp: Path) -> dict[str, tuple[Path, Path]]:
    rules = tmp / "rules"
    rules.mkdir()
    (rules / "ok.yaml").write_text("rules:\n  - name: ok\n    query: wagner\n", encoding="utf-8")
    made = {}
    for name, text in {
        "YAML alias bomb in feeds.yaml": "settings: {}\n" + alias_bomb().replace(
            "sources: *i\n", "") + "sources: *i\n",
        "50 MB feeds.yaml (700,000 sources)": many_sources(700_000),
        "2 MB feeds.yaml (25,000 sources, accepted)": many_sources(25_000),
    }.items():
        path = tmp / f"{len(made)}.yaml"
        path.write_text(text, encoding="utf-8")
        made[name] = (path, rules)
    deep = tmp / "deep-rules"
    deep.mkdir()
    (deep / "deep.yaml").write_text(
        "rules:\n  - name: deep\n    query: '" + "(" * 200 + "wagner" + ")" * 200 + "'\n",
        encoding="utf-8",
    )
    empty = tmp / "empty.yaml"
    empty.write_text("sources: []\n", encoding="utf-8")
    made["200 nested parentheses in a rule"] = (empty, deep)
    return made


def measure(code: Path, config: Path, rules: Path) -> tuple[float, float, str]:
    # -S: no .pth files, so the editable install cannot map `monitor` back to this checkout
    site_packages = next(p for p in sys.path if p.endswith("site-packages"))
    path = os.pathsep.join([str(code), site_packages])
    env = dict(os.environ, PYTHONPATH=path, MALLOC_ARENA_MAX="2")
    command = [sys.executable, "-S", "-m", "monitor", "--config", str(config), "--rules", str(rules),
               "check-config"]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(LIMIT_AS), *command],
            capture_output=True, text=True, env=env, cwd=code, timeout=TIME_LIMIT, check=False,
        )
    except subprocess.TimeoutExpired:
        return TIME_LIMIT, float("nan"), f"still running after {TIME_LIMIT:.0f} s (killed)"
    seconds = time.perf_counter() - start
    report = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [line for line in report["err"].splitlines() if line.strip()]
    outcome = next((line.strip() for line in lines if "problem" not in line), "")
    if "Traceback" in report["err"]:
        outcome = f"TRACEBACK ({len(report['err'])}+ chars): " + (lines[-1] if lines else "")
    elif report["rc"] == 0:
        outcome = "accepted"
    return seconds, report["rss"] / 1024, outcome[:110]


def in_process(config: Path, rules: Path) -> tuple[float, str]:
    """Seconds spent in `load_config` itself (imports excluded), and its outcome."""
    from monitor.config.loader import load_config
    from monitor.errors import ConfigError

    start = time.perf_counter()
    try:
        load_config(config, rules, environ={})
        outcome = "accepted"
    except ConfigError as exc:
        outcome = str(exc.problems[0])[:60]
    return time.perf_counter() - start, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout to run")
    args = parser.parse_args()
    print(f"code: {args.code}  (RLIMIT_AS {LIMIT_AS >> 20} MiB, time limit {TIME_LIMIT:.0f} s)")
    print("| case | CLI wall (s) | CLI peak RSS (MB) | load_config (s) | outcome |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (config, rules) in cases(Path(tmp)).items():
            seconds, rss, outcome = measure(args.code, config, rules)
            loader = f"{in_process(config, rules)[0]:.2f}" if args.code == ROOT else "-"
            print(f"| {name} | {seconds:.1f} | {rss:.0f} | {loader} | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
