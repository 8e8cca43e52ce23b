"""flowtui's own capture format: a magic header, then length-prefixed msgpack records.

Layout (all integers big-endian; documented in docs/format.md):

    header  = MAGIC (12 bytes) | major u16 | minor u16 | meta_len u32 | meta (msgpack map)
    record  = b"FR" | kind u8 | flags u8 | summary_len u32 | state_len u32 | crc32 u32
              | summary (msgpack map, may be empty) | state (msgpack)

A record's lengths let an index pass skip it without decoding; its summary lets a flow
list be built without decoding the state. Appending records to a complete file is valid.
An integer beyond msgpack's 64 bits (mitmproxy's format allows any) is stored as the ext
type `EXT_BIG_INT`.
"""

from __future__ import annotations

import codecs
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import msgpack

from flowtui.io.errors import FlowReadException
from flowtui.io.records import RawRecord, RecordDecodeError
from flowtui.io.source import ByteSource
from flowtui.io.tnetstring import MAX_DEPTH

__all__ = [
    "FORMAT_VERSION",
    "KIND_FLOW",
    "MAGIC",
    "NativeStateWriter",
    "check_framed",
    "check_header",
    "decode_framed",
    "decode_framed_head",
    "decode_prefix_head",
    "decode_state",
    "decode_state_capped",
    "encode_header",
    "read_header",
    "read_records",
    "scan_summaries",
]

MAGIC = b"\x89FLOWTUI\r\n\x1a\n"
"""PNG-style magic: a non-ASCII first byte, then line-ending and EOF traps."""

FORMAT_VERSION = (1, 1)
"""(major, minor): readers reject another major; a newer minor only adds optional things."""

KIND_FLOW = 1
"""Record kind of a flow; readers skip kinds they do not know (room for index blocks)."""

_HEADER = struct.Struct(">12sHHI")
_RECORD = struct.Struct(">2sBBIII")
_RECORD_MARK = b"FR"
_MAX_META = 1 << 20
_MAX_SUMMARY = 1 << 20

HEADER_SIZE = _HEADER.size
RECORD_HEADER_SIZE = _RECORD.size


EXT_BIG_INT = 1
"""msgpack ext type of an integer beyond 64 bits (mitmproxy's format holds any size;
msgpack's ints stop at 64 bits): its data is the number in decimal ASCII."""


def _ext_hook(code: int, data: bytes) -> Any:
    """Decode flowtui's ext types; an unknown one stays a `msgpack.ExtType`."""
    if code == EXT_BIG_INT:
        try:
            return int(data.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise ValueError("invalid big integer") from None
    return msgpack.ExtType(code, data)


def _reason(e: Exception) -> str:
    """What a msgpack error says (some say nothing: then their kind does)."""
    if isinstance(e, msgpack.StackError | RecursionError):
        return "value nested too deeply"
    return str(e) or type(e).__name__


def _unpack(data: bytes) -> Any:
    """msgpack decoding that keeps bytes and text apart and allows any map keys."""
    return msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=True, ext_hook=_ext_hook)


