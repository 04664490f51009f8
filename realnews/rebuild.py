"""Rebuild the texts directory from saved answers of the search tool's `pages` corpus.

The texts of the real-news corpus are third-party and are not in the repository. To rebuild
them, run the queries listed in README.md against the `pages` corpus, save each JSON answer in a
directory, then:

    .venv/bin/python -m realnews.rebuild ANSWERS_DIR [--texts /work/realnews-texts]

Every result whose URL is labelled in labels.jsonl becomes ``<id>.txt``: the headline on the
first line (the excerpt's first line when it is headline-like, else the words of the URL slug),
then the excerpt's paragraphs. Existing files are left alone unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from realnews.evaluate import DEFAULT_TEXTS, load_labels

DATE_PREFIX = re.compile(r"^\s*date \d{4}-\d{2}(-\d{2})?\s*")
MAX_HEADLINE = 160


def url_key(url: str) -> str:
    """URLs compared without percent-encoding, case or a trailing slash."""
    return unquote(url).strip().rstrip("/").casefold()


def slug_title(url: str) -> str:
    path = unquote(urlsplit(url).path).rstrip("/")
    slug = path.rsplit("/", 1)[-1] or urlsplit(url).netloc
    slug = re.sub(r"\.(html?|aspx|php|shtml|ghtml)$", "", slug)
    return re.sub(r"[-_]+", " ", slug).strip().capitalize()


def page_text(url: str, excerpt: str) -> str:
    lines = [ln.strip() for ln in DATE_PREFIX.sub("", excerpt).splitlines() if ln.strip()]
    if lines and len(lines[0]) <= MAX_HEADLINE and not lines[0].endswith((".", ",", ":")):
        title, body = lines[0], lines[1:]
    else:
        title, body = slug_title(url), lines
    return "\n".join([title, *body]) + "\n"


def results(answers: Path) -> Iterable[tuple[str, str]]:
    for path in sorted(answers.glob("*.json")):
        answer = json.loads(path.read_text(encoding="utf-8"))
        for result in answer.get("results", []):
            if result.get("url") and result.get("excerpt"):
                yield result["url"], result["excerpt"]


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path, help="directory of saved JSON answers")
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(list(argv) if argv is not None else None)
    by_url = {url_key(label.url): label.id for label in load_labels()}
    args.texts.mkdir(parents=True, exist_ok=True)
    written = 0
    for url, excerpt in results(args.answers):
        label_id = by_url.get(url_key(url))
        if label_id is None:
            continue
        target = args.texts / f"{label_id}.txt"
        if target.exists() and not args.overwrite:
            continue
        target.write_text(page_text(url, excerpt), encoding="utf-8")
        written += 1
    missing = sorted(i for i in by_url.values() if not (args.texts / f"{i}.txt").exists())
    print(
        f"wrote {written} texts; {len(missing)} labelled pages still without text", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
