"""Bounded decompression of response bodies, so a size cap holds after decompression.

httpx decompresses whole chunks: one 64 KiB gzip chunk can become tens of megabytes before any
cap is checked. Here the raw bytes are inflated with `max_length`, so no more than the cap (plus
one byte, to detect the overflow) is ever produced in memory.
"""

from __future__ import annotations

import zlib

ACCEPT_ENCODING = "gzip, deflate"


class TooLarge(Exception):
    """The decoded body passed the cap."""


class UnsupportedEncoding(Exception):
    """The server used a content-encoding we did not ask for."""


class BoundedDecoder:
    """Feeds raw body chunks, returns decoded bytes, raises TooLarge past `cap` bytes."""

    def __init__(self, content_encoding: str, cap: int) -> None:
        encoding = content_encoding.strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise UnsupportedEncoding(content_encoding)
        self._inflate = encoding not in ("", "identity")
        self._cap = cap
        self._produced = 0
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)
        self._started = False

    def _count(self, data: bytes) -> bytes:
        self._produced += len(data)
        if self._produced > self._cap:
            raise TooLarge(f"more than {self._cap} bytes after decompression")
        return data

    def feed(self, raw: bytes) -> bytes:
        if not self._inflate:
            return self._count(raw)
        if not self._started:
            self._started = True
            try:
                return self._drain(raw)
            except zlib.error:  # "deflate" sent without the zlib header
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._produced = 0
        return self._drain(raw)

    def _drain(self, data: bytes) -> bytes:
        parts = []
        while data:
            chunk = self._zlib.decompress(data, self._cap - self._produced + 1)
            parts.append(self._count(chunk))
            data = self._zlib.unconsumed_tail
        return b"".join(parts)
