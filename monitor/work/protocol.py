"""Framing of the messages between the pool and its workers: a 4-byte length, then a pickle.

Both ends are our own processes started from the same code, so pickle is safe here: nothing
from outside the pool is ever unpickled. The parent reads frames incrementally (`FrameReader`)
so one thread can watch every worker's pipe.
"""

from __future__ import annotations

import os
import pickle
import struct
from typing import Any

_HEADER = struct.Struct("!I")


def encode(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


def write(fd: int, message: Any) -> None:
    """Write one message, blocking until the whole frame is in the pipe."""
    view = memoryview(encode(message))
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read(fd: int) -> Any | None:
    """One message read blocking; None at end of file (the other end is gone)."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(header)[0])
    return None if body is None else pickle.loads(body)  # noqa: S301 - our own worker's frames


class FrameReader:
    """Collects the bytes of one pipe and yields the complete messages received so far."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buffer += data
        messages = []
        while len(self._buffer) >= _HEADER.size:
            size = _HEADER.unpack_from(self._buffer)[0]
            end = _HEADER.size + size
            if len(self._buffer) < end:
                break
            messages.append(pickle.loads(self._buffer[_HEADER.size : end]))  # noqa: S301
            del self._buffer[:end]
        return messages
