"""Lazy captures: an index of (id, summary, where the record is), flows decoded on demand.

`index_capture()` reads a capture once, record by record, and yields an `IndexEntry`
per flow without building Flow objects where it can (TCP, UDP and HTTP, format 21:
skimmed, bodies as lengths, see `skim.py`; flowtui's format: its stored summary).
Every other record is decoded fully,
summarised and dropped. A `RecordRef` re-reads its record with `os.pread` (no shared
file position, so the UI thread and a filter worker may read at once), decodes it with
the same code as `FlowReader.stream()`, and hands out its raw bytes for saving.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flowtui.core import Flow
from flowtui.core.summary import FlowSummary, summarize, summarize_skim
from flowtui.io import mitmproxy_format, native_format, tnetstring
from flowtui.io.detect import CaptureFormat
from flowtui.io.errors import FlowReadException
from flowtui.io.index_pool import IndexPool, PoolError, chunked, frames, usable_cpus
from flowtui.io.reader import FlowReader, flow_from_record, preview_from_record
from flowtui.io.records import RawRecord, RecordDecodeError
from flowtui.io.skim import skim
from flowtui.io.source import ByteSource
from flowtui.io.spool import open_capture
from flowtui.io.summary import summary_from_index
from flowtui.io.tnetstring import TNetStringError

__all__ = ["CaptureFile", "CaptureIndexer", "IndexEntry", "RecordRef"]

PARALLEL_MIN_BYTES = 64 << 20
"""Below this a mitmproxy capture is skimmed in the indexing thread alone (starting
worker processes costs about a quarter of a second)."""
SEQUENTIAL_FIRST = 1000
"""Records read in the indexing thread before the workers take over: the first rows
show at once while the worker processes start."""
MAX_WORKERS = 8
HEAD_READ = 1 << 20
"""A preview of a bigger record reads this many bytes of it (its first messages), plus
in mitmproxy's format the fields after the message list: not the whole record."""


