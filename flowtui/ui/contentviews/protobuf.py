"""The protobuf view: a message decoded without its schema.

The wire format says each field's number and wire type but not what a
length-delimited field holds, so it is guessed, most specific first: text that is
printable UTF-8 is a string, bytes that parse exactly as a message are a nested
message, anything else is bytes (hex). Varints are shown unsigned (and as a negative
int64 when the top bit is set); fixed32/fixed64 as integers with their float reading.
gRPC bodies (`application/grpc`) are split into their length-prefixed messages first.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from flowtui.ui.contentviews.base import Context, Styles, ViewError, plain_line
from flowtui.ui.contentviews.tree import Key, Mapping, Shown, tree_lines
from flowtui.ui.safe_text import SafeText, clean

__all__ = ["Field", "ProtobufError", "decode_message", "protobuf_view"]

MAX_GUESS_DEPTH = 32
"""Length-delimited fields are tried as nested messages down to this depth."""

VARINT, FIXED64, LEN, GROUP_START, GROUP_END, FIXED32 = 0, 1, 2, 3, 4, 5


class ProtobufError(ValueError):
    """The bytes are not a protobuf message; `offset` is where decoding stopped."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at byte {offset}")
        self.offset = offset


@dataclass(frozen=True)
class Field:
    """One field as read from the wire."""

    number: int
    """The field number."""
    wire_type: int
    """0 varint, 1 fixed64, 2 length-delimited, 3 group, 5 fixed32."""
    value: int | bytes | list[Field]
    """The varint, the fixed bytes, the length-delimited bytes, or a group's fields."""


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    start = pos
    while pos < end:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes", start)
    raise ProtobufError("the data ends inside a varint", start)


def decode_message(
    data: bytes, start: int = 0, end: int | None = None, *, cut_ok: bool = False
) -> list[Field]:
    """The fields of the message in `data[start:end]`; raises `ProtobufError`.

    With `cut_ok` (a preview), a last field cut by the end of the data is dropped
    instead of being an error.
    """
    end = len(data) if end is None else end
    return _fields(data, start, end, None, cut_ok)[0]


def _fields(
    data: bytes, pos: int, end: int, group: int | None, cut_ok: bool
) -> tuple[list[Field], int, bool]:
    """Fields up to `end` (or up to the end-group of `group`): (fields, position, closed)."""
    fields: list[Field] = []
    while pos < end:
        field_start = pos
        try:
            key, pos = _varint(data, pos, end)
            number, wire = key >> 3, key & 7
            if number == 0 or number >= 1 << 29:
                raise ProtobufError(f"field number {number} is out of range", field_start)
            value: int | bytes | list[Field]
            if wire == VARINT:
                value, pos = _varint(data, pos, end)
            elif wire in (FIXED64, FIXED32):
                size = 8 if wire == FIXED64 else 4
                if pos + size > end:
                    raise ProtobufError(f"the data ends inside a {size}-byte field", field_start)
                value, pos = data[pos : pos + size], pos + size
            elif wire == LEN:
                length, pos = _varint(data, pos, end)
                if pos + length > end:
                    raise ProtobufError(
                        f"field {number}'s length {length} runs past the end", field_start
                    )
                value, pos = data[pos : pos + length], pos + length
            elif wire == GROUP_START:
                value, pos, closed = _fields(data, pos, end, number, cut_ok)
                if not closed:
                    raise ProtobufError(f"group {number} is not closed", field_start)
            elif wire == GROUP_END:
                if group != number:
                    raise ProtobufError(f"end of group {number} without its start", field_start)
                return fields, pos, True
            else:
                raise ProtobufError(f"wire type {wire} does not exist", field_start)
        except ProtobufError:
            if cut_ok and group is None:
                return fields, end, False
            raise
        fields.append(Field(number, wire, value))
    return fields, pos, group is None


def _printable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any((ch < " " and ch not in "\t\n\r") or ch == "\x7f" for ch in text):
        return None
    return text


def _guess(raw: bytes, depth: int) -> object:
    """A length-delimited value: a string, a nested message or bytes."""
    if not raw:
        return ""
    text = _printable(raw)
    if text is not None:
        return text
    if depth < MAX_GUESS_DEPTH:
        try:
            fields = decode_message(raw)
        except ProtobufError:
            pass
        else:
            return _tree(fields, depth + 1)
    return raw


def _fixed(raw: bytes) -> Shown:
    if len(raw) == 8:
        unsigned = struct.unpack("<Q", raw)[0]
        double = struct.unpack("<d", raw)[0]
        return Shown(f"{unsigned} (fixed64; double {double!r})", Styles.NUMBER)
    unsigned = struct.unpack("<I", raw)[0]
    single = struct.unpack("<f", raw)[0]
    return Shown(f"{unsigned} (fixed32; float {single!r})", Styles.NUMBER)


def _tree(fields: list[Field], depth: int) -> Mapping:
    items = Mapping()
    for field in fields:
        value: object
        raw = field.value
        if isinstance(raw, int):  # a varint
            text = str(raw)
            if raw >= 1 << 63:
                text += f" (int64 {raw - (1 << 64)})"
            value = Shown(text, Styles.NUMBER)
        elif isinstance(raw, list):  # a group
            value = _tree(raw, depth + 1)
        elif field.wire_type == LEN:
            value = _guess(raw, depth)
        else:
            value = _fixed(raw)
        items.append((Key(clean(str(field.number)), Styles.KEY), value))
    return items


def _grpc_messages(data: bytes) -> list[tuple[bool, bytes]] | None:
    """gRPC's length-prefixed messages `(compressed, message)`, or None if the body is
    not framed that way."""
    out: list[tuple[bool, bytes]] = []
    pos = 0
    while pos < len(data):
        if pos + 5 > len(data) or data[pos] > 1:
            return None
        length = int.from_bytes(data[pos + 1 : pos + 5], "big")
        if pos + 5 + length > len(data):
            return None
        out.append((data[pos] == 1, data[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    return out


def protobuf_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """The message's fields as a tree keyed by field number; raises `ViewError` where
    the bytes stop being protobuf."""
    if ctx.mime is not None and ctx.mime.startswith("application/grpc"):
        frames = _grpc_messages(data)
        if frames is not None:
            for index, (compressed, message) in enumerate(frames, 1):
                note = ", compressed: not decoded" if compressed else ""
                yield plain_line(
                    f"gRPC message {index}: {len(message):,} bytes{note}", Styles.HEADER
                )
                if compressed:
                    continue
                try:
                    fields = decode_message(message)
                except ProtobufError as exc:
                    raise ViewError(f"gRPC message {index} is not protobuf: {exc}") from exc
                yield from tree_lines(_tree(fields, 0))
            return
    try:
        fields = decode_message(data, cut_ok=not ctx.complete)
    except ProtobufError as exc:
        raise ViewError(f"not protobuf: {exc}") from exc
    yield from tree_lines(_tree(fields, 0))
