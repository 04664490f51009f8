"""The event loop the daemon's fetch stage runs on (uvloop when installed)."""

from __future__ import annotations

import asyncio
import os


def new_fetch_loop() -> asyncio.AbstractEventLoop:
    """The fetch stage's event loop: uvloop where it is installed (a dependency on Linux and
    macOS), else asyncio's own. The loop's own work per request (scheduling callbacks, the
    selector, socket transports) is C in uvloop: about 30% less CPU for an all-304 cycle and the
    fetch thread's share of the GIL down by a similar part (bench/bench_farm.py, 1,000 sources).
    `MONITOR_EVENT_LOOP=asyncio` forces asyncio's loop."""
    if os.environ.get("MONITOR_EVENT_LOOP", "").lower() != "asyncio":
        try:
            import uvloop
        except ImportError:  # e.g. Windows: uvloop is not built there
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()
