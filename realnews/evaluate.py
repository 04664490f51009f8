"""Score the shipped rules and dedup on the real-news development corpus (labels in this folder).

The article texts are third-party and are NOT in the repository: they live in a directory outside
it (``--texts``, default ``$REALNEWS_TEXTS`` or ``/work/realnews-texts``), one ``<id>.txt`` per
labelled page, headline on line 1 (see README.md for how to rebuild them). Without that
directory the script says so and exits with status 0.

Full mode (default) serves every page from loopback news sites (article pages wrapped in site
boilerplate, declaring no language, listed in RSS / Atom / JSON feeds) and runs the real pipeline,
``App(config).run_cycle()``, with the shipped ``rules/`` and default settings, publishing the pages
in a shuffled order over several waves (one cycle per wave). It repeats that for ``--runs``
shuffled orders and prints:

* article precision / recall of the flagship rule, overall and by language;
* relevant events with at least one alert;
* alerts per syndication group (pages carrying the same wire story);
* copy and story pairwise precision / recall (copy: the same syndication group; story: the same
  syndication group or the same labelled event);
* the spread of alert counts over the shuffled orders.

``--rules-only`` skips the pipeline and matches the texts with the rule engine directly (seconds,
for tuning concept lists). ``--misses`` lists the misclassified pages.

    .venv/bin/python -m realnews.evaluate [--runs 20] [--waves 4] [--rules-only] [--misses]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "realnews" / "labels.jsonl"
DEFAULT_TEXTS = Path(os.environ.get("REALNEWS_TEXTS", "/work/realnews-texts"))
RULE = "wagner-sahel-civilian-harm"
FORMATS = ("rss", "atom", "json")
BOILERPLATES = ("plain", "share", "portal")
N_SITES = 16
HOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # loopback-only test key (base64)
SLUG = re.compile(r"/a/([^/?#]+)")
COPY_OVERLAP = 0.5  # a copy: same wire story and half of the shorter text's shingles shared


@dataclass(frozen=True)
class Label:
    id: str
    url: str
    language: str
    relevant: bool
    event: str | None
    group: str
    notes: str = ""


@dataclass(frozen=True)
class Page:
    label: Label
    title: str
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class RunResult:
    """What one pass over the corpus produced, keyed by label id."""

    matched: set[str] = field(default_factory=set)
    alerted: list[str] = field(default_factory=list)
    story: dict[str, int] = field(default_factory=dict)
    copy_root: dict[str, str] = field(default_factory=dict)
    language: dict[str, str | None] = field(default_factory=dict)


def load_labels(path: Path = LABELS) -> list[Label]:
    labels = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            labels.append(
                Label(
                    r["id"],
                    r["url"],
                    r["language"],
                    bool(r["relevant"]),
                    r.get("event"),
                    r.get("syndication_group") or r["id"],
                    r.get("notes", ""),
                )
            )
    return labels


def load_pages(labels: Sequence[Label], texts: Path) -> list[Page]:
    pages = []
    for label in labels:
        path = texts / f"{label.id}.txt"
        if not path.exists():
            print(f"warning: no text for {label.id} ({path})", file=sys.stderr)
            continue
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        title, rest = lines[0], [ln for ln in lines[1:] if ln]
        pages.append(Page(label, title, tuple(rest)))
    return pages


# --- scoring ---------------------------------------------------------------------------------


def ratio(num: int, den: int) -> str:
    return f"{num / den:.3f}" if den else "n/a"


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def article_table(pages: Sequence[Page], matched: set[str]) -> list[str]:
    """Precision and recall of the flagship rule per language, the other languages pooled."""
    rows = [
        row("language", "pages", "relevant", "TP", "FP", "FN", "precision", "recall"),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_lang: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        by_lang[page.label.language].append(page)
    main = [lang for lang in ("en", "fr", "ar") if lang in by_lang]
    others = sorted(lang for lang in by_lang if lang not in main)
    groups = [(lang, by_lang[lang]) for lang in main + others]
    groups.append(("**others pooled**", [p for lang in others for p in by_lang[lang]]))
    groups.append(("**all**", list(pages)))
    for name, group in groups:
        tp = sum(1 for p in group if p.label.relevant and p.label.id in matched)
        fp = sum(1 for p in group if not p.label.relevant and p.label.id in matched)
        fn = sum(1 for p in group if p.label.relevant and p.label.id not in matched)
        relevant = sum(1 for p in group if p.label.relevant)
        rows.append(
            row(name, len(group), relevant, tp, fp, fn, ratio(tp, tp + fp), ratio(tp, tp + fn))
        )
    return rows


def pair_scores(
    ids: Sequence[str], same: Callable[[str, str], bool], predicted: dict[str, Any]
) -> tuple[int, int, int]:
    """(true positive, predicted, actual) pairs: `same(a, b)` vs the same predicted key."""
    tp = pred = actual = 0
    for a, b in itertools.combinations(ids, 2):
        same_truth = same(a, b)
        same_pred = predicted.get(a) is not None and predicted.get(a) == predicted.get(b)
        tp += same_truth and same_pred
        pred += same_pred
        actual += same_truth
    return tp, pred, actual


def shingles(text: str, size: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + size]) for i in range(max(len(words) - size + 1, 1))}


def overlap(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """Share of the shorter text's 4-word shingles found in the other text."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def pairs_cell(tp: int, pred: int, actual: int) -> str:
    return f"{ratio(tp, pred)} / {ratio(tp, actual)} ({tp} of {actual} pairs found, {pred} claimed)"


