"""Content-Encoding undone chunk by chunk, with the decoded size capped. Part of the client.

The client asks for `gzip` and `deflate` and decodes them itself, however many a host
stacks (`Content-Encoding: gzip, gzip`). A few KiB of gzip inside gzip can stand for
gigabytes: every stage here hands on at most `STEP` bytes at a time and the last stage's
output is what the cap counts, so memory stays near the cap whatever the ratio of each
layer. An encoding the client did not ask for (br, zstd...) or a broken stream is a bad
body, never bytes passed on to the JSON parser as if they were text.
"""

from __future__ import annotations

import zlib
from typing import Any, Iterator

ACCEPTED = "gzip, deflate"
STEP = 64 * 1024  # most bytes any stage hands on at once
_IDENTITY = frozenset({"", "identity"})


class BadEncoding(Exception):
    """The body's Content-Encoding is unknown or its stream is broken."""


class _Stage:
    """One layer of compression, undone a step at a time."""

    def __init__(self, name: str) -> None:
        self._zlib: Any = None  # a zlib decompressor; for deflate, made once its first bytes are in
        if name in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name != "deflate":  # deflate is meant zlib-wrapped, often sent raw: its first bytes tell
            raise BadEncoding(f"Content-Encoding {name!r}, which the client did not ask for")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            raw = len(data) < 2 or (data[0] & 0x0F) != 8 or ((data[0] << 8) | data[1]) % 31 != 0
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        try:
            while data:
                out = self._zlib.decompress(data, STEP)
                data = self._zlib.unconsumed_tail
                if out:
                    yield out
                if self._zlib.eof:
                    return
        except zlib.error as exc:
            raise BadEncoding(f"a broken compressed stream ({exc})") from None

    def finish(self) -> Iterator[bytes]:
        if self._zlib is None:
            return
        try:
            while True:
                out = self._zlib.decompress(b"", STEP)  # what the last input left to hand on
                if not out:
                    break
                yield out
        except zlib.error as exc:
            raise BadEncoding(f"a broken compressed stream ({exc})") from None
        if not self._zlib.eof:
            raise BadEncoding("a compressed stream cut short")


class Decoder:
    """Undoes a response's Content-Encoding values (applied in order, so undone in reverse)."""

    def __init__(self, encodings: list[str]) -> None:
        names = [part.strip().lower() for value in encodings for part in value.split(",")]
        self._stages = [_Stage(name) for name in reversed(names) if name not in _IDENTITY]

    @property
    def identity(self) -> bool:
        return not self._stages

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """Decoded bytes for one chunk of the body as sent, in steps of at most `STEP`."""
        return self._through(0, chunk, final=False)

    def finish(self) -> Iterator[bytes]:
        """What is left once the whole body is in; raises BadEncoding if a stream is cut short."""
        return self._through(0, b"", final=True)

    def _through(self, at: int, data: bytes, *, final: bool) -> Iterator[bytes]:
        if at == len(self._stages):
            if data:
                yield data
            return
        stage = self._stages[at]
        for piece in stage.feed(data):
            yield from self._through(at + 1, piece, final=False)
        if final:
            for piece in stage.finish():
                yield from self._through(at + 1, piece, final=False)
            yield from self._through(at + 1, b"", final=True)
