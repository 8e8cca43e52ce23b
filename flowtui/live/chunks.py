"""One relayed socket as the chunks its reads returned, without re-buffering.

Why: a recording relay keeps every byte it forwards. asyncio's `StreamReader` copies
each read into its own buffer and copies again on every `read()`, so a relayed byte was
copied twice more before it was stored (and the growing buffer was most of the relay's
time). Here the `bytes` object a read returned is what is recorded and what is written
to the other side: one copy, by the kernel. Flow control works as with streams:
reading pauses while more than `high` bytes wait to be taken, and `drain` waits while
the socket's own write buffer is full.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Any

__all__ = ["COMPACT_BELOW", "ChunkStream", "open_chunk_connection"]

COMPACT_BELOW = 64 * 1024
"""Reads smaller than this are copied to their own size before they are kept."""


class ChunkStream(asyncio.Protocol):
    """Both halves of one socket: `read` for what arrived, `write`/`drain` to send."""

    def __init__(
        self,
        high: int = 1024 * 1024,
        on_connected: Callable[[ChunkStream], None] | None = None,
    ) -> None:
        self.high = high
        """Reading pauses while more than this many received bytes wait in `read`."""
        self.transport: asyncio.Transport | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._waiting = 0
        self._eof = False
        self._lost: Exception | None = None
        self._closed = False
        self._read_paused = False
        self._write_paused = False
        self._reader: asyncio.Future[None] | None = None
        self._drainer: asyncio.Future[None] | None = None
        self._on_connected = on_connected

    # -- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self._on_connected is not None:
            self._on_connected(self)

    def data_received(self, data: bytes) -> None:
        if len(data) < COMPACT_BELOW:
            # A read is allocated at its largest size (256 kB) and shrunk, which keeps
            # whole pages: 10 bytes kept would hold 4 kB. A small one is copied to its
            # size (a flood of small messages cost 78 MB per 20,000 before).
            data = bytes(memoryview(data))
        self._chunks.append(data)
        self._waiting += len(data)
        if self._waiting > self.high and not self._read_paused and self.transport is not None:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        return True  # half-closed: the other direction may still be written

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = self._closed = True
        self._lost = exc
        self._wake_reader()
        drainer, self._drainer = self._drainer, None
        if drainer is not None and not drainer.done():
            drainer.set_exception(exc or ConnectionResetError("Connection lost"))

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        drainer, self._drainer = self._drainer, None
        if drainer is not None and not drainer.done():
            drainer.set_result(None)

    # -- reading ----------------------------------------------------------------------

    async def read(self) -> bytes:
        """The next chunk as it was received; ``b""`` at the end of the stream. Raises
        the error the connection was lost with, if any, once what arrived was read."""
        while not self._chunks:
            if self._eof:
                if self._lost is not None:
                    raise self._lost
                return b""
            self._reader = asyncio.get_running_loop().create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        data = self._chunks.popleft()
        self._waiting -= len(data)
        if self._read_paused and self._waiting <= self.high // 2 and self.transport is not None:
            self._read_paused = False
            self.transport.resume_reading()
        return data

    def _wake_reader(self) -> None:
        reader = self._reader
        if reader is not None and not reader.done():
            reader.set_result(None)

    # -- writing ----------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self._closed:
            self.transport.write(data)

    async def drain(self) -> None:
        """Wait while the socket's write buffer is over its high-water mark."""
        if self._closed:
            raise self._lost or ConnectionResetError("Connection lost")
        if not self._write_paused:
            return
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._drainer)

    def can_write_eof(self) -> bool:
        return self.transport is not None and self.transport.can_write_eof()

    def write_eof(self) -> None:
        if self.transport is not None and not self._closed:
            self.transport.write_eof()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default) if self.transport else default

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def open_chunk_connection(
    host: str | None = None, port: int | None = None, *, path: str | None = None
) -> ChunkStream:
    """Connect to ``host:port``, or to the Unix socket ``path``; the connected stream."""
    loop = asyncio.get_running_loop()
    if path is not None:
        _, stream = await loop.create_unix_connection(ChunkStream, path)
    else:
        assert host is not None and port is not None
        _, stream = await loop.create_connection(ChunkStream, host, port)
    return stream
