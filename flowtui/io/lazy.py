"""Lazy captures: an index of (id, summary, where the record is), flows decoded on demand.

`index_capture()` reads a capture once, record by record, and yields an `IndexEntry`
per flow without building Flow objects where it can (TCP/UDP, format 21: skimmed, see
`skim.py`; flowtui's format: its msgpack state). Every other record is decoded fully,
summarised and dropped. A `RecordRef` re-reads its record with `os.pread` (no shared
file position, so the UI thread and a filter worker may read at once), decodes it with
the same code as `FlowReader.stream()`, and hands out its raw bytes for saving.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flowtui.core import Flow
from flowtui.core.summary import FlowSummary, summarize, summarize_skim
from flowtui.io import mitmproxy_format, native_format
from flowtui.io.detect import CaptureFormat
from flowtui.io.errors import FlowReadException
from flowtui.io.reader import FlowReader, flow_from_record
from flowtui.io.records import RawRecord, RecordDecodeError
from flowtui.io.skim import skim
from flowtui.io.tnetstring import TNetStringError

__all__ = ["CaptureFile", "CaptureIndexer", "IndexEntry", "RecordRef"]


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

    def load(self) -> Flow:
        """A fresh Flow decoded from the record (FlowReadException if it went bad)."""
        data = self.file.read(self.state_offset, self.state_length)
        if self.file.format is CaptureFormat.MITMPROXY:
            decoder: Callable[[bytes], Any] = mitmproxy_format.decode_record
        else:
            decoder = native_format.decode_state
        record = RawRecord(self.index, self.offset, data, decoder, self.state_offset)
        return flow_from_record(record, self.file.name, self.file.format)


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One indexed flow."""

    id: str
    """The flow id."""
    summary: FlowSummary
    """What the list and summary filters need."""
    ref: RecordRef
    """How to decode it when it is opened."""


def _entry(record: RawRecord, file: CaptureFile, skimmed: Any) -> IndexEntry:
    if file.format is CaptureFormat.MITMPROXY:
        raw_length = len(record.payload)
        state_offset, state_length = record.offset, raw_length
    else:
        state_offset, state_length = record.payload_offset, len(record.payload)
        raw_length = state_offset + state_length - record.offset
    ref = RecordRef(file, record.index, record.offset, raw_length, state_offset, state_length)
    summary = summarize_skim(skimmed)
    if summary is not None and isinstance(skimmed.get("id"), str):
        return IndexEntry(skimmed["id"], summary, ref)
    flow = flow_from_record(record, file.name, file.format)
    return IndexEntry(flow.id, summarize(flow), ref)


class CaptureIndexer:
    """Indexes one capture: iterate `entries()`; `format` and `tell()` report on it."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        try:
            self.fileobj: BinaryIO = path.open("rb")
        except OSError as e:
            raise FlowReadException(f"cannot open: {e.strerror or e}", path=self.name) from e
        self._reader = FlowReader(self.fileobj, name=self.name)
        self.file: CaptureFile | None = None
        """The open capture the entries read from (None until the first record)."""

    @property
    def format(self) -> CaptureFormat | None:
        """The detected format, once reading started."""
        return self._reader.format

    def tell(self) -> int:
        """How far into the file the index got (bytes)."""
        try:
            return self.fileobj.tell()
        except (OSError, ValueError):
            return 0

    def entries(self) -> Iterator[IndexEntry]:
        """Every flow in file order; raises FlowReadException at damage (after yielding
        every good flow before it). The file stays open while entries refer to it."""
        reader = self._reader
        try:
            for record in reader.records():
                if self.file is None:
                    assert reader.format is not None
                    self.file = CaptureFile(self.fileobj, self.name, reader.format)
                if reader.format is CaptureFormat.MITMPROXY:
                    try:
                        skimmed = skim(record.payload)
                    except (TNetStringError, RecursionError):
                        skimmed = None
                else:
                    try:
                        skimmed = record.decode()
                    except RecordDecodeError:
                        skimmed = None
                yield _entry(record, self.file, skimmed)
        finally:
            if self.file is None:
                self.fileobj.close()
