"""A buffered byte source over any binary file object that tracks its absolute offset.

It lets format detection look at the first bytes of pipes too, and it never allocates
more than the bytes actually read: a length prefix claiming 10 GB costs what the file holds.
"""

from __future__ import annotations

import os
from typing import BinaryIO

__all__ = ["ByteSource"]

_CHUNK = 1 << 16
_BIG_CHUNK = 1 << 20


class ByteSource:
    """Sequential reads with peeking and an ``offset`` counted from where reading began."""

    def __init__(self, fileobj: BinaryIO, offset: int = 0) -> None:
        self._fp = fileobj
        self._buf = b""
        self._pos = 0
        self._eof = False
        self.offset = offset
        """Number of bytes consumed so far (plus `offset`: where the file was when the
        source was made, for reading on from the middle of a file)."""

    def _fill(self, n: int) -> None:
        """Make at least ``n`` bytes available in the buffer unless the file ends first."""
        while len(self._buf) - self._pos < n and not self._eof:
            chunk = self._fp.read(max(n - (len(self._buf) - self._pos), _CHUNK))
            if not chunk:
                self._eof = True
                break
            self._buf = self._buf[self._pos :] + chunk
            self._pos = 0

    def peek(self, n: int) -> bytes:
        """Up to ``n`` upcoming bytes, without consuming them."""
        self._fill(n)
        return self._buf[self._pos : self._pos + n]

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at end of file), read in bounded chunks."""
        avail = len(self._buf) - self._pos
        if n <= avail or self._eof:
            data = self._buf[self._pos : self._pos + n]
            self._pos += len(data)
            self.offset += len(data)
            return data
        parts = [self._buf[self._pos :]]
        self._buf, self._pos = b"", 0
        remaining = n - avail
        while remaining > 0:
            chunk = self._fp.read(min(remaining, _BIG_CHUNK))
            if not chunk:
                self._eof = True
                break
            parts.append(chunk)
            remaining -= len(chunk)
        data = b"".join(parts)
        self.offset += len(data)
        return data

    def skip(self, n: int) -> int:
        """Consume up to ``n`` bytes without keeping them (seeking when possible)."""
        avail = len(self._buf) - self._pos
        if n <= avail:
            self._pos += n
            self.offset += n
            return n
        skipped = avail
        self._buf, self._pos = b"", 0
        if not self._eof and _seekable(self._fp):
            here = self._fp.tell()
            size = os.fstat(self._fp.fileno()).st_size if _has_fileno(self._fp) else None
            if size is None:
                size = self._fp.seek(0, os.SEEK_END)
            step = max(0, min(n - skipped, size - here))
            self._fp.seek(here + step)
            skipped += step
            if skipped < n:
                self._eof = True
        else:
            while skipped < n and not self._eof:
                chunk = self._fp.read(min(n - skipped, _BIG_CHUNK))
                if not chunk:
                    self._eof = True
                    break
                skipped += len(chunk)
        self.offset += skipped
        return skipped

    def at_eof(self) -> bool:
        """True when no byte is left."""
        return not self.peek(1)


def _seekable(fp: BinaryIO) -> bool:
    """Whether ``fp`` can seek (without raising on objects that lack the method)."""
    try:
        return bool(fp.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _has_fileno(fp: BinaryIO) -> bool:
    """Whether ``fp`` is backed by an OS file descriptor."""
    try:
        fp.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True
