"""Opening a capture for indexing, pipes included: a pipe is spooled to a temporary file.

Why: the UI indexes a capture and re-reads each record later with `os.pread` (see
`lazy.py`), which a pipe, a FIFO or a process substitution (`flowtui <(cat x.flows)`)
cannot do. `SpooledPipe` reads the pipe as a stream and keeps every byte it read in an
anonymous temporary file (in ``$TMPDIR``, gone when the last reference closes, even
after a crash), whose descriptor it hands out as its own: records already read are
re-read from there, and indexing goes on from the pipe as its bytes arrive.
"""

from __future__ import annotations

import errno
import io
import os
import select
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from flowtui.io.errors import FlowReadException

__all__ = ["SpooledPipe", "is_stream", "open_capture"]

_READ = 1 << 16


def is_stream(path: Path) -> bool:
    """Whether `path` is something other than a regular file or a directory (a FIFO, a
    pipe such as ``/dev/fd/63``, a character device): read once, as a stream."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def open_capture(path: Path) -> BinaryIO:
    """`path` opened for reading: the file itself, or a `SpooledPipe` over a stream; a HAR
    file as its entries in mitmproxy's format (a temporary file), so that readers that
    index records by offset work on it as on any capture."""
    fileobj: BinaryIO = path.open("rb")
    try:
        regular = stat.S_ISREG(os.fstat(fileobj.fileno()).st_mode)
        if not regular:
            fileobj = SpooledPipe(fileobj)  # type: ignore[assignment]  # a BinaryIO in all but name
        return _har_converted(fileobj, str(path))
    except BaseException:
        fileobj.close()
        raise


def _har_converted(fileobj: BinaryIO, name: str) -> BinaryIO:
    """`fileobj` itself, or for a HAR file a temporary mitmproxy capture of its entries.
    A HAR that does not convert is handed back as it is: reading it reports where it
    is damaged."""
    from flowtui.io.har import looks_like_har
    from flowtui.io.reader import har_as_mitmproxy

    head = fileobj.read(16)
    fileobj.seek(0)
    if not looks_like_har(head):
        return fileobj
    try:
        data = har_as_mitmproxy(fileobj.read(), name)
    except FlowReadException:
        fileobj.seek(0)
        return fileobj
    converted = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    converted.write(data)
    converted.seek(0)
    fileobj.close()
    return converted


class SpooledPipe(io.RawIOBase):
    """A pipe read once, every byte kept in a temporary file as it is read.

    `fileno()` is the temporary file's, so `os.pread` and `os.fstat` see what was read
    so far. It says it cannot seek, so readers stream it instead of seeking by its
    size, but `seek()` works: back into what was read, or on by reading the pipe.
    """

    def __init__(self, pipe: BinaryIO) -> None:
        super().__init__()
        self._pipe = pipe
        # Unbuffered (nothing was read through the buffer yet): one read returns what
        # the pipe holds now, and `select` on it tells the truth about what is waiting.
        self._read_pipe = getattr(pipe, "raw", pipe).read
        self.on_wait: Callable[[], object] | None = None
        """Called before a read that would wait for the pipe's writer: a reader that
        holds back results (the UI's loader batches them) hands them out first, so a
        pipe that pauses still shows everything that came before the pause."""
        self.cancelled: Callable[[], bool] | None = None
        """Asked while waiting for the pipe's writer; True stops the wait (`OSError`)."""
        try:
            self._spool = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 (closed in close())
        except OSError as e:
            raise OSError(
                e.errno, f"cannot make a temporary file for the pipe in {tempfile.gettempdir()}"
            ) from e
        self._fd = self._spool.fileno()
        self._size = 0
        """Bytes read from the pipe and kept."""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd

    def tell(self) -> int:
        return self._pos

    @property
    def spooled(self) -> int:
        """Bytes read from the pipe so far (all of them kept)."""
        return self._size

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        target = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos}.get(whence)
        if target is None:
            raise io.UnsupportedOperation("a pipe cannot seek from its end")
        target += offset
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        while self._size < target and self._spool_more(target - self._size):
            pass
        self._pos = min(target, self._size)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        if size == 0:
            return b""
        if self._pos >= self._size and not self._spool_more(size):
            return b""
        data = os.pread(self._fd, min(size, self._size - self._pos), self._pos)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(1 << 20):
            parts.append(chunk)
        return b"".join(parts)

    def _spool_more(self, want: int) -> bool:
        """Read up to `want` more bytes from the pipe into the spool; False at its end."""
        if not self._ready():
            if self.on_wait is not None:
                self.on_wait()
            while self.cancelled is not None and not self._ready(0.2):
                if self.cancelled():  # the app quits: do not wait for the writer
                    raise OSError(errno.ECANCELED, "stopped reading the pipe")
        data = self._read_pipe(max(min(want, 1 << 20), _READ))
        if not data:
            return False
        try:
            os.pwrite(self._fd, data, self._size)
        except OSError as e:
            where = tempfile.gettempdir()
            raise OSError(e.errno, f"cannot keep the pipe's data in {where}: {e.strerror}") from e
        self._size += len(data)
        return True

    def _ready(self, timeout: float = 0) -> bool:
        """Whether a read from the pipe would return at once (data or its end),
        waiting up to `timeout` seconds for it."""
        try:
            ready, _, _ = select.select([self._pipe], [], [], timeout)
        except (OSError, ValueError):
            return True
        return bool(ready)

    def close(self) -> None:
        if not self.closed:
            self._pipe.close()
            self._spool.close()
        super().close()
