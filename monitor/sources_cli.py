"""`monitor sources add | import | export`: turning sites and OPML files into sources.

The commands are attached under the `monitor sources` listing (whose own output is the
health table) by `sources_group`. `add` fetches through the same Fetcher, limits and address
guard as the daemon; nothing is written to feeds.yaml without `--write`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import click

from monitor.config.loader import AppConfig
from monitor.fetch.client import Fetcher, build_client
from monitor.sources import source_env
from monitor.sources.discover import Discoverer, source_name
from monitor.sources.feedsfile import add_sources, render
from monitor.sources.opml import read_opml, sources_from_opml, write_opml


class SourcesHost(Protocol):
    feeds: Path

    def config(self) -> AppConfig: ...


def _emit(entries: list[dict[str, Any]], write: bool, feeds: Path) -> None:
    click.echo(f"# {'added to' if write else 'would add to'} {feeds}:")
    click.echo("sources:")
    click.echo(render(entries), nl=False)
    if write:
        add_sources(feeds, entries)


@click.command("add")
@click.argument("url")
@click.option("--name", help="source name [default: from the URL]")
@click.option("--tag", "tags", multiple=True, help="tag for the source (repeatable)")
@click.option("--write", is_flag=True, help="append the source to feeds.yaml (comments kept)")
@click.pass_obj
def add(obj: SourcesHost, url: str, name: str | None, tags: tuple[str, ...], write: bool) -> None:
    """Find the best source for a site: its feed, else its sitemap, else the page itself.

    Example: monitor sources add https://www.example.org/ --tag sahel --write
    """
    config = obj.config()
    fetcher = Fetcher(build_client(config.settings.fetch), config.settings.fetch)
    env = source_env(fetcher, config.settings, lambda: datetime.now(UTC))
    try:
        found = Discoverer(fetcher.get, env.robots, env.max_bytes).discover(url)
    finally:
        fetcher.close()
    taken = {s.name for s in config.sources}
    if any(s.url == found.url for s in config.sources):
        raise click.ClickException(f"{found.url} is already a source")
    entry: dict[str, Any] = {"name": name or source_name(found.url, taken), "url": found.url}
    if found.kind != "feed":
        entry["kind"] = found.kind
    if tags:
        entry["tags"] = list(tags)
    click.echo(f"# {found.kind}: {found.reason}; {found.entries} entries now", err=True)
    _emit([entry], write, obj.feeds)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--write", is_flag=True, help="append the feeds to feeds.yaml (comments kept)")
@click.pass_obj
def import_opml(obj: SourcesHost, file: Path, write: bool) -> None:
    """Import feeds from an OPML file (Feedly, Inoreader...); folders become tags.

    Example: monitor sources import subscriptions.opml --write
    """
    config = obj.config()
    feeds = read_opml(file.read_bytes()[: 5 * 2**20 + 1])
    entries, skipped = sources_from_opml(
        feeds, {s.name for s in config.sources}, {s.url for s in config.sources}
    )
    for reason in skipped:
        click.echo(f"# skipped {reason}", err=True)
    if not entries:
        click.echo("# no new feeds to add", err=True)
        return
    _emit(entries, write, obj.feeds)


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["opml"]), default="opml", show_default=True)
@click.option("--output", "-o", type=click.File("wb"), default="-")
@click.pass_obj
def export_opml(obj: SourcesHost, fmt: str, output: Any) -> None:
    """Export the feed sources as OPML; each source's first tag becomes its folder.

    Example: monitor sources export --format opml -o subscriptions.opml
    """
    sources = obj.config().sources
    feeds = [s for s in sources if s.kind == "feed"]
    if len(feeds) < len(sources):
        others = ", ".join(s.name for s in sources if s.kind != "feed")
        click.echo(f"# not exported (not feeds): {others}", err=True)
    output.write(write_opml(feeds))


def sources_group(listing: click.Command) -> click.Group:
    """`monitor sources` as a group: the listing when called alone, plus the commands above."""

    @click.pass_context
    def callback(ctx: click.Context, /, **options: Any) -> None:
        if ctx.invoked_subcommand is None and listing.callback is not None:
            ctx.invoke(listing.callback, **options)

    group = click.Group(
        name=listing.name or "sources",
        callback=callback,
        params=list(listing.params),
        help=listing.help,
        invoke_without_command=True,
    )
    for command in (add, import_opml, export_opml):
        group.add_command(command)
    return group


__all__ = ["sources_group"]
