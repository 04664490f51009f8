"""Through the real pipeline and a loopback site, with a fixed clock: a feed URL that starts
serving a domain-parking page raises one operator notice, delivered to the operator channel,
and one recovery notice when the feed is back; polls in between add nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.app import App
from monitor.config.loader import load_config
from monitor.delivery.tables import operator_notices
from tests.e2e.harness import ROOT, write_config
from tests.ops.conftest import T0
from tests.ops.switchsite import SwitchSite
from tests.ops.test_health import PARKED

pytestmark = [pytest.mark.e2e]


def feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>Report {k}</title><link>https://wire.example.org/{k}</link>"
        f"<guid>wire-{k}</guid><description>Text {k} of the wire.</description></item>"
        for k in range(n)
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            f"<link>https://wire.example.org/</link>{items}</channel></rss>").encode()


def test_a_parked_feed_url_tells_the_operator_once_and_once_again_on_recovery(
    tmp_path: Path,
) -> None:
    with SwitchSite() as site:
        site.serve(feed(3), "application/rss+xml")
        config = write_config(
            tmp_path,
            [{"name": "wire", "url": site.url("/feed"), "fetch_full": False}],
            {"ops": {"type": "console"}},
            {"jitter": 0, "delivery": {"operator_channels": ["ops"]}},
        )
        now = [T0]
        app = App(load_config(config, ROOT / "rules"), clock=lambda: now[0])
        try:
            def cycle(hours: int) -> list[tuple[str, str]]:
                now[0] = T0 + timedelta(hours=hours)
                app.poll_due()
                app.check_health()
                app.deliver()
                with app.engine.connect() as conn:
                    return [
                        (r.title, r.state)
                        for r in conn.execute(
                            select(operator_notices.c.title, operator_notices.c.state)
                            .order_by(operator_notices.c.id)
                        )
                    ]

            assert cycle(0) == []
            assert cycle(1) == []
            site.serve(PARKED, "text/html; charset=utf-8")
            assert cycle(2) == [("source wire is parked", "sent")]
            assert cycle(3) == [("source wire is parked", "sent")]
            site.serve(feed(4), "application/rss+xml")
            told = [("source wire is parked", "sent"), ("source wire recovered", "sent")]
            assert cycle(4) == told
            assert cycle(5) == told
        finally:
            app.close()