def pipeline_table(pages: Sequence[Page], result: RunResult) -> list[str]:
    """Events alerted, alerts per syndication group, copy and story pairs, stored language."""
    by_id = {p.label.id: p.label for p in pages}
    ids = list(by_id)
    groups: dict[str, list[str]] = defaultdict(list)
    for label in by_id.values():
        groups[label.group].append(label.id)
    shared = {g: members for g, members in groups.items() if len(members) > 1}
    events = sorted({lb.event for lb in by_id.values() if lb.relevant and lb.event})
    alerted_stories = {result.story.get(a) for a in result.alerted}
    alerted_events = {
        lb.event
        for lb in by_id.values()
        if lb.event and (lb.id in result.alerted or result.story.get(lb.id) in alerted_stories)
    }
    missed = sorted(set(events) - alerted_events)
    per_group = {g: sum(1 for a in result.alerted if a in m) for g, m in shared.items()}
    over = sorted(g for g, n in per_group.items() if n > 1)
    grams = {p.label.id: shingles(f"{p.title} {p.body}") for p in pages}

    def same_story(a: str, b: str) -> bool:
        return by_id[a].group == by_id[b].group

    def copies(a: str, b: str) -> bool:
        return same_story(a, b) and overlap(grams[a], grams[b]) >= COPY_OVERLAP

    merged = {
        story: sorted(
            {by_id[i].event or "" for i in ids if result.story.get(i) == story and by_id[i].event}
        )
        for story in set(result.story.values())
    }
    merged = {story: events for story, events in merged.items() if len(events) > 1}
    stored = sum(1 for i in ids if result.language.get(i))
    right = sum(1 for i in ids if (result.language.get(i) or "").split("-")[0] == by_id[i].language)
    return [
        row("measure", "value"),
        "|---|---|",
        row(
            "relevant events with an alert",
            f"{len(events) - len(missed)} / {len(events)}"
            + (f" (missed: {', '.join(missed)})" if missed else ""),
        ),
        row("alerts", len(result.alerted)),
        row(
            "alerts beyond one per final story (stories joined after each alerted)",
            len(result.alerted) - len(alerted_stories),
        ),
        row("syndication groups with 2+ pages", len(shared)),
        row(
            "groups with more than one alert",
            f"{len(over)}" + (f" ({', '.join(over)})" if over else ""),
        ),
        row("most alerts in one group", max(per_group.values(), default=0)),
        row(
            "copy pairs (same wire story, texts overlap 50%+): precision / recall",
            pairs_cell(*pair_scores(ids, copies, result.copy_root)),
        ),
        row(
            "story pairs (same wire story): precision / recall",
            pairs_cell(*pair_scores(ids, same_story, result.story)),
        ),
        row(
            "stories merging distinct labelled events",
            f"{len(merged)}"
            + (f" ({'; '.join(' + '.join(e) for e in merged.values())})" if merged else ""),
        ),
        row("stored language: set / correct", f"{stored} / {right} of {len(ids)}"),
    ]


def run_outcome(pages: Sequence[Page], result: RunResult) -> tuple[list[str], list[str], int]:
    """One run's missed relevant events, syndication groups with more than one alert, and
    stories merging distinct labelled events."""
    by_id = {p.label.id: p.label for p in pages}
    alerted_stories = {result.story.get(a) for a in result.alerted}
    events = {lb.event for lb in by_id.values() if lb.relevant and lb.event}
    covered = {
        lb.event
        for lb in by_id.values()
        if lb.event and (lb.id in result.alerted or result.story.get(lb.id) in alerted_stories)
    }
    groups: dict[str, list[str]] = defaultdict(list)
    for label in by_id.values():
        groups[label.group].append(label.id)
    twice = sorted(
        g for g, m in groups.items() if len(m) > 1 and sum(a in m for a in result.alerted) > 1
    )
    stories: dict[int, set[str]] = defaultdict(set)
    for i, story in result.story.items():
        if by_id[i].event:
            stories[story].add(by_id[i].event or "")
    merged = sum(1 for e in stories.values() if len(e) > 1)
    return sorted(events - covered), twice, merged