def _big_ints(value: Any) -> Any:
    """`value` with every integer beyond 64 bits as an `EXT_BIG_INT` (msgpack cannot pack
    them; the rest packs as usual). Only called when plain packing overflowed."""
    if isinstance(value, int) and not isinstance(value, bool):
        if -(1 << 63) <= value < (1 << 64):
            return value
        return msgpack.ExtType(EXT_BIG_INT, str(value).encode("ascii"))
    if isinstance(value, dict):
        return {(_big_ints(k) if isinstance(k, int) else k): _big_ints(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_big_ints(v) for v in value]
    return value


def decode_state(payload: bytes) -> Any:
    """Decode a record's msgpack state into a fresh value."""
    try:
        state = _unpack(payload)
    except Exception as e:
        raise RecordDecodeError(f"invalid msgpack state: {_reason(e)}") from None
    if _deeper_than(state, MAX_DEPTH):
        raise RecordDecodeError(f"invalid msgpack state: nested deeper than {MAX_DEPTH} levels")
    return state


def _deeper_than(value: Any, limit: int) -> bool:
    """True if `value` nests containers more than `limit` levels deep: msgpack decodes
    deeper values than the recursive code after it (copying, comparing) can handle, so
    both formats stop at tnetstring's limit. One pass, level by level, no recursion."""
    level = [value]
    for _ in range(limit):
        inner: list[Any] = []
        for v in level:
            if type(v) is dict:
                inner.extend(v.values())
                inner.extend(k for k in v if type(k) is not str)
            elif type(v) is list:
                inner.extend(v)
        level = [v for v in inner if type(v) is dict or type(v) is list]
        if not level:
            return False
    return True


def decode_framed(record: bytes) -> Any:
    """Decode a whole record (header, summary, state) after checking its checksum: how a
    lazily opened record is read, since the index pass only read its summary."""
    return decode_state(bytes(_checked_state(record)))


def check_framed(record: bytes, *, checksum: bool = True) -> None:
    """Check a whole record's framing (and its checksum) without decoding it
    (RecordDecodeError if they do not hold): what saving checks before it copies a
    record byte for byte."""
    if checksum:
        _checked_state(record)
        return
    if len(record) < _RECORD.size:
        raise RecordDecodeError("truncated record header")
    mark, _kind, _flags, summary_len, state_len, _crc = _RECORD.unpack_from(record)
    if mark != _RECORD_MARK or _RECORD.size + summary_len + state_len != len(record):
        raise RecordDecodeError("record framing changed")


def decode_framed_head(record: bytes, list_key: str, items: int, size: int) -> Any:
    """`decode_framed` keeping only the head of the state's `list_key` list: `items`
    items, or fewer once they take `size` bytes (at least one). The rest is skipped
    without building values, so a big flow's first messages decode at once."""
    state = _checked_state(record)
    unpacker = _unpacker(state)
    try:
        result: dict[Any, Any] = {}
        found = False
        keys = unpacker.read_map_header()
        for left in range(keys - 1, -1, -1):
            key = unpacker.unpack()
            if key != list_key or found:
                result[key] = unpacker.unpack()
                continue
            found = True
            head, count = _array_head(unpacker, items, size)
            result[key] = head
            if not left:  # the last key (as flowtui writes it): the rest need not be read
                return result
            for _ in range(count - len(head)):
                unpacker.skip()
        if unpacker.tell() != len(state):
            raise ValueError("extra data after the state")
    except Exception as e:
        raise RecordDecodeError(f"invalid msgpack state: {_reason(e)}") from None
    if not found:
        raise RecordDecodeError(f"no {list_key!r} list")
    return result


def decode_prefix_head(prefix: bytes, list_key: str, items: int, size: int) -> Any:
    """`decode_framed_head` from the first bytes of a record only: its state's map must
    end with the `list_key` list (as flowtui writes `messages`), of which the items that
    lie whole in `prefix` are kept (at least one). The checksum covers the whole record,
    so it is not checked here: the whole record's decode that follows a preview does."""
    if len(prefix) < _RECORD.size:
        raise RecordDecodeError("truncated record header")
    mark, _kind, _flags, summary_len, _state_len, _crc = _RECORD.unpack_from(prefix)
    if mark != _RECORD_MARK:
        raise RecordDecodeError("record framing changed")
    unpacker = _unpacker(memoryview(prefix)[_RECORD.size + summary_len :])
    try:
        result: dict[Any, Any] = {}
        keys = unpacker.read_map_header()
        for left in range(keys - 1, -1, -1):
            key = unpacker.unpack()
            if key != list_key:
                result[key] = unpacker.unpack()
                continue
            if left:
                raise ValueError(f"{list_key!r} is not the last key")
            head, count = _array_head(unpacker, items, size, partial=True)
            if count and not head:
                raise ValueError("the first item is longer than the prefix read")
            result[key] = head
            return result
    except Exception as e:
        raise RecordDecodeError(f"invalid msgpack state: {_reason(e)}") from None
    raise RecordDecodeError(f"no {list_key!r} list")


def _unpacker(state: bytes | memoryview) -> msgpack.Unpacker:
    """A streaming `_unpack` over `state`, for reading it a piece at a time."""
    unpacker = msgpack.Unpacker(
        raw=False,
        strict_map_key=False,
        use_list=True,
        ext_hook=_ext_hook,
        max_buffer_size=max(len(state), 1),
    )
    unpacker.feed(state)
    return unpacker


def _array_head(
    unpacker: msgpack.Unpacker, items: int, size: int, *, partial: bool = False
) -> tuple[list[Any], int]:
    """The first items of the array next in `unpacker` (`items` of them, fewer once they
    take `size` bytes, at least one) and its length; `partial`: the data may end
    before, and the items end there."""
    count = unpacker.read_array_header()
    head: list[Any] = []
    first = unpacker.tell()
    while len(head) < min(count, items) and (not head or unpacker.tell() - first < size):
        try:
            head.append(unpacker.unpack())
        except msgpack.OutOfData:
            if not partial:
                raise
            break  # the next item runs past the data read
    return head, count


def check_header(head: bytes, length: int, state_length: int) -> None:
    """Check that `head` starts a flow record of `length` bytes in all, `state_length`
    of them its state (RecordDecodeError if not): what a preview that reads only part
    of it checks."""
    if len(head) < _RECORD.size:
        raise RecordDecodeError("truncated record header")
    mark, kind, _flags, summary_len, state_len, _crc = _RECORD.unpack_from(head)
    if (
        mark != _RECORD_MARK
        or kind != KIND_FLOW
        or _RECORD.size + summary_len + state_len != length
        or state_len != state_length
    ):
        raise RecordDecodeError("record framing changed")


def _checked_state(record: bytes) -> memoryview:
    """A whole record's state bytes, after checking its framing and checksum."""
    if len(record) < _RECORD.size:
        raise RecordDecodeError("truncated record header")
    mark, _kind, _flags, summary_len, state_len, crc = _RECORD.unpack_from(record)
    if mark != _RECORD_MARK or _RECORD.size + summary_len + state_len != len(record):
        raise RecordDecodeError("record framing changed")
    body = memoryview(record)[_RECORD.size :]
    if zlib.crc32(body) != crc:
        raise RecordDecodeError("checksum mismatch")
    return body[summary_len:]


def encode_header(meta: dict[str, Any] | None = None) -> bytes:
    """The file header: magic, version and a small metadata map."""
    meta_bytes: bytes = msgpack.packb(meta or {}, use_bin_type=True)
    return _HEADER.pack(MAGIC, *FORMAT_VERSION, len(meta_bytes)) + meta_bytes


def read_header(src: ByteSource, path: str | None) -> dict[str, Any]:
    """Consume and check the file header; return its metadata map."""

    def fail(reason: str) -> FlowReadException:
        return FlowReadException(reason, path=path, offset=0)

    head = src.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise fail(f"truncated flowtui header (needs {_HEADER.size} bytes, {len(head)} left)")
    magic, major, minor, meta_len = _HEADER.unpack(head)
    if magic != MAGIC:
        raise fail("not a flowtui capture (bad magic)")
    if major != FORMAT_VERSION[0]:
        ours = f"{FORMAT_VERSION[0]}.{FORMAT_VERSION[1]}"
        newer = "newer" if major > FORMAT_VERSION[0] else "older"
        raise fail(
            f"written by a {newer} flowtui: flowtui format version {major}.{minor}, "
            f"this flowtui reads {FORMAT_VERSION[0]}.x (up to {ours})"
        )
    if meta_len > _MAX_META:
        raise fail(f"header metadata of {meta_len} bytes is implausibly large")
    meta_bytes = src.read(meta_len)
    if len(meta_bytes) < meta_len:
        raise fail(f"truncated flowtui header (needs {meta_len} bytes, {len(meta_bytes)} left)")
    try:
        meta = _unpack(meta_bytes)
    except Exception as e:
        raise fail(f"corrupt flowtui header: {e}") from None
    if not isinstance(meta, dict):
        raise fail("corrupt flowtui header: metadata is not a map")
    return meta


def read_records(
    src: ByteSource, path: str | None, *, with_state: bool = True, first_index: int = 0
) -> Iterator[RawRecord]:
    """Frame the flow records after the header; with ``with_state=False`` skip the states
    (numbered from `first_index`, for reading on from a record in the middle).

    Raises FlowReadException at the first bad frame; every record before it was yielded.
    """
    index = first_index
    while True:
        offset = src.offset
        head = src.read(_RECORD.size)
        if not head:
            return

        def fail(reason: str, at: int = offset, index: int = index) -> FlowReadException:
            return FlowReadException(reason, path=path, offset=at, index=index)

        if len(head) < _RECORD.size:
            raise fail(f"truncated record header (needs {_RECORD.size} bytes, {len(head)} left)")
        mark, kind, flags, summary_len, state_len, crc = _RECORD.unpack(head)
        if mark != _RECORD_MARK:
            raise fail(f"corrupt data: expected a record marker, found {mark!r}")
        if flags != 0:
            raise fail(f"record uses unsupported features (flags {flags:#04x})")
        if summary_len > _MAX_SUMMARY:
            raise fail(f"record summary of {summary_len} bytes is implausibly large")
        if kind != KIND_FLOW:
            skipped = src.skip(summary_len + state_len)
            if skipped < summary_len + state_len:
                raise fail(_truncated(summary_len + state_len, skipped))
            continue
        summary_bytes = src.read(summary_len)
        if len(summary_bytes) < summary_len:
            raise fail(_truncated(summary_len + state_len, len(summary_bytes)))
        summary = _summary(summary_bytes)
        payload_offset = src.offset
        if with_state:
            payload = src.read(state_len)
            if len(payload) < state_len:
                raise fail(_truncated(summary_len + state_len, summary_len + len(payload)))
            if zlib.crc32(payload, zlib.crc32(summary_bytes)) != crc:
                raise fail("corrupt record: checksum mismatch")
        else:
            payload = b""
            skipped = src.skip(state_len)
            if skipped < state_len:
                raise fail(_truncated(summary_len + state_len, summary_len + skipped))
        yield RawRecord(
            index=index,
            offset=offset,
            payload=payload,
            decoder=decode_state,
            payload_offset=payload_offset,
            summary=summary,
            state_length=state_len,
        )
        index += 1


_PEEK = 4096
"""Bytes read at once for a record's header and summary (a summary is a few hundred)."""


def scan_summaries(fd: int, offset: int, size: int, first_index: int = 0) -> Iterator[RawRecord]:
    """The flow records from `offset` up to `size` with their summaries and no state,
    one `pread` each (the index pass of a large capture: no seek, no buffer).

    Stops quietly at the first record that looks wrong or runs past `size`; the caller
    reads on from there with `read_records`, which says precisely what is wrong.
    """
    index = first_index
    while offset < size:
        head = os.pread(fd, _PEEK, offset)
        if len(head) < _RECORD.size:
            return
        mark, kind, flags, summary_len, state_len, _crc = _RECORD.unpack_from(head)
        end = offset + _RECORD.size + summary_len + state_len
        if mark != _RECORD_MARK or flags != 0 or summary_len > _MAX_SUMMARY or end > size:
            return
        if kind == KIND_FLOW:
            data = head[_RECORD.size : _RECORD.size + summary_len]
            if len(data) < summary_len:
                data = os.pread(fd, summary_len, offset + _RECORD.size)
                if len(data) < summary_len:
                    return
            state_offset = offset + _RECORD.size + summary_len
            yield RawRecord(
                index, offset, b"", decode_state, state_offset, _summary(data), state_len
            )
            index += 1
        offset = end


def _truncated(needed: int, left: int) -> str:
    """The message for a record cut short."""
    return f"truncated record (needs {needed} bytes, {left} left)"


def _summary(data: bytes) -> dict[str, Any] | None:
    """Decode a record summary; a broken one is just absent (it is only a convenience)."""
    if not data:
        return None
    try:
        summary = _unpack(data)
    except Exception:
        return None
    return summary if isinstance(summary, dict) else None


class NativeStateWriter:
    """Writes flow states as flowtui records; ``header=False`` to append to an existing file."""

    def __init__(
        self, fileobj: BinaryIO, *, header: bool = True, meta: dict[str, Any] | None = None
    ) -> None:
        self.fileobj = fileobj
        self._packer = msgpack.Packer(use_bin_type=True)
        if header:
            fileobj.write(encode_header(meta))

    def add_state(self, state: Any, summary: dict[str, Any] | None = None) -> None:
        """Append one record; it is fully encoded before anything is written."""
        try:
            state_bytes = self._pack(state)
            summary_bytes = self._pack(summary) if summary else b""
            if len(summary_bytes) > _MAX_SUMMARY:  # readers refuse it: they decode the state
                summary_bytes = b""
        except Exception:
            self._packer = msgpack.Packer(use_bin_type=True)  # drop any half-packed data
            raise
        crc = zlib.crc32(state_bytes, zlib.crc32(summary_bytes))
        head = _RECORD.pack(_RECORD_MARK, KIND_FLOW, 0, len(summary_bytes), len(state_bytes), crc)
        self.fileobj.write(head + summary_bytes + state_bytes)

    def _pack(self, value: Any) -> bytes:
        """`value` packed, integers beyond 64 bits as `EXT_BIG_INT`."""
        try:
            packed: bytes = self._packer.pack(value)
        except OverflowError:
            self._packer = msgpack.Packer(use_bin_type=True)
            packed = self._packer.pack(_big_ints(value))
        return packed


CAPPED_CHUNK = 1 << 16
"""Bytes `decode_state_capped` reads at once for the structure and small values (it
starts with `_PEEK` and doubles up to this: a record that is not of the `kind` asked
for costs one small read)."""


def decode_state_capped(
    read: Callable[[int, int], bytes], total: int, cap: int, *, kind: str | None = None
) -> Any:
    """The `total`-byte msgpack state that `read(offset, length)` gives, with every bin
    and str longer than `cap` cut to its first `cap` bytes (a str to the last whole
    character in them), which are all that is read of it: a preview of a flow with big
    bodies, as `decode_state` gives it otherwise. `kind`: the state must be a map whose
    `type` is `kind`, and reading stops as soon as that key says otherwise.

    The checksum covers the whole record, so it is not checked: the whole decode that
    follows a preview does. RecordDecodeError if the state is damaged where it is read
    (what is skipped is not checked); lengths are checked against `total` before
    anything is built or read, and nesting stops at `MAX_DEPTH` as in `decode_state`."""
    reader = _CappedReader(read, total, cap, kind)
    try:
        state = reader.value(0)
        if reader.pos != total:
            raise ValueError(f"{total - reader.pos} bytes of extra data after the state")
    except RecordDecodeError:
        raise
    except Exception as e:
        raise RecordDecodeError(f"invalid msgpack state: {_reason(e)}") from None
    if kind is not None and (not isinstance(state, dict) or state.get("type") != kind):
        raise RecordDecodeError(f"not a {kind} flow")
    return state


_FIXED = {
    0xCA: struct.Struct(">f"),
    0xCB: struct.Struct(">d"),
    0xCC: struct.Struct(">B"),
    0xCD: struct.Struct(">H"),
    0xCE: struct.Struct(">I"),
    0xCF: struct.Struct(">Q"),
    0xD0: struct.Struct(">b"),
    0xD1: struct.Struct(">h"),
    0xD2: struct.Struct(">i"),
    0xD3: struct.Struct(">q"),
}
"""Numbers: their struct after the type byte."""
_LENGTH = {1: struct.Struct(">B"), 2: struct.Struct(">H"), 4: struct.Struct(">I")}
_SIZED = {
    # type byte: (what, bytes of its length)
    0xC4: ("bin", 1),
    0xC5: ("bin", 2),
    0xC6: ("bin", 4),
    0xC7: ("ext", 1),
    0xC8: ("ext", 2),
    0xC9: ("ext", 4),
    0xD9: ("str", 1),
    0xDA: ("str", 2),
    0xDB: ("str", 4),
    0xDC: ("array", 2),
    0xDD: ("array", 4),
    0xDE: ("map", 2),
    0xDF: ("map", 4),
}
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}


