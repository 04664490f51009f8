"""Builds the registry of built-in channel types; each module registers itself via `register`."""

from __future__ import annotations

import importlib

from monitor.notify.base import ChannelRegistry

BUILTIN_MODULES = ("console", "email", "webhook", "slack", "apprise_channel")


def builtin_registry() -> ChannelRegistry:
    """A registry holding every built-in channel type."""
    registry = ChannelRegistry()
    for name in BUILTIN_MODULES:
        module = importlib.import_module(f"monitor.notify.{name}")
        module.register(registry)
    return registry
