"""Duration and size values as written in configuration files (`15m`, `7d`, `10MB`)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 1024,
    "mib": 2**20,
    "gib": 2**30,
    None: 1,
}


def parse_duration(value: Any) -> timedelta:
    """Accept `90`, `90s`, `15m`, `1.5h`, `7d` or a timedelta."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError("a duration cannot be negative")
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 15m, 2h or 7d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError("expected a duration like 30s, 15m, 2h or 7d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_size(value: Any) -> int:
    """Accept `1048576`, `10MB`, `5 MiB`."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError("a size must be at least 1 byte")
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError("expected a size like 500KB, 10MB or 1048576")
    unit = match.group(2).lower() if match.group(2) else None
    return int(match.group(1)) * _SIZE_UNITS[unit]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


def parse_seconds(value: Any) -> float:
    """A duration (`3s`, `1.5m`, `90`) as float seconds, for options handed to libraries."""
    return parse_duration(value).total_seconds()


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Seconds = Annotated[float, BeforeValidator(parse_seconds)]
"""A duration in seconds: `timeout: 3s` and `timeout: 3` mean the same."""
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
Size = Annotated[int, BeforeValidator(parse_size)]
