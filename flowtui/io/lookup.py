"""Finding the last copy of given flows in a capture that a proxy appends to.

Why: a proxy recording with ``-w`` (or mitmproxy's ``save_stream_file``) appends a flow
when it closes, and appends it again whenever it changes afterwards (a comment, a
mark): the *last* record with an id is the flow as the proxy last knew it. The file may
be gigabytes and still growing, so it is read once, record by record, with the
capture's own framing (`FlowReader.records`), and only a record that can be one of the
wanted flows is looked at more closely: in mitmproxy's format one whose bytes contain
the id (then its id is skimmed, not decoded), in flowtui's one whose stored summary
names it. Only the last copy of each id is decoded, at the end, from where it is in
the file. Reading stops at the file's size when the search began (the proxy may be
writing a record at its end meanwhile), at damage (what was found before it counts),
or when the caller's `threading.Event` is set.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flowtui.core import Flow
from flowtui.io.detect import CaptureFormat
from flowtui.io.errors import FlowReadException
from flowtui.io.lazy import CaptureFile, RecordRef, _ref_of
from flowtui.io.reader import FlowReader, flow_from_record
from flowtui.io.records import RawRecord, RecordDecodeError
from flowtui.io.skim import skim
from flowtui.io.tnetstring import TNetStringError

__all__ = ["Lookup", "last_copies"]


@dataclass
class Lookup:
    """What a search for flows in a capture found."""

    path: str
    """The file searched."""
    size: int
    """Its size when the search began: what was read of it."""
    found: dict[str, Flow] = field(default_factory=dict)
    """The last copy of each wanted id that is in the file."""
    copies: dict[str, int] = field(default_factory=dict)
    """How many copies of each found id the file holds (the last one is in `found`)."""
    records: int = 0
    """How many records were read."""
    stopped: FlowReadException | None = None
    """The damage the reading stopped at, if it did not reach `size` (copies after it,
    if any, are not found)."""
    unreadable: dict[str, FlowReadException] = field(default_factory=dict)
    """The ids whose last copy does not decode, and why."""
    too_big: dict[str, int] = field(default_factory=dict)
    """The ids whose last copy was not decoded: its record's length (past `max_record`)."""
    cancelled: bool = False
    """The caller cancelled the search: `found` holds only what was found by then."""


class _Upto(io.RawIOBase):
    """The first `size` bytes of a file, read with `os.pread` (its own position; the
    proxy appending meanwhile changes nothing of what this reads)."""

    def __init__(self, fd: int, size: int) -> None:
        super().__init__()
        self._fd, self._size, self._pos = fd, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        data = os.pread(self._fd, n, self._pos)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _id_of(record: RawRecord, fmt: CaptureFormat | None, name: str) -> str | None:
    """The flow id of a record that may be a wanted one (its bytes named it)."""
    if record.summary is not None and isinstance(record.summary.get("id"), str):
        return str(record.summary["id"])
    if fmt is CaptureFormat.MITMPROXY:
        try:
            found = skim(record.payload).get("id")
        except (TNetStringError, RecursionError):
            found = None
        if isinstance(found, str):
            return found
    try:
        return flow_from_record(record, name, fmt).id
    except (FlowReadException, RecordDecodeError):
        return None


def last_copies(
    path: str | Path,
    ids: Collection[str],
    *,
    max_record: int | None = None,
    cancel: threading.Event | None = None,
) -> Lookup:
    """The last copy of each flow in `ids` that the capture at `path` holds (see the
    module's docstring); a last copy whose record is longer than `max_record` bytes is
    not decoded (`Lookup.too_big`). Raises `FlowReadException` naming the file when it
    cannot be opened or is no capture; damage further on ends the search
    (`Lookup.stopped`)."""
    name = str(path)
    try:
        fileobj: BinaryIO = Path(path).open("rb")  # noqa: SIM115  # closed below
    except OSError as e:
        raise FlowReadException(f"cannot open: {e.strerror or e}", path=name) from e
    with fileobj:
        fd = fileobj.fileno()
        size = os.fstat(fd).st_size
        lookup = Lookup(name, size)
        wanted = {i: i.encode() for i in ids}
        reader = FlowReader(io.BufferedReader(_Upto(fd, size), 1 << 20), name=name)
        last: dict[str, RecordRef | Flow] = {}
        file: CaptureFile | None = None
        try:
            for record in reader.records(with_state=False):
                if cancel is not None and cancel.is_set():
                    lookup.cancelled = True
                    break
                lookup.records += 1
                fmt = reader.format
                if fmt is CaptureFormat.MITMPROXY and not any(
                    needle in record.payload for needle in wanted.values()
                ):
                    continue  # the cheap test: a flow's record holds its id
                flow_id = _id_of(record, fmt, name)
                if flow_id not in wanted:
                    continue
                lookup.copies[flow_id] = lookup.copies.get(flow_id, 0) + 1
                if fmt is CaptureFormat.HAR:  # no offsets to come back to: keep the flow
                    last[flow_id] = flow_from_record(record, name, fmt)
                    continue
                if file is None:
                    assert fmt is not None
                    file = CaptureFile(fileobj, name, fmt)
                last[flow_id] = _ref_of(record, file)
        except FlowReadException as e:
            if reader.format is None:
                raise  # not a capture at all
            lookup.stopped = e
        for flow_id, where in last.items():
            limit = max_record if isinstance(where, RecordRef) else None
            if isinstance(where, RecordRef) and limit is not None and where.raw_length > limit:
                lookup.too_big[flow_id] = where.raw_length
                continue
            try:
                lookup.found[flow_id] = where if isinstance(where, Flow) else where.load()
            except FlowReadException as e:
                lookup.unreadable[flow_id] = e
        return lookup