def orders_table(pages: Sequence[Page], runs: Sequence[RunResult]) -> list[str]:
    counts = [len(r.alerted) for r in runs]
    outcomes = [run_outcome(pages, r) for r in runs]
    missed = Counter(e for m, _, _ in outcomes for e in m)
    twice = Counter(g for _, t, _ in outcomes for g in t)
    merged = [n for _, _, n in outcomes]

    def listed(counter: Counter[str]) -> str:
        return ", ".join(f"{k} ({n})" for k, n in sorted(counter.items())) or "none"

    return [
        row("measure", "value"),
        "|---|---|",
        row("alerts per run: min / max", f"{min(counts)} / {max(counts)}"),
        row(
            "alert counts (count: runs)",
            ", ".join(f"{c}: {n}" for c, n in sorted(Counter(counts).items())),
        ),
        row("distinct sets of alerted pages", len({frozenset(r.alerted) for r in runs})),
        row("matched pages the same in every run", all(r.matched == runs[0].matched for r in runs)),
        row("relevant events missed (runs)", listed(missed)),
        row("groups with more than one alert (runs)", listed(twice)),
        row("stories merging distinct events: min / max", f"{min(merged)} / {max(merged)}"),
    ]


def report(pages: Sequence[Page], runs: Sequence[RunResult], *, pipeline: bool) -> list[str]:
    out = [f"### Articles: the flagship rule `{RULE}`", ""]
    out += article_table(pages, runs[0].matched)
    if pipeline:
        out += ["", "### Events, syndication groups, copies, stories (first order)", ""]
        out += pipeline_table(pages, runs[0])
        out += ["", f"### Arrival orders ({len(runs)} shuffled)", ""]
        out += orders_table(pages, runs)
    return out


def misses(pages: Sequence[Page], matched: set[str]) -> list[str]:
    out = ["", "## Misclassified pages", ""]
    for p in pages:
        hit = p.label.id in matched
        if hit != p.label.relevant:
            kind = "FP" if hit else "FN"
            out.append(
                f"- {kind} {p.label.id} [{p.label.language}] {p.title[:90]} -- {p.label.notes}"
            )
    return out


# --- rules only ------------------------------------------------------------------------------


def run_rules_only(pages: Sequence[Page]) -> RunResult:
    from monitor.lang import detect_language
    from monitor.rules.document import Document
    from monitor.rules.engine import RuleEngine
    from monitor.rules.loader import load_rules

    engine = RuleEngine.compile(load_rules(ROOT / "rules"))
    result = RunResult()
    for page in pages:
        language = detect_language(page.title, page.body)
        result.language[page.label.id] = language
        doc = Document(title=page.title, body=page.body, language=language)
        if any(m.rule == RULE for m in engine.match(doc)):
            result.matched.add(page.label.id)
    return result


# --- full pipeline ---------------------------------------------------------------------------


