"""Composition helpers: building the notifiers and the delivery worker from validated config.

The application's composition root calls, in order:
`notifiers = build_notifiers(config.channels, registry, deps)` then
`worker = build_delivery_worker(engine, settings.delivery, notifiers, clock)`, and schedules
`worker.deliver_due()` as its own job. `operator_channel_problems` lets the config loader refuse
an `operator_channels` entry that names no configured channel.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from sqlalchemy import Engine

from monitor.config.models import ChannelSpec
from monitor.delivery.messages import CarriersLookup, no_carriers
from monitor.delivery.settings import DeliverySettings
from monitor.delivery.worker import DeliveryWorker
from monitor.notify.base import ChannelDeps, ChannelRegistry, Notifier
from monitor.notify.redact import install


def build_notifiers(
    channels: Mapping[str, ChannelSpec], registry: ChannelRegistry, deps: ChannelDeps
) -> dict[str, Notifier]:
    """One notifier per configured channel; installs the secret redactor on library loggers."""
    notifiers: dict[str, Notifier] = {}
    for name, spec in channels.items():
        channel_type = registry.get(spec.type)
        if channel_type is None:
            raise KeyError(f"unknown channel type {spec.type!r}")  # the loader refused it already
        notifiers[name] = channel_type.build(name, spec.options, deps)
    install(deps.redactor)
    return notifiers


def default_owner() -> str:
    """A lease owner name unique to this process: host and pid."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def build_delivery_worker(
    engine: Engine,
    settings: DeliverySettings,
    notifiers: Mapping[str, Notifier],
    clock: Callable[[], datetime],
    *,
    owner: str | None = None,
    carriers: CarriersLookup = no_carriers,
) -> DeliveryWorker:
    """The worker the daemon runs in its own scheduler job (`deliver_due()` every few seconds)."""
    return DeliveryWorker(engine, notifiers, clock=clock, owner=owner or default_owner(),
                          carriers=carriers, settings=settings)


def operator_channel_problems(settings: DeliverySettings, channels: Iterable[str]) -> list[str]:
    """Messages for operator channels or rate limits that name an undefined channel."""
    defined = sorted(set(channels))
    problems = []
    for i, name in enumerate(settings.operator_channels):
        if name not in defined:
            problems.append(f"settings.delivery.operator_channels[{i}]: undefined channel "
                            f"{name!r}; defined: {', '.join(defined)}")
    for name in settings.rate_limits:
        if name not in defined:
            problems.append(f"settings.delivery.rate_limits.{name}: undefined channel; "
                            f"defined: {', '.join(defined)}")
    return problems
