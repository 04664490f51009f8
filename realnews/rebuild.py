"""Rebuild the texts directory from saved answers of the search tool's `pages` corpus.

The texts of the real-news corpus are third-party and are not in the repository. To rebuild
them, run the queries listed in README.md against the `pages` corpus, save each JSON answer in a
directory, then:

    .venv/bin/python -m realnews.rebuild ANSWERS_DIR [MORE_DIRS...] [--texts /work/realnews-texts]

Every result whose URL is labelled in labels.jsonl becomes ``<id>.txt``: the headline on the
first line (the excerpt's first line when it is headline-like, else the words of the URL slug),
then the excerpt's paragraphs (see ``page_text``); a page found by several queries gets its
longest excerpt. Existing files are left alone unless ``--overwrite`` is given.
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


def bare_key(url: str) -> str:
    """The URL key without its query string (tracking parameters such as ``?traffic_source=``)."""
    return url_key(url.split("?", 1)[0])


def slug_title(url: str) -> str:
    path = unquote(urlsplit(url).path).rstrip("/")
    slug = path.rsplit("/", 1)[-1] or urlsplit(url).netloc
    slug = re.sub(r"\.(html?|aspx|php|shtml|ghtml)$", "", slug)
    return re.sub(r"[-_]+", " ", slug).strip().capitalize()


_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")


def headline_like(line: str) -> bool:
    """Three or more words of letters, not a sentence: not a menu item, page number or site
    name."""
    return (
        len(line) <= MAX_HEADLINE
        and (line[0].isalnum() or line[0] in "'\"‘“«¿¡")  # not "← Back to News", "• en"
        and not line.endswith((".", ",", ":"))
        and len(_LETTER_WORD.findall(line)) >= 3
        and "|" not in line
    )


def lede_title(line: str, size: int = 100) -> str:
    """A headline made from the start of the first paragraph (what feeds do for untitled items)."""
    if len(line) <= size:
        return line
    return line[:size].rsplit(" ", 1)[0] + "…"


def page_text(url: str, excerpt: str) -> str:
    """Headline (the excerpt's first line when headline-like, else the URL slug when it has
    words, else the start of the first paragraph), then the excerpt's paragraphs."""
    lines = [ln.strip() for ln in DATE_PREFIX.sub("", excerpt).splitlines() if ln.strip()]
    if lines and headline_like(lines[0]):
        title, body = lines[0], lines[1:]
    else:
        slug = slug_title(url)
        body = lines
        if headline_like(slug):
            title = slug
        else:
            prose = [ln for ln in lines if len(_LETTER_WORD.findall(ln)) >= 8]
            title = lede_title(prose[0]) if prose else slug
    return "\n".join([title, *body]) + "\n"


def results(answers: Path) -> Iterable[tuple[str, str]]:
    for path in sorted(answers.glob("*.json")):
        answer = json.loads(path.read_text(encoding="utf-8"))
        for result in answer.get("results", []):
            if result.get("url") and result.get("excerpt"):
                yield result["url"], result["excerpt"]


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path, nargs="+", help="directories of saved JSON answers")
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(list(argv) if argv is not None else None)
    labels = load_labels()
    by_url = {url_key(label.url): label.id for label in labels}
    # a result whose URL only adds a query string to a labelled URL without one is that page
    by_bare = {bare_key(lb.url): lb.id for lb in labels if "?" not in lb.url}
    # A page found by several queries can come with excerpts of different lengths: keep the
    # longest (the first of equal ones), so the texts do not depend on the order of the answers.
    best: dict[str, tuple[str, str]] = {}
    for directory in args.answers:
        for url, excerpt in results(directory):
            label_id = by_url.get(url_key(url)) or by_bare.get(bare_key(url))
            if label_id is not None and len(excerpt) > len(best.get(label_id, ("", ""))[1]):
                best[label_id] = (url, excerpt)
    args.texts.mkdir(parents=True, exist_ok=True)
    written = 0
    for label_id, (url, excerpt) in sorted(best.items()):
        target = args.texts / f"{label_id}.txt"
        if target.exists() and not args.overwrite:
            continue
        target.write_text(page_text(url, excerpt), encoding="utf-8")
        written += 1
    missing = sorted(i for i in by_url.values() if not (args.texts / f"{i}.txt").exists())
    print(
        f"wrote {written} texts; {len(missing)} labelled pages still without text"
        + (f": {', '.join(missing)}" if missing else ""),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