class Clock:
    """A clock the evaluation moves forward between waves so every source is due again."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def site_of(label: Label) -> str:
    host = re.sub(r"^https?://", "", label.url).split("/", 1)[0]
    return f"site{sum(host.encode()) % N_SITES:02d}"


@contextmanager
def loopback() -> Iterator[tuple[Any, Any]]:
    from tests.support.newsserver import NewsServer
    from tests.support.receivers import WebhookReceiver

    class NoLanguageServer(NewsServer):
        """Pages that declare no language (like most of the real pages in the corpus)."""

        def page(self, site: Any, article: Any, slug: str) -> bytes:
            body = super().page(site, article, slug)
            return body.replace(f'<html lang="{article.lang or "en"}">'.encode(), b"<html>", 1)

    with NoLanguageServer() as news, WebhookReceiver(secrets=(HOOK_SECRET,)) as hook:
        for i in range(N_SITES):
            news.add_site(f"site{i:02d}", FORMATS[i % 3], BOILERPLATES[(i // 3) % 3])
        yield news, hook


def run_pipeline(pages: Sequence[Page], seed: int, waves: int) -> RunResult:
    from sqlalchemy import select

    from monitor.app import App
    from monitor.config.loader import load_config
    from monitor.corpus import CorpusArticle
    from monitor.storage import tables
    from tests.e2e.harness import write_config

    order = list(pages)
    random.Random(seed).shuffle(order)  # noqa: S311 (a reproducible order, not a secret)
    start = datetime(2026, 3, 1, 6, tzinfo=UTC)
    clock = Clock(start)
    with loopback() as (news, hook), tempfile.TemporaryDirectory() as tmp:
        sources = [{"name": name, "url": news.feed_url(name)} for name in news.sites]
        channels = {
            "hook": {
                "type": "webhook",
                "url": hook.url,
                "secrets": [{"env": "REALNEWS_HOOK_SECRET"}],
            }
        }
        config = write_config(Path(tmp), sources, channels, {"alert_backlog": True})
        os.environ["REALNEWS_HOOK_SECRET"] = HOOK_SECRET
        app = App(load_config(config, ROOT / "rules"), clock=clock)
        try:
            size = -(-len(order) // waves)
            for w in range(waves):
                for i, page in enumerate(order[w * size : (w + 1) * size]):
                    article = CorpusArticle(
                        id=page.label.id,
                        title=page.title,
                        paragraphs=page.paragraphs,
                        published=clock.now - timedelta(minutes=5 + i),
                    )
                    news.publish(site_of(page.label), article, slug=page.label.id)
                app.run_cycle()
                clock.now += timedelta(hours=2)
            result = RunResult()
            with app.engine.connect() as conn:
                rows = conn.execute(
                    select(
                        tables.articles.c.id,
                        tables.articles.c.url,
                        tables.articles.c.story_id,
                        tables.articles.c.copy_of,
                        tables.articles.c.language,
                    )
                ).all()
                id_of = {}
                for row in rows:
                    m = SLUG.search(row.url)
                    if m:
                        id_of[row.id] = m.group(1)
                parent = {row.id: row.copy_of for row in rows}
                for row in rows:
                    if row.id not in id_of:
                        continue
                    label_id = id_of[row.id]
                    root = row.id
                    seen = set()
                    while parent.get(root) and root not in seen:
                        seen.add(root)
                        root = parent[root]
                    result.story[label_id] = row.story_id
                    result.copy_root[label_id] = id_of.get(root, str(root))
                    result.language[label_id] = row.language
                matches = conn.execute(
                    select(tables.rule_matches.c.article_id).where(
                        tables.rule_matches.c.rule == RULE
                    )
                ).all()
                result.matched = {id_of[r.article_id] for r in matches if r.article_id in id_of}
                alerts = conn.execute(
                    select(tables.alerts.c.article_id).where(tables.alerts.c.rule == RULE)
                ).all()
                result.alerted = sorted(
                    id_of[r.article_id] for r in alerts if r.article_id in id_of
                )
            return result
        finally:
            app.close()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS)
    parser.add_argument("--runs", type=int, default=20, help="shuffled arrival orders (default 20)")
    parser.add_argument("--waves", type=int, default=4, help="poll cycles per run (default 4)")
    parser.add_argument(
        "--rules-only", action="store_true", help="match texts directly, no pipeline"
    )
    parser.add_argument("--misses", action="store_true", help="list misclassified pages")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not args.texts.is_dir():
        print(
            f"realnews: no texts directory at {args.texts}; the article texts are not in the "
            "repository. Rebuild them as realnews/README.md describes, or pass --texts DIR "
            "(or set REALNEWS_TEXTS). Nothing to evaluate.",
            file=sys.stderr,
        )
        return 0
    labels = load_labels()
    pages = load_pages(labels, args.texts)
    if not pages:
        print(f"realnews: {args.texts} holds none of the labelled texts.", file=sys.stderr)
        return 0
    relevant = sum(p.label.relevant for p in pages)

    def render(runs: list[RunResult]) -> str:
        mode = (
            "rule engine only."
            if args.rules_only
            else f"real pipeline, {len(runs)} shuffled orders x {args.waves} poll cycles."
        )
        header = [
            f"Corpus: {len(pages)} pages ({relevant} relevant, {len(pages) - relevant} not), "
            f"{len({p.label.language for p in pages})} languages, "
            f"{len({p.label.event for p in pages if p.label.event})} relevant events; {mode}",
            "",
        ]
        lines = header + report(pages, runs, pipeline=not args.rules_only)
        if args.misses:
            lines += misses(pages, runs[0].matched)
        return "\n".join(lines)

    runs: list[RunResult] = []
    if args.rules_only:
        runs.append(run_rules_only(pages))
    for seed in range(0 if args.rules_only else args.runs):
        runs.append(run_pipeline(pages, seed, args.waves))
        print(
            f"run {seed + 1}/{args.runs}: {len(runs[-1].alerted)} alerts, "
            f"{len(runs[-1].matched)} matched",
            file=sys.stderr,
        )
        if args.out:  # keep the table of the runs done so far
            args.out.write_text(render(runs) + "\n", encoding="utf-8")
    text = render(runs)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
