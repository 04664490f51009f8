"""Click parameter types shared by the command groups (durations like `30d`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from monitor.config.types import parse_duration


class DurationType(click.ParamType[timedelta]):
    """A duration such as `90s`, `15m`, `24h` or `30d`; a bad value is a usage error."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


DURATION = DurationType()
