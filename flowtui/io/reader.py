"""Reading captures of any supported format into flows (mitmproxy's ``FlowReader`` API)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from flowtui.core import Flow, UnknownFlow
from flowtui.io import mitmproxy_format, native_format, tnetstring
from flowtui.io.compat import MigrationError, UnsupportedVersionError, migrate_flow
from flowtui.io.detect import PEEK_SIZE, CaptureFormat, UnsupportedFormat, detect_format
from flowtui.io.errors import FlowReadException
from flowtui.io.har import har_flows
from flowtui.io.records import RawRecord, RecordDecodeError
from flowtui.io.source import ByteSource

__all__ = ["FlowReader", "flow_from_record", "preview_from_record", "read_flows"]


class FlowReader:
    """Streams the flows of a capture, whatever its format (detected from the content).

    ``stream()`` yields every good flow, then raises FlowReadException at the first damage.
    Records that frame correctly but do not model as a flow (unknown type, invalid fields)
    come out as ``UnknownFlow`` so that saving keeps them.
    """

    def __init__(self, fileobj: BinaryIO, name: str | None = None) -> None:
        self.fileobj = fileobj
        if name is None:
            raw = getattr(fileobj, "name", None)
            name = str(raw) if isinstance(raw, str | Path) else None
        self.name = name
        """The file name used in error messages."""
        self.format: CaptureFormat | None = None
        """The detected format, once ``stream()`` has started."""
        self.meta: dict[str, Any] = {}
        """The header metadata of a flowtui capture."""

    def records(self, *, with_state: bool = True) -> Generator[RawRecord, None, None]:
        """The framed records, undecoded (``with_state=False`` skips flowtui states)."""
        src = ByteSource(self.fileobj)
        try:
            head = src.peek(PEEK_SIZE)
            try:
                self.format = detect_format(head)
            except UnsupportedFormat as e:
                raise FlowReadException(str(e), path=self.name, offset=0) from None
            if self.format is CaptureFormat.MITMPROXY:
                yield from mitmproxy_format.read_records(src, self.name)
            elif self.format is CaptureFormat.FLOWTUI:
                self.meta = native_format.read_header(src, self.name)
                yield from native_format.read_records(src, self.name, with_state=with_state)
            elif self.format is CaptureFormat.HAR:
                yield from _har_records(src, self.name)
        except OSError as e:
            raise FlowReadException(
                f"read error: {e.strerror or e}", path=self.name, offset=src.offset
            ) from e

    def states(self) -> Iterator[tuple[RawRecord, dict[str, Any]]]:
        """Each record with its state migrated to format 21 (not yet a Flow)."""
        for record in self.records():
            yield record, _migrated(record, self.name)

    def stream(self) -> Iterator[Flow]:
        """Yield the flows in file order (mitmproxy's ``FlowReader.stream``)."""
        for record in self.records():
            yield flow_from_record(record, self.name, self.format)


def har_as_mitmproxy(data: bytes, name: str | None) -> bytes:
    """A HAR file's entries as a mitmproxy capture (tnetstring records); raises
    FlowReadException naming the file and the entry."""
    return b"".join(tnetstring.dumps(flow.get_state()) for flow in har_flows(data, name))


def _read_all(src: ByteSource) -> bytes:
    parts = []
    while chunk := src.read(1 << 24):
        parts.append(chunk)
    return b"".join(parts)


def _har_records(src: ByteSource, name: str | None) -> Iterator[RawRecord]:
    """A HAR file's entries as records whose decoder hands out the entry's flow state
    (the whole JSON document is read first: a damaged one yields none)."""
    for index, flow in enumerate(har_flows(_read_all(src), name)):
        yield RawRecord(index, 0, b"", _state_of(flow), 0)


def _state_of(flow: Flow) -> Callable[[bytes], Any]:
    """A record decoder handing out a fresh state of `flow`."""

    def decode(_: bytes) -> Any:
        return flow.get_state()

    return decode


def flow_from_record(record: RawRecord, name: str | None, fmt: CaptureFormat | None) -> Flow:
    """One framed record as a flow, migrated to format 21; a record that frames but does
    not model comes back as an `UnknownFlow`, kept as written so saving reproduces it.

    The one place records become flows: `FlowReader.stream()` and lazy captures share it.
    """
    state = _migrated(record, name)
    try:
        return Flow.from_state(state)
    except Exception as e:  # whatever a record holds, it costs that record alone
        reason = str(e) or type(e).__name__
    raw = _decode(record, name)
    if fmt is CaptureFormat.MITMPROXY:
        raw = _in_written_order(raw)
    return UnknownFlow.from_raw(raw, reason, source=name, offset=record.offset, index=record.index)


def preview_from_record(record: RawRecord, name: str | None) -> Flow | None:
    """A record whose decoder keeps only part of it (a big flow's first messages) as a
    flow to show, or None if that does not model: the whole record's `flow_from_record`
    then says what is wrong, so a preview never reports errors of its own."""
    try:
        return Flow.from_state(_migrated(record, name))
    except Exception:  # best effort by design, see above
        return None


def _migrated(record: RawRecord, name: str | None) -> dict[str, Any]:
    """The record's state at format 21 (as read when it cannot be migrated)."""
    state = _decode(record, name)
    try:
        return migrate_flow(state)
    except UnsupportedVersionError as e:
        raise _error(record, name, str(e)) from None
    except MigrationError:
        return state


def _decode(record: RawRecord, name: str | None) -> dict[str, Any]:
    """The record's state as a fresh dict, or FlowReadException."""
    try:
        state = record.decode()
    except RecordDecodeError as e:
        raise FlowReadException(
            f"corrupt record: {e.reason}",
            path=name,
            offset=record.payload_offset + e.offset,
            index=record.index,
        ) from None
    if not isinstance(state, dict):
        raise _error(record, name, f"record is a {type(state).__name__}, not a flow dict")
    return state


def _error(record: RawRecord, name: str | None, reason: str) -> FlowReadException:
    """A FlowReadException located at ``record``."""
    return FlowReadException(reason, path=name, offset=record.offset, index=record.index)


def _in_written_order(value: Any) -> Any:
    """A tnetstring value with every dict back in the order its writer had it.

    mitmproxy writes dict items in reverse order and reads them in file order; a record
    kept as read (UnknownFlow) is reversed back so that saving it gives the same bytes.
    """
    if isinstance(value, dict):
        return {k: _in_written_order(v) for k, v in reversed(value.items())}
    if isinstance(value, list):
        return [_in_written_order(v) for v in value]
    return value


def read_flows(path: str | Path) -> list[Flow]:
    """All flows of the capture at ``path``; raises FlowReadException (naming the file)."""
    p = Path(path)
    try:
        fileobj = p.open("rb")
    except OSError as e:
        raise FlowReadException(f"cannot open: {e.strerror or e}", path=str(path)) from e
    with fileobj:
        return list(FlowReader(fileobj, name=str(path)).stream())
