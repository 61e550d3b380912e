"""Fetch stage, body reading: undo Content-Encoding chunk by chunk under a size cap.

In: raw body chunks as they arrive. Out: the decoded bytes, or TooLarge as soon as
the decoded size passes the cap, so a gzip bomb never expands in memory.
"""

from __future__ import annotations

import zlib

from bot.errors import FetchError, TooLarge

_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS  # auto-detect a gzip or zlib header
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS


class BodyReader:
    """Accumulates one response body, decoding gzip/deflate and enforcing `limit_bytes`."""

    def __init__(self, url: str, content_encoding: str, limit_bytes: int) -> None:
        self.url = url
        self.limit_bytes = limit_bytes
        self.encoding = _single_encoding(url, content_encoding)
        self._buffer = bytearray()
        self._zlib: zlib._Decompress | None = None
        self._first = True
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(_GZIP_OR_ZLIB)
        elif self.encoding == "deflate":
            self._zlib = zlib.decompressobj(_ZLIB)

    def feed(self, raw: bytes) -> None:
        """Add one raw chunk; raise TooLarge once the decoded body passes the cap."""
        if self._zlib is None:
            self._append(raw)
            return
        room = self.limit_bytes - len(self._buffer)
        # max_length bounds the memory one chunk can expand into; output past the
        # room (or input left unconsumed) means the cap is exceeded.
        self._append(self._inflate(raw, room + 1))

    def finish(self) -> bytes:
        """The whole decoded body."""
        if self._zlib is not None:
            try:
                self._append(self._zlib.flush())
            except zlib.error as exc:
                raise self._decode_error() from exc
        return bytes(self._buffer)

    def _inflate(self, raw: bytes, max_length: int) -> bytes:
        assert self._zlib is not None
        try:
            out = self._zlib.decompress(raw, max_length)
        except zlib.error as exc:
            if not (self._first and self.encoding == "deflate"):
                raise self._decode_error() from exc
            # Some servers send raw deflate without the zlib wrapper.
            self._zlib = zlib.decompressobj(_RAW_DEFLATE)
            self._first = False
            return self._inflate(raw, max_length)
        self._first = False
        return out

    def _append(self, data: bytes) -> None:
        if len(self._buffer) + len(data) > self.limit_bytes:
            raise TooLarge(self.url, self.limit_bytes)
        self._buffer += data

    def _decode_error(self) -> FetchError:
        return FetchError(self.url, f"could not decode {self.encoding} body", transient=False)


def _single_encoding(url: str, header: str) -> str:
    codings = [c.strip().lower() for c in header.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return "identity"
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return codings[0]
    raise FetchError(url, f"unsupported content encoding {header.strip()}", transient=False)