class CaptureFile:
    """An open capture that records are re-read from (kept open: a save that replaces
    the file leaves this descriptor on the old content)."""

    def __init__(self, fileobj: BinaryIO, name: str, fmt: CaptureFormat) -> None:
        self.fileobj = fileobj
        self.name = name
        """The file name for error messages."""
        self.format = fmt
        """The capture's format (raw records are copied only into the same format)."""
        self._fd = fileobj.fileno()
        self._stamp = self._stat()
        # Closed when the last record referring to it is gone (the store dropped them).
        weakref.finalize(self, fileobj.close)

    def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset` (thread-safe)."""
        data = os.pread(self._fd, length, offset)
        if len(data) < length:
            raise FlowReadException(
                f"the file changed: needs {length} bytes, {len(data)} left",
                path=self.name,
                offset=offset,
            )
        return data

    def _stat(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.fstat(self._fd)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def changed(self) -> bool:
        """Whether the file was written to since it was opened (its size or its
        modification time moved): then a copied record is decoded, not only framed."""
        return self._stat() != self._stamp


class RecordRef:
    """Where one flow's record is, and how to get it back."""

    __slots__ = ("file", "index", "offset", "raw_length", "state_length", "state_offset")

    def __init__(
        self,
        file: CaptureFile,
        index: int,
        offset: int,
        raw_length: int,
        state_offset: int,
        state_length: int,
    ) -> None:
        self.file, self.index, self.offset, self.raw_length = file, index, offset, raw_length
        self.state_offset, self.state_length = state_offset, state_length

    def raw(self) -> bytes:
        """The record's bytes exactly as in the file (for saving it unchanged)."""
        return self.file.read(self.offset, self.raw_length)

    def verified_raw(self) -> bytes:
        """`raw()`, after checking that the bytes are still this record: its framing (a
        tnetstring dict of exactly this length; flowtui's header and lengths) and, if the
        file was written to since it was opened, that it decodes (flowtui's: its
        checksum). A file changed in place under the same size would otherwise be copied
        shifted, and the save would be unreadable from there on; a record that was
        already damaged when the file was opened is copied as it is (nothing is lost).
        FlowReadException says where."""
        try:
            data = self.raw()
        except FlowReadException as e:
            raise FlowReadException(
                e.reason, path=self.file.name, offset=self.offset, index=self.index
            ) from None
        changed = self.file.changed()
        try:
            if self.file.format is CaptureFormat.MITMPROXY:
                length, start = tnetstring.parse_length_prefix(data, 0, len(data))
                if start + length + 1 != len(data) or data[-1:] != b"}":
                    raise RecordDecodeError("its framing does not match the record indexed")
                if changed:
                    mitmproxy_format.decode_record(data)
            else:
                native_format.check_framed(data, checksum=changed)
        except (tnetstring.TNetStringError, RecordDecodeError) as e:
            raise FlowReadException(
                e.reason, path=self.file.name, offset=self.offset, index=self.index
            ) from None
        return data

    def load(self) -> Flow:
        """A fresh Flow decoded from the record (FlowReadException if it went bad; a
        flowtui record's checksum is checked here, as the index pass skipped its state)."""
        data, at = self._payload()
        decoder: Callable[[bytes], Any] = (
            mitmproxy_format.decode_record
            if self.file.format is CaptureFormat.MITMPROXY
            else native_format.decode_framed
        )
        record = RawRecord(self.index, self.offset, data, decoder, at)
        return flow_from_record(record, self.file.name, self.file.format)

    def load_head(self, messages: int, size: int) -> Flow | None:
        """A preview of a message flow (TCP, UDP): decoded with only its first `messages`
        messages, fewer once they take `size` bytes; the rest of the record is skipped,
        not decoded, and past `HEAD_READ` bytes not even read. A big HTTP record (either
        format) previews with each body cut to its first `HEAD_READ` bytes (read only
        those; a flowtui record's checksum is then left to `load()`). None when the
        record has no message list or does not decode that way (`load()` says why)."""
        if self.raw_length > HEAD_READ:
            if self.file.format is CaptureFormat.MITMPROXY:
                if self._messages_first():
                    flow = self._sparse_head(messages, size, HEAD_READ)
                else:
                    flow = self.load_capped(HEAD_READ, "http")
            else:  # flowtui's: HTTP if its `type` (the second key) says so, read no further
                flow = self.load_capped(HEAD_READ, "http")
                if flow is None:
                    flow = self._sparse_head(messages, size, HEAD_READ)
            if flow is not None:
                return flow  # else a layout of its own: read it whole
        try:
            data, at = self._payload()
        except FlowReadException:
            return None
        head: Callable[[bytes, str, int, int], Any] = (
            mitmproxy_format.decode_record_head
            if self.file.format is CaptureFormat.MITMPROXY
            else native_format.decode_framed_head
        )

        def decoder(payload: bytes) -> Any:
            return head(payload, "messages", messages, size)

        return preview_from_record(RawRecord(self.index, self.offset, data, decoder, at), None)

    def _messages_first(self) -> bool:
        """True if the record's first key is `messages` (mitmproxy's TCP and UDP flows)."""
        head = self.file.read(self.state_offset, 32)
        colon = head.find(b":")
        return colon > 0 and head.startswith(b"8:messages;", colon + 1)

    def load_capped(self, cap: int, kind: str | None = None) -> Flow | None:
        """The flow of a record with every byte string longer than `cap` (an HTTP body, a
        WebSocket message; in flowtui's format a long text too) cut to its first `cap`
        bytes, which are all that is read of it: a preview of a flow with big bodies.
        None if the record does not decode that way (`load()` says why) or its type is
        not `kind`. A flowtui record's checksum covers all of it, so it is not checked
        here (`load()` does)."""
        file, base, total = self.file, self.state_offset, self.state_length

        def native(_: bytes) -> Any:
            head = file.read(self.offset, native_format.RECORD_HEADER_SIZE)
            native_format.check_header(head, self.raw_length, total)

            def read(at: int, length: int) -> bytes:
                return file.read(base + at, length)

            return native_format.decode_state_capped(read, total, cap, kind=kind)

        def decoder(_: bytes) -> Any:
            def read(at: int, length: int) -> bytes:
                return file.read(base + at, length)

            try:
                state = tnetstring.loads_capped(read, total, cap)
            except (tnetstring.TNetStringError, RecursionError) as e:
                raise RecordDecodeError(str(e), 0) from None
            if kind is not None and (not isinstance(state, dict) or state.get("type") != kind):
                raise RecordDecodeError(f"not a {kind} flow", 0)
            return state

        native_record = file.format is not CaptureFormat.MITMPROXY
        record = RawRecord(
            self.index, self.offset, b"", native if native_record else decoder, self.offset
        )
        return preview_from_record(record, None)

    def _payload(self) -> tuple[bytes, int]:
        """What a decoder reads, and where in the file it starts: the tnetstring state,
        or the whole flowtui record (its checksum covers header and summary too)."""
        if self.file.format is CaptureFormat.MITMPROXY:
            return self.file.read(self.state_offset, self.state_length), self.state_offset
        return self.file.read(self.offset, self.raw_length), self.offset

    def _sparse_head(self, messages: int, size: int, head: int) -> Flow | None:
        """`load_head` reading `head` bytes (and in mitmproxy's format the fields after
        the message list, which its writer puts first; flowtui's puts it last)."""
        head = min(head, self.raw_length)
        file, base = self.file, self.state_offset
        if file.format is CaptureFormat.MITMPROXY:

            def decoder(_: bytes) -> Any:
                def read(at: int, length: int) -> bytes:
                    return file.read(base + at, length)

                total = self.state_length
                args = ("messages", messages, size, head)
                return mitmproxy_format.decode_sparse_head(read, total, *args)

        else:

            def decoder(_: bytes) -> Any:
                prefix = file.read(self.offset, head)
                return native_format.decode_prefix_head(prefix, "messages", messages, size)

        record = RawRecord(self.index, self.offset, b"", decoder, self.offset)
        return preview_from_record(record, None)


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One indexed flow."""

    id: str
    """The flow id."""
    summary: FlowSummary
    """What the list and summary filters need."""
    ref: RecordRef
    """How to decode it when it is opened."""


def _ref_of(record: RawRecord, file: CaptureFile) -> RecordRef:
    """Where `record` is, for opening and copying it later."""
    if file.format is CaptureFormat.MITMPROXY:
        length = len(record.payload)
        return RecordRef(file, record.index, record.offset, length, record.offset, length)
    state_offset = record.payload_offset
    state_length = record.state_length if record.state_length >= 0 else len(record.payload)
    raw_length = state_offset + state_length - record.offset
    return RecordRef(file, record.index, record.offset, raw_length, state_offset, state_length)


def _entry(record: RawRecord, file: CaptureFile, skimmed: Any, ref: RecordRef) -> IndexEntry:
    summary = summarize_skim(skimmed)
    if summary is not None and isinstance(skimmed.get("id"), str):
        return IndexEntry(skimmed["id"], summary, ref)
    flow = flow_from_record(record, file.name, file.format)
    return IndexEntry(flow.id, summarize(flow), ref)


class CaptureIndexer:
    """Indexes one capture: iterate `entries()`; `format` and `tell()` report on it.

    A mitmproxy capture of at least `parallel_min` bytes is skimmed by `workers` worker
    processes (default: one per usable CPU, when there are at least two) after its first
    `SEQUENTIAL_FIRST` records, which this thread reads itself while they start.
    """

    def __init__(
        self, path: Path, *, workers: int | None = None, parallel_min: int = PARALLEL_MIN_BYTES
    ) -> None:
        self.name = str(path)
        try:
            self.fileobj: BinaryIO = open_capture(path)  # a pipe is spooled as it is read
        except OSError as e:
            raise FlowReadException(f"cannot open: {e.strerror or e}", path=self.name) from e
        self._reader = FlowReader(self.fileobj, name=self.name)
        self.file: CaptureFile | None = None
        """The open capture the entries read from (None until the first record)."""
        self.workers = min(usable_cpus(), MAX_WORKERS) if workers is None else workers
        """How many worker processes skim a large mitmproxy capture (below 2: none)."""
        self._parallel_min = parallel_min
        self._done: int | None = None
        self.pooled = 0
        """How many entries the worker processes summarised (the rest: this thread)."""
        self.stored = 0
        """How many entries came from summaries stored in a flowtui capture."""

    @property
    def format(self) -> CaptureFormat | None:
        """The detected format, once reading started."""
        return self._reader.format

    def tell(self) -> int:
        """How far into the file the index got (bytes)."""
        if self._done is not None:
            return self._done
        try:
            return self.fileobj.tell()
        except (OSError, ValueError):
            return 0

    def entries(self) -> Iterator[IndexEntry]:
        """Every flow in file order; raises FlowReadException at damage (after yielding
        every good flow before it). The file stays open while entries refer to it."""
        reader = self._reader
        pool: IndexPool | None = None
        try:
            records: Generator[RawRecord, None, None] = reader.records(with_state=False)
            for record in records:
                if self.file is None:
                    assert reader.format is not None
                    self.file = CaptureFile(self.fileobj, self.name, reader.format)
                    pool = self._start_pool()
                yield self._entry_of(record)
                if self.file.format is CaptureFormat.FLOWTUI:
                    records.close()
                    end = record.payload_offset + record.state_length
                    yield from self._scanned(end, record.index + 1)
                    return
                if pool is not None and record.index + 1 >= SEQUENTIAL_FIRST:
                    records.close()
                    end = record.offset + len(record.payload)
                    yield from self._pooled(pool, end, record.index + 1)
                    return
        finally:
            if pool is not None:
                pool.close()
            if self.file is None:
                self.fileobj.close()

    def _entry_of(self, record: RawRecord) -> IndexEntry:
        assert self.file is not None
        if self.file.format is CaptureFormat.MITMPROXY:
            try:
                skimmed = skim(record.payload)
            except (TNetStringError, RecursionError):
                skimmed = None
        else:
            stored = record.summary or {}
            summary = summary_from_index(stored.get("ix"))
            if summary is not None and isinstance(stored.get("id"), str):
                self.stored += 1
                return IndexEntry(stored["id"], summary, _ref_of(record, self.file))
            ref = _ref_of(record, self.file)  # where the record is, not the read below
            record = self._with_state(record)
            try:
                skimmed = record.decode()
            except RecordDecodeError:
                skimmed = None
            return _entry(record, self.file, skimmed, ref)
        return _entry(record, self.file, skimmed, _ref_of(record, self.file))

    def _with_state(self, record: RawRecord) -> RawRecord:
        """A flowtui record whose state the index pass skipped, read whole and decoded
        with its checksum checked (errors are located as when reading it in order)."""
        assert self.file is not None
        length = record.payload_offset + record.state_length - record.offset
        data = self.file.read(record.offset, length)
        return RawRecord(
            record.index,
            record.offset,
            data,
            native_format.decode_framed,
            record.offset,
            record.summary,
            record.state_length,
        )

    def _start_pool(self) -> IndexPool | None:
        """Worker processes for a large mitmproxy capture, or None."""
        if self.format is not CaptureFormat.MITMPROXY or self.workers < 2:
            return None
        try:
            if os.fstat(self.fileobj.fileno()).st_size < self._parallel_min:
                return None
            return IndexPool(self.fileobj.fileno(), self.name, self.workers)
        except (OSError, ValueError):
            return None  # no processes here (a sandbox, no /dev/shm): index in this thread

    def _pooled(self, pool: IndexPool, offset: int, index: int) -> Iterator[IndexEntry]:
        """The records from `offset` on, skimmed by the pool; whatever it does not get
        to (damage, the file grown since, workers failing) is read on in this thread."""
        file = self.file
        assert file is not None
        fd = self.fileobj.fileno()
        chunks = chunked(frames(fd, offset, os.fstat(fd).st_size))
        try:
            for chunk, answers in pool.skim(chunks):
                for (start, end), answer in zip(chunk, answers, strict=True):
                    if answer is None:
                        yield self._entry_of(self._record_at(start, index))
                    else:
                        length = end - start
                        ref = RecordRef(file, index, start, length, start, length)
                        self.pooled += 1
                        yield IndexEntry(answer[0], answer[1], ref)
                    offset, index = end, index + 1
                    self._done = offset
        except PoolError:
            pass
        finally:
            pool.close()
        yield from self._read_on(offset, index)

    def _scanned(self, offset: int, index: int) -> Iterator[IndexEntry]:
        """A flowtui capture's records from `offset` on, by their headers and summaries
        (`scan_summaries`); whatever it stops at is read on the careful way."""
        fd = self.fileobj.fileno()
        size = os.fstat(fd).st_size
        for record in native_format.scan_summaries(fd, offset, size, index):
            yield self._entry_of(record)
            offset, index = record.payload_offset + record.state_length, record.index + 1
            self._done = offset
        yield from self._read_on(offset, index)

    def _read_on(self, offset: int, index: int) -> Iterator[IndexEntry]:
        """The records from `offset` (record `index`) on, framed the careful way: what
        the fast paths stop at is reported precisely, after every good flow."""
        self._done = None
        for record in self._careful(offset, index):
            yield self._entry_of(record)

    def _record_at(self, offset: int, index: int) -> RawRecord:
        """The record at `offset`, framed the careful way (FlowReadException if bad)."""
        record = next(self._careful(offset, index), None)
        if record is None:
            raise FlowReadException(
                "the file changed while it was read", path=self.name, offset=offset, index=index
            )
        return record

    def _careful(self, offset: int, index: int) -> Iterator[RawRecord]:
        """The format's own record reader from `offset` on (records numbered from
        `index`; a flowtui state is skipped, not read)."""
        self.fileobj.seek(offset)
        src = ByteSource(self.fileobj, offset)
        if self.format is CaptureFormat.MITMPROXY:
            records = mitmproxy_format.read_records(src, self.name, index)
        else:
            records = native_format.read_records(
                src, self.name, with_state=False, first_index=index
            )
        try:
            yield from records
        except OSError as e:
            raise FlowReadException(
                f"read error: {e.strerror or e}", path=self.name, offset=src.offset
            ) from e
