"""The console channel: alerts printed to standard output (the default when none is configured)."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.notify.base import (
    AlertBatch,
    AlertMessage,
    ChannelDeps,
    ChannelOptionsBase,
    ChannelPolicy,
    ChannelRegistry,
    ChannelType,
)
from monitor.notify.render import batch_text, plain_text


class ConsoleOptions(ChannelOptionsBase):
    type: str = "console"
    stream: str = "stdout"


class ConsoleNotifier:
    def __init__(self, channel: str, stream: TextIO | None = None,
                 policy: ChannelPolicy | None = None) -> None:
        self.channel = channel
        self.policy = policy or ChannelPolicy()
        self._stream = stream

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        self._write(plain_text(alert))

    def send_batch(self, batch: AlertBatch, *, idempotency_key: str) -> None:
        self._write(batch_text(batch))

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout
        stream.write("─" * 72 + "\n" + text)
        stream.flush()


def _build(channel: str, options: ConsoleOptions, deps: ChannelDeps) -> ConsoleNotifier:
    return ConsoleNotifier(channel, sys.stderr if options.stream == "stderr" else None,
                           options.policy())


def register(registry: ChannelRegistry) -> None:
    registry.register(ChannelType("console", ConsoleOptions, _build))