class _CappedReader:
    """The walk of `decode_state_capped`: a window of the state read `CAPPED_CHUNK`
    bytes at a time, long strings read (their head) past it."""

    def __init__(
        self, read: Callable[[int, int], bytes], total: int, cap: int, kind: str | None
    ) -> None:
        self._read, self.total, self.cap, self.kind = read, total, max(cap, 0), kind
        self.pos = 0
        self._buf = b""
        self._buf_at = 0
        self._chunk = _PEEK

    def _take(self, n: int) -> bytes:
        """The `n` bytes at `pos` (which moves past them)."""
        pos = self.pos
        if n > self.total - pos:
            raise ValueError(f"a value runs past the end of the state (at {pos})")
        start = pos - self._buf_at
        if start < 0 or start + n > len(self._buf):
            length = min(max(n, self._chunk), self.total - pos)
            self._chunk = min(2 * self._chunk, CAPPED_CHUNK)
            self._buf = self._read(pos, length)
            if len(self._buf) < length:
                raise ValueError(f"the state ends early (at {pos})")
            self._buf_at, start = pos, 0
        self.pos = pos + n
        return self._buf[start : start + n]

    def _head(self, n: int) -> bytes:
        """The first `cap` bytes of the `n` at `pos`, the rest skipped unread."""
        if n <= self.cap:
            return self._take(n)
        if n > self.total - self.pos:
            raise ValueError(f"a value runs past the end of the state (at {self.pos})")
        end = self.pos + n
        start = self.pos - self._buf_at
        if start >= 0 and start + self.cap <= len(self._buf):
            head = self._buf[start : start + self.cap]
        else:
            head = self._read(self.pos, self.cap)
            if len(head) < self.cap:
                raise ValueError(f"the state ends early (at {self.pos})")
        self.pos = end
        return head

    def _length(self, size: int) -> int:
        length: int = _LENGTH[size].unpack(self._take(size))[0]
        return length

    def value(self, depth: int) -> Any:
        """The value at `pos`, inside `depth` containers."""
        at = self.pos
        code = self._take(1)[0]
        if code <= 0x7F:
            return code
        if code >= 0xE0:
            return code - 0x100
        if 0xA0 <= code <= 0xBF:
            return self._str(code & 0x1F)
        if 0x80 <= code <= 0x9F:
            what, count = ("map" if code <= 0x8F else "array"), code & 0x0F
        elif code == 0xC0:
            return None
        elif code in (0xC2, 0xC3):
            return code == 0xC3
        elif code in _FIXED:
            fixed = _FIXED[code]
            return fixed.unpack(self._take(fixed.size))[0]
        elif code in _FIXEXT:
            return self._ext(_FIXEXT[code])
        elif code in _SIZED:
            what, size = _SIZED[code]
            count = self._length(size)
            if what == "bin":
                return self._head(count)
            if what == "str":
                return self._str(count)
            if what == "ext":
                return self._ext(count)
        else:
            raise ValueError(f"unknown msgpack type byte {code:#04x} (at {at})")
        if depth >= MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        # Every item takes at least a byte: a count beyond the bytes left is damage,
        # found before anything is built for it.
        if count * (2 if what == "map" else 1) > self.total - self.pos:
            raise ValueError(f"a {what} of {count} items runs past the end (at {at})")
        if what == "array":
            return [self.value(depth + 1) for _ in range(count)]
        result: dict[Any, Any] = {}
        for _ in range(count):
            key = self.value(depth + 1)
            item = self.value(depth + 1)
            try:
                result[key] = item
            except TypeError:
                raise ValueError(f"unhashable map key (at {at})") from None
            if depth == 0 and self.kind is not None and key == "type" and item != self.kind:
                raise RecordDecodeError(f"not a {self.kind} flow")
        return result

    def _str(self, n: int) -> str:
        data = self._head(n)
        if n <= self.cap:
            return data.decode("utf-8")
        # Cut: a character split at the cut is dropped, anything invalid before it is not.
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=False)

    def _ext(self, n: int) -> Any:
        code = struct.unpack(">b", self._take(1))[0]
        return _ext_hook(code, self._take(n))
