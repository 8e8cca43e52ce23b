"""mitmproxy's capture format: a plain concatenation of tnetstring dicts, one per flow."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from flowtui.io import tnetstring
from flowtui.io.errors import FlowReadException
from flowtui.io.records import RawRecord, RecordDecodeError
from flowtui.io.source import ByteSource

__all__ = [
    "MitmproxyStateWriter",
    "decode_record",
    "decode_record_head",
    "decode_sparse_head",
    "read_records",
]

_TYPE_NAMES = {
    ord(","): "bytes",
    ord(";"): "text",
    ord("#"): "an integer",
    ord("^"): "a float",
    ord("!"): "a boolean",
    ord("~"): "null",
    ord("]"): "a list",
}


def decode_record(payload: bytes) -> Any:
    """Decode one complete tnetstring record into a fresh value."""
    return _decoded(tnetstring.loads, payload)


def decode_record_head(payload: bytes, list_key: str, items: int, size: int) -> Any:
    """Decode a record keeping only the head of its `list_key` list (see
    `tnetstring.loads_head`): a big flow's first messages, at once."""
    return _decoded(tnetstring.loads_head, payload, list_key, items, size)


def decode_sparse_head(
    read: Callable[[int, int], bytes], total: int, list_key: str, items: int, size: int, head: int
) -> Any:
    """`decode_record_head` reading only the record's first `head` bytes and what follows
    its first key's list (see `tnetstring.loads_head_sparse`)."""
    return _decoded(tnetstring.loads_head_sparse, read, total, list_key, items, size, head)


def _decoded(parse: Callable[..., Any], *args: Any) -> Any:
    """`parse(*args)`, its errors as RecordDecodeError (offsets into the record)."""
    try:
        return parse(*args)
    except tnetstring.TNetStringError as e:
        raise RecordDecodeError(e.reason, e.offset) from None
    except RecursionError:
        raise RecordDecodeError("value nested too deeply") from None


def read_records(src: ByteSource, path: str | None, first_index: int = 0) -> Iterator[RawRecord]:
    """Frame the records of a mitmproxy capture without decoding them (numbered from
    `first_index`, for reading on from a record in the middle).

    Stops at an exact end of file; raises FlowReadException at the first bad frame.
    """
    index = first_index
    while True:
        offset = src.offset
        head = src.peek(tnetstring.MAX_PREFIX_DIGITS + 1)
        if not head:
            return
        try:
            length, payload_start = tnetstring.parse_length_prefix(head, 0, len(head))
        except tnetstring.TNetStringError as e:
            reason = e.reason
            if e.truncated:
                reason = f"truncated record: {reason}"
            elif not head[:1].isdigit():
                reason = f"not a tnetstring record (starts with {head[:1]!r}): {reason}"
            raise FlowReadException(reason, path=path, offset=offset, index=index) from None
        src.skip(payload_start)
        body = src.read(length + 1)
        if len(body) < length + 1:
            raise FlowReadException(
                f"truncated record (needs {length + 1} bytes, {len(body)} left)",
                path=path,
                offset=offset,
                index=index,
            )
        tag = body[-1]
        if tag != ord("}"):
            what = _TYPE_NAMES.get(tag)
            reason = (
                f"record is {what}, not a flow dict"
                if what
                else f"invalid type tag {bytes((tag,))!r} at byte {offset + payload_start + length}"
            )
            raise FlowReadException(reason, path=path, offset=offset, index=index)
        yield RawRecord(
            index=index,
            offset=offset,
            payload=head[:payload_start] + body,
            decoder=decode_record,
            payload_offset=offset,
        )
        index += 1


class MitmproxyStateWriter:
    """Writes flow states as mitmproxy's tnetstring records (mitmproxy's FlowWriter layout)."""

    def __init__(self, fileobj: BinaryIO) -> None:
        self.fileobj = fileobj

    def add_state(self, state: dict[str, Any]) -> None:
        """Append one flow state; it is fully encoded before anything is written."""
        self.fileobj.write(tnetstring.dumps(state))
